internal import CALPC
internal import CALPCSystem
internal import Glibc

/// Every port section this process knows, created here or received, keyed by id and by the
/// memfd's identity.
///
/// A section is mapped once per process, whole, and every view of it is an address inside that
/// mapping, so a view message costs no `mmap`. A section received again (over another
/// connection, or sent back to its creator) is found by its identity and reuses the record.
final class SectionTable: @unchecked Sendable {
    /// The process's table.
    static let shared = SectionTable()

    private let lock = ConditionLock()
    private var byId: [UInt64: SectionRecord] = [:]
    private var byIdentity: [FileIdentity: SectionRecord] = [:]
    private var nextId: UInt64 = 0

    /// The system page size.
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// The largest section a peer may send: 1 TiB, far above any port's limit.
    static let maxReceivedSize = 1 << 40

    /// `size` rounded up to whole pages; nil on overflow.
    static func pageRounded(_ size: Int) -> Int? {
        let page = pageSize
        guard size <= Int.max - page else { return nil }
        return (size + page - 1) / page * page
    }

    private func allocateIdLocked() -> UInt64 {
        nextId &+= 1
        return nextId
    }

    // MARK: Sections

    /// Creates a sealed memfd section of `size` bytes (whole pages), mapped in this process,
    /// with one holder: its creator.
    func create(size: Int) throws(NTStatus) -> SectionRecord {
        let fd = alpc_memfd_create("swiftalpc-section", UInt64(size))
        guard fd >= 0 else { throw fd == -ENOMEM || fd == -ENOSPC ? .noMemory : .insufficientResources }
        let file = OwnedDescriptor(adopting: fd)
        guard alpc_memfd_seal(fd) == 0 else { throw .insufficientResources }
        let identity = try Self.identity(of: fd)
        let mapping = SectionMapping(try SharedMapping(fd: fd, size: size))
        lock.lock()
        defer { lock.unlock() }
        let record = SectionRecord(id: allocateIdLocked(), file: file, size: size, identity: identity, origin: .created)
        record.mapping = mapping
        record.holders = 1
        byId[record.id] = record
        byIdentity[identity] = record
        return record
    }

    /// Takes a section received from a peer: checks that `file` is a memfd sealed against
    /// shrinking and growing, of exactly `size` bytes, and returns its record with one more
    /// holder. A section already known (by identity) is reused and `file` closed.
    func adopt(_ file: consuming OwnedDescriptor, size: Int) throws(NTStatus) -> SectionRecord {
        let fd = file.rawValue
        let seals = alpc_memfd_seals(fd)
        let required = ALPC_F_SEAL_SHRINK | ALPC_F_SEAL_GROW
        guard seals >= 0, seals & required == required else { throw .invalidHandle }
        var info = stat()
        guard fstat(fd, &info) == 0, size > 0, size <= Self.maxReceivedSize, Int(info.st_size) == size else {
            throw .invalidHandle
        }
        let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        lock.lock()
        defer { lock.unlock() }
        if let known = byIdentity[identity] {
            known.holders += 1
            return known
        }
        let record = SectionRecord(id: allocateIdLocked(), file: file, size: size, identity: identity, origin: .received)
        record.holders = 1
        byId[record.id] = record
        byIdentity[identity] = record
        return record
    }

    /// Drops one holder of `record`; the last one removes it from the table and unmaps it.
    func release(_ record: SectionRecord) {
        lock.withLock {
            record.holders -= 1
            guard record.holders <= 0 else { return }
            byId[record.id] = nil
            if byIdentity[record.identity] === record { byIdentity[record.identity] = nil }
            record.views.removeAll()
            record.mapping = nil
        }
    }

    /// Deletes a created section: its views end and it can no longer be sent; the creator's
    /// holder is dropped.
    func deleteCreated(_ record: SectionRecord) {
        lock.withLock {
            record.isDeleted = true
            record.views.removeAll()
        }
        release(record)
    }

    /// The record with id `id`, if this process still knows it.
    func record(id: UInt64) -> SectionRecord? {
        lock.withLock { byId[id] }
    }

    // MARK: Views

