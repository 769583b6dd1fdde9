internal import Glibc

/// A read-write `MAP_SHARED` mapping of a file descriptor's memory, unmapped when dropped.
///
/// The mapping does not own the descriptor: once mapped, the descriptor may be closed.
struct SharedMapping: ~Copyable {
    /// The first mapped byte.
    let base: UnsafeMutableRawPointer
    /// The number of mapped bytes.
    let size: Int

    /// Maps `size` bytes of `fd` from offset 0, shared and writable.
    init(fd: Int32, size: Int) throws(NTStatus) {
        guard size > 0 else { throw .invalidParameter }
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw errno == ENOMEM ? .noMemory : .insufficientResources
        }
        self.base = address
        self.size = size
    }

    deinit {
        munmap(base, size)
    }
}
