/// The decoded attributes of one received record, owned while the record is delivered.
///
/// Most records carry no attributes: for them the hold is empty, and ending it costs a test,
/// not a reference count (an `InboundAttributes?` released at the end of every delivery costs
/// a call into the runtime even when nil).
struct InboundAttributesHold: ~Copyable {
    /// Retained once, for this hold, when attributes travelled.
    private let reference: Unmanaged<InboundAttributes>?

    /// A hold of nothing: no attributes travelled.
    @inline(__always)
    init() {
        reference = nil
    }

    /// A hold of `attributes` (nil: nothing travelled).
    @inline(__always)
    init(_ attributes: consuming InboundAttributes?) {
        reference = attributes.map { Unmanaged.passRetained($0) }
    }

    deinit {
        reference?.release()
    }

    /// Runs `body` with the attributes, borrowed from the hold, when any travelled.
    @inline(__always)
    func withAttributes(_ body: (InboundAttributes) -> Void) {
        reference?._withUnsafeGuaranteedRef(body)
    }

    /// The attributes, as a reference of their own (for a message kept for later).
    consuming func take() -> InboundAttributes? {
        let reference = self.reference
        discard self
        return reference?.takeRetainedValue()
    }
}
