internal import CALPC

/// The sections one port created, with the port's limits on them.
///
/// Both ``AlpcClient`` and ``AlpcServer`` keep one; the sections go away with the port.
final class PortSections: @unchecked Sendable {
    private let lock = ConditionLock()
    private var sections: [UInt64: SectionRecord] = [:]
    private var totalSize = 0
    private let maxSectionSize: UInt64
    private let maxViewSize: UInt64
    private let maxTotalSectionSize: UInt64

    /// Sections limited by `attributes`' MaxSectionSize, MaxViewSize and MaxTotalSectionSize.
    init(attributes: PortAttributes) {
        maxSectionSize = attributes.raw.MaxSectionSize
        maxViewSize = attributes.raw.MaxViewSize
        maxTotalSectionSize = attributes.raw.MaxTotalSectionSize
    }

    deinit {
        for record in sections.values { SectionTable.shared.deleteCreated(record) }
    }

    /// NtAlpcCreatePortSection: a new section of at least `size` bytes.
    func create(size: Int, flags: UInt32) throws(NTStatus) -> AlpcSection {
        guard flags & ~ALPC_CREATEPORTSECTIONFLG_SECURE == 0 else { throw .invalidParameter }
        guard size > 0 else { throw .invalidParameter }
        guard UInt64(size) <= maxSectionSize, let actual = SectionTable.pageRounded(size) else { throw .sectionTooBig }
        try lock.withLock { () throws(NTStatus) in
            guard UInt64(totalSize) + UInt64(actual) <= maxTotalSectionSize else { throw .sectionTooBig }
            totalSize += actual
        }
        let record: SectionRecord
        do {
            record = try SectionTable.shared.create(size: actual)
        } catch {
            lock.withLock { totalSize -= actual }
            throw error
        }
        lock.withLock { sections[record.id] = record }
        return AlpcSection(handle: record.id, size: actual)
    }

    /// NtAlpcCreateSectionView: a view of `size` bytes (0: the whole section) in `section`.
    func createView(_ section: AlpcSection, size: Int) throws(NTStatus) -> DataView {
        guard let record = lock.withLock({ sections[section.handle] }) else { throw .invalidHandle }
        let viewSize = size == 0 ? record.size : size
        guard viewSize > 0, UInt64(viewSize) <= maxViewSize, viewSize <= record.size else { throw .invalidViewSize }
        let base = try SectionTable.shared.createView(in: record, size: viewSize)
        return DataView(sectionHandle: record.id, viewBase: base, viewSize: viewSize)
    }

    /// NtAlpcDeleteSectionView: the view starting at `base` ends.
    func deleteView(at base: UnsafeMutableRawPointer) throws(NTStatus) {
        guard SectionTable.shared.deleteView(at: base) else { throw .invalidParameter }
    }

    /// NtAlpcDeletePortSection: the section and its views end. Returns its id, so the port can
    /// tell the peers that were sent it.
    func delete(_ section: AlpcSection) throws(NTStatus) -> UInt64 {
        guard let record = lock.withLock({ () -> SectionRecord? in
            guard let record = sections.removeValue(forKey: section.handle) else { return nil }
            totalSize -= record.size
            return record
        }) else { throw .invalidHandle }
        SectionTable.shared.deleteCreated(record)
        return record.id
    }
}
