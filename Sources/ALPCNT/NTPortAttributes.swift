internal import ALPC
internal import CALPC

extension PortAttributes {
    /// The attributes a C caller gave, or `defaults` for NULL. A size limit of zero (what a
    /// zeroed ALPC_PORT_ATTRIBUTES holds) means no limit, as Windows programs that set only
    /// MaxMessageLength expect.
    init(c attributes: PALPC_PORT_ATTRIBUTES?, defaults: PortAttributes) {
        guard let attributes else {
            self = defaults
            return
        }
        var raw = attributes.pointee
        let unlimited: SIZE_T = 0xFFFF_FFFF
        if raw.MaxPoolUsage == 0 { raw.MaxPoolUsage = unlimited }
        if raw.MaxSectionSize == 0 { raw.MaxSectionSize = unlimited }
        if raw.MaxViewSize == 0 { raw.MaxViewSize = unlimited }
        if raw.MaxTotalSectionSize == 0 { raw.MaxTotalSectionSize = unlimited }
        self.init(raw: raw)
    }
}