    /// Makes a view of `size` bytes in the created section `record`, in its first free region
    /// large enough, and returns its address.
    ///
    /// - Throws: ``NTStatus/invalidViewSize`` when no free region of the section holds it.
    func createView(in record: SectionRecord, size: Int) throws(NTStatus) -> UnsafeMutableRawPointer {
        guard size > 0, let extent = Self.pageRounded(size) else { throw .invalidViewSize }
        lock.lock()
        defer { lock.unlock() }
        guard !record.isDeleted, let mapping = record.mapping else { throw .invalidHandle }
        var candidate = 0
        var insertAt = record.views.count
        for (index, view) in record.views.enumerated() {
            if view.offset - candidate >= extent {
                insertAt = index
                break
            }
            candidate = view.offset + view.extent
        }
        guard candidate <= record.size, record.size - candidate >= extent else { throw .invalidViewSize }
        record.views.insert(ViewRegion(offset: candidate, size: size, extent: extent), at: insertAt)
        return mapping.base + candidate
    }

    /// Deletes the view at `base`: a view of a created section is freed; the view of a
    /// received section releases this process's mapping of it (it is mapped again when the
    /// next view of it arrives).
    ///
    /// - Returns: false when no view starts at `base`.
    func deleteView(at base: UnsafeMutableRawPointer) -> Bool {
        let address = UInt(bitPattern: base)
        return lock.withLock {
            for record in byId.values {
                guard let mapping = record.mapping, mapping.contains(address, length: 0) else { continue }
                switch record.origin {
                case .created:
                    let offset = Int(address - UInt(bitPattern: mapping.base))
                    guard let index = record.views.firstIndex(where: { $0.offset == offset }) else { return false }
                    record.views.remove(at: index)
                    return true
                case .received:
                    record.mapping = nil
                    return true
                }
            }
            return false
        }
    }

    /// Finds the section and offset of a view a sender names in its view attribute.
    ///
    /// With a nonzero `sectionHandle`, the view must lie in a view made by `createSectionView`
    /// of that created section. With 0 (a received view being sent back), it must lie in the
    /// mapping of a section this process knows.
    ///
    /// - Throws: ``NTStatus/invalidHandle`` for an unknown or deleted section handle;
    ///   ``NTStatus/invalidViewSize`` when the range lies outside every view.
    func locate(sectionHandle: UInt64, viewBase: UInt64, viewSize: UInt64) throws(NTStatus) -> (SectionRecord, Int) {
        guard viewBase != 0, viewSize != 0, viewBase <= UInt64(UInt.max), viewSize <= UInt64(UInt.max) else {
            throw .invalidViewSize
        }
        let address = UInt(viewBase)
        let length = UInt(viewSize)
        lock.lock()
        defer { lock.unlock() }
        if sectionHandle != 0 {
            guard let record = byId[sectionHandle], record.origin == .created, !record.isDeleted,
                let mapping = record.mapping
            else { throw .invalidHandle }
            guard record.view(containing: address, length: length) != nil else { throw .invalidViewSize }
            return (record, Int(address - UInt(bitPattern: mapping.base)))
        }
        for record in byId.values where !record.isDeleted {
            guard let mapping = record.mapping, mapping.contains(address, length: length) else { continue }
            if record.origin == .created && record.view(containing: address, length: length) == nil { continue }
            return (record, Int(address - UInt(bitPattern: mapping.base)))
        }
        throw .invalidViewSize
    }

    /// Adds a holder to `record`, which must still be in the table, and returns its address in
    /// this process, mapping it first if needed. Pair with ``release(_:)``.
    ///
    /// - Throws: ``NTStatus/invalidMessage`` when the record was released meanwhile.
    func retainMapped(_ record: SectionRecord) throws(NTStatus) -> UnsafeMutableRawPointer {
        lock.lock()
        defer { lock.unlock() }
        guard record.holders > 0 else { throw .invalidMessage }
        if record.mapping == nil {
            record.mapping = SectionMapping(try SharedMapping(fd: record.file.rawValue, size: record.size))
        }
        record.holders += 1
        return record.mapping!.base
    }

    /// Releases a view a sender marked ALPC_VIEWFLG_UNMAP_EXISTING: this process's mapping of
    /// a received section (mapped again when the next view of it arrives), or the view at
    /// `offset` of a created section.
    func releaseView(_ record: SectionRecord, offset: Int) {
        lock.withLock {
            switch record.origin {
            case .received:
                record.mapping = nil
            case .created:
                if let index = record.views.firstIndex(where: { offset >= $0.offset && offset < $0.offset + $0.extent }) {
                    record.views.remove(at: index)
                }
            }
        }
    }

    /// The number of sections this process knows, and how many are mapped (for tests).
    var counts: (sections: Int, mapped: Int) {
        lock.withLock { (byId.count, byId.values.filter { $0.mapping != nil }.count) }
    }

    private static func identity(of fd: Int32) throws(NTStatus) -> FileIdentity {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .invalidHandle }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}
