internal import CALPC
internal import CALPCSystem
internal import Synchronization

internal import Glibc

/// The shared memory of one connection: its header and the two rings, mapped in this process.
///
/// The server creates the segment as a sealed memfd and passes the descriptor to the client,
/// which validates the seals, the size and the header before trusting any of it.
struct ConnectionSegment: ~Copyable {
    let mapping: SharedMapping
    /// The memfd behind a segment this process created, kept to be sent to the peer.
    let file: OwnedDescriptor?
    /// The number of `file`, or -1 for a segment received from a peer.
    let fileDescriptor: Int32
    /// The validated shape of the segment.
    let geometry: SegmentGeometry

    /// Creates a new sealed segment for `geometry`; its `file` is the descriptor to send to the peer.
    static func create(geometry: SegmentGeometry, serverPid: Int32) throws(NTStatus) -> ConnectionSegment {
        let fd = alpc_memfd_create("swiftalpc-connection", UInt64(geometry.segmentSize))
        guard fd >= 0 else { throw fd == -ENOMEM || fd == -ENOSPC ? .noMemory : .insufficientResources }
        let owned = OwnedDescriptor(adopting: fd)
        guard alpc_memfd_seal(fd) == 0 else { throw .insufficientResources }
        let mapping = try SharedMapping(fd: fd, size: geometry.segmentSize)
        mapping.base.storeBytes(of: geometry.header(serverPid: serverPid), as: ALPC_SEGMENT_HEADER.self)
        return ConnectionSegment(mapping: mapping, geometry: geometry, file: owned, fileDescriptorNumber: fd)
    }

    /// Maps a segment received from a server, after checking that it is a sealed memfd of the
    /// size its header declares.
    static func attach(fd: Int32) throws(NTStatus) -> ConnectionSegment {
        let seals = alpc_memfd_seals(fd)
        let required = ALPC_F_SEAL_SHRINK | ALPC_F_SEAL_GROW
        guard seals >= 0, seals & required == required else { throw .invalidHandle }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size >= MemoryLayout<ALPC_SEGMENT_HEADER>.size else {
            throw .invalidHandle
        }
        let fileSize = Int(info.st_size)
        // Read, not mapped: one system call where a probe mapping costs two.
        var header = ALPC_SEGMENT_HEADER()
        let headerSize = MemoryLayout<ALPC_SEGMENT_HEADER>.size
        guard withUnsafeMutableBytes(of: &header, { pread(fd, $0.baseAddress, headerSize, 0) }) == headerSize else {
            throw .invalidHandle
        }
        let geometry = try SegmentGeometry(validating: header, fileSize: fileSize)
        let mapping = try SharedMapping(fd: fd, size: geometry.segmentSize)
        return ConnectionSegment(mapping: mapping, geometry: geometry, file: nil, fileDescriptorNumber: -1)
    }

    private init(
        mapping: consuming SharedMapping, geometry: SegmentGeometry, file: consuming OwnedDescriptor?,
        fileDescriptorNumber: Int32
    ) {
        self.mapping = mapping
        self.geometry = geometry
        self.fileDescriptor = fileDescriptorNumber
        self.file = file
    }

    /// The ring carrying messages in `direction`.
        func ring(_ direction: RingDirection) -> RingView {
        let controlOffset = Int(ALPC_SEGMENT_RINGS_OFFSET) + direction.rawValue * MemoryLayout<ALPC_RING_CONTROL>.size
        let slotsOffset = Int(ALPC_SEGMENT_SLOTS_OFFSET) + direction.rawValue * geometry.slotCount * geometry.slotSize
        return RingView(
            control: mapping.base + controlOffset,
            slots: mapping.base + slotsOffset,
            geometry: geometry
        )
    }

    /// The ClosedFlags word of the header, shared by both sides.
        var closedFlags: UnsafeMutablePointer<Atomic<UInt32>> {
        (mapping.base + MemoryLayout<ALPC_SEGMENT_HEADER>.offset(of: \.ClosedFlags)!)
            .assumingMemoryBound(to: Atomic<UInt32>.self)
    }
}

/// Which way a ring carries messages.
enum RingDirection: Int, Sendable {
    /// Requests and datagrams from the client to the server.
    case toServer = 0
    /// Replies and datagrams from the server to the client.
    case toClient = 1
}
