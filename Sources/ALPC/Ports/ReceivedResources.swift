internal import CALPC

/// What a received message owns beyond its two buffers: the descriptors of its handle
/// attribute, the indirect handle array, the security attribute's QoS copy, and a hold on the
/// section its view attribute points into.
///
/// The message releases all of it when it receives again or goes away, except descriptors the
/// application took with ``AlpcMessage/takeHandle()`` or ``AlpcMessage/takeHandles()``.
final class ReceivedResources {
    /// The received descriptors in attribute order; -1 once taken.
    private(set) var descriptors: [Int32] = []
    /// Whether the descriptors came as an indirect array.
    private(set) var isIndirect = false
    /// The `ALPC_HANDLE_ATTR32` entries of an indirect handle attribute.
    private(set) var handleArray: UnsafeMutableRawPointer?
    private var handleArrayCapacity = 0
    /// The copy of the sender's `SECURITY_QUALITY_OF_SERVICE` the security attribute points at.
    let qos: UnsafeMutablePointer<SECURITY_QUALITY_OF_SERVICE>
    /// The section the view attribute points into, held mapped while the message lives.
    private var viewSection: SectionRecord?

    init() {
        qos = .allocate(capacity: 1)
        qos.initialize(to: SECURITY_QUALITY_OF_SERVICE())
    }

    deinit {
        reset()
        handleArray?.deallocate()
        qos.deallocate()
    }

    /// Closes the descriptors nobody took and drops the section hold.
    func reset() {
        // Sent by a peer: their close may block, so it happens away from the receiving thread.
        if !descriptors.isEmpty { PeerDescriptorCloser.shared.close(descriptors) }
        descriptors.removeAll(keepingCapacity: true)
        isIndirect = false
        if let viewSection {
            SectionTable.shared.release(viewSection)
            self.viewSection = nil
        }
    }

    /// Takes ownership of `fds`, delivered directly (one) or as an indirect array.
    func adopt(_ fds: [Int32], indirect: Bool) {
        descriptors.append(contentsOf: fds)
        isIndirect = indirect
    }

    /// Room for `count` `ALPC_HANDLE_ATTR32` entries, owned by the message.
    func handleArray(count: Int) -> UnsafeMutableRawPointer {
        let bytes = count * MemoryLayout<ALPC_HANDLE_ATTR32>.size
        if let handleArray, handleArrayCapacity >= bytes { return handleArray }
        handleArray?.deallocate()
        let storage = UnsafeMutableRawPointer.allocate(
            byteCount: bytes, alignment: MemoryLayout<ALPC_HANDLE_ATTR32>.alignment)
        handleArray = storage
        handleArrayCapacity = bytes
        return storage
    }

    /// Keeps `record` mapped while the message lives; takes over one holder the caller added.
    func hold(_ record: SectionRecord) {
        if let viewSection { SectionTable.shared.release(viewSection) }
        viewSection = record
    }

    /// Gives the descriptor at `index` to the caller; nil when taken already.
    func take(at index: Int) -> Int32? {
        guard index < descriptors.count, descriptors[index] >= 0 else { return nil }
        defer { descriptors[index] = -1 }
        return descriptors[index]
    }

    /// Gives every descriptor still owned to the caller, in attribute order.
    func takeAll() -> [Int32] {
        let taken = descriptors.filter { $0 >= 0 }
        for index in descriptors.indices { descriptors[index] = -1 }
        return taken
    }

    /// The number of descriptors still owned.
    var ownedCount: Int { descriptors.count { $0 >= 0 } }
}
