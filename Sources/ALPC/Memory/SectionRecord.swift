internal import Glibc

/// The identity of an open file: its device and inode numbers.
///
/// Two descriptors with the same identity reach the same memory, so a section received twice
/// (over two connections, or sent back to its creator) is recognised and mapped once.
struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
}

/// A whole-section mapping, shared by every view of the section in this process.
final class SectionMapping: @unchecked Sendable {
    let mapping: SharedMapping

    init(_ mapping: consuming SharedMapping) {
        self.mapping = mapping
    }

    /// The first byte of the section in this process.
    var base: UnsafeMutableRawPointer { mapping.base }
    /// The number of bytes mapped: the whole section.
    var size: Int { mapping.size }

    /// Whether `[address, address + length)` lies inside the mapping, `address` itself
    /// included: the address just past the end is the next mapping's, even for an empty range.
    func contains(_ address: UInt, length: UInt) -> Bool {
        let start = UInt(bitPattern: base)
        guard address >= start else { return false }
        let offset = address - start
        return offset < UInt(size) && length <= UInt(size) - offset
    }
}

/// A view handed out by `createSectionView`: a page-aligned region of a created section.
struct ViewRegion: Sendable, Equatable {
    /// The region's offset in the section.
    let offset: Int
    /// The size the caller asked for (the view's `ViewSize`).
    let size: Int
    /// The bytes the region occupies: `size` rounded up to whole pages.
    let extent: Int
}

/// One port section known to this process: a sealed memfd created here, or received from a
/// peer, with its mapping.
///
/// The record owns the memfd, and through ``mapping`` the whole-section mapping. All mutable
/// state is guarded by the ``SectionTable`` lock.
final class SectionRecord: @unchecked Sendable {
    /// Where the section comes from.
    enum Origin: Sendable {
        /// Created by this process with `createPortSection`.
        case created
        /// Received from a peer over a connection's control socket.
        case received
    }

    /// The section's id in this process: the `ALPC_HANDLE` of a created section, and the
    /// number a sender puts in the view attribute of its slot.
    let id: UInt64
    /// The memfd.
    let file: OwnedDescriptor
    /// The section's size in bytes (whole pages).
    let size: Int
    /// The memfd's identity.
    let identity: FileIdentity
    /// Where the section comes from.
    let origin: Origin

    // Guarded by the SectionTable lock.
    /// The whole-section mapping, or nil while unmapped (a received section is mapped on first
    /// use, and again after its view was released).
    var mapping: SectionMapping?
    /// The views of a created section, by offset.
    var views: [ViewRegion] = []
    /// How many owners keep the record in the table: its creator, and each connection that
    /// received it.
    var holders = 0
    /// Set when the creator deleted the section: no new view may be made or sent.
    var isDeleted = false

    init(id: UInt64, file: consuming OwnedDescriptor, size: Int, identity: FileIdentity, origin: Origin) {
        self.id = id
        self.file = file
        self.size = size
        self.identity = identity
        self.origin = origin
    }

    /// The view of this created section that contains `[address, address + length)`.
    func view(containing address: UInt, length: UInt) -> ViewRegion? {
        guard let mapping else { return nil }
        let start = UInt(bitPattern: mapping.base)
        guard address >= start else { return nil }
        let offset = address - start
        for view in views {
            let viewStart = UInt(view.offset)
            guard offset >= viewStart, length <= UInt(view.size) else { continue }
            if offset - viewStart <= UInt(view.size) - length { return view }
        }
        return nil
    }
}
