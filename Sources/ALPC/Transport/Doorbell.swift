internal import Glibc

/// The sole owner of an eventfd that one side rings and the other waits on, directly or
/// through an ``EventPoll``.
///
/// The eventfd is non-blocking and close-on-exec. Rings add up until a ``drain()``, so a ring
/// is never lost, and several rings may wake the waiter only once: the waiter drains, then
/// re-checks whatever state the rings announce.
package struct Doorbell: ~Copyable, Sendable {
    /// The eventfd.
    private let descriptor: OwnedDescriptor

    /// A new doorbell that has not been rung.
    ///
    /// - Throws: ``NTStatus/insufficientResources`` when the process is out of descriptors.
    package init() throws(NTStatus) {
        let result = system_eventfdCreate()
        guard result >= 0 else { throw NTStatus(transportErrno: -result) }
        descriptor = OwnedDescriptor(adopting: result)
    }

    /// Takes ownership of a descriptor received from a peer, after checking that it is an
    /// eventfd (`anon_inode:[eventfd]` in `/proc/self/fd`). Makes it non-blocking if it was
    /// not, which also affects the peer's copy.
    ///
    /// - Throws: ``NTStatus/invalidHandle`` when the descriptor is not an open eventfd; it is
    ///   closed then too, since ownership passes to this call either way.
    package init(adopting descriptor: consuming OwnedDescriptor) throws(NTStatus) {
        guard Self.isEventFD(descriptor.rawValue) else { throw .invalidHandle }
        let flags = system_fileStatusFlags(descriptor.rawValue)
        guard flags >= 0 else { throw .invalidHandle }
        if flags & O_NONBLOCK == 0 {
            let result = system_setFileStatusFlags(descriptor.rawValue, flags | O_NONBLOCK)
            guard result == 0 else { throw NTStatus(transportErrno: -result) }
        }
        self.descriptor = descriptor
    }

    /// The eventfd's descriptor, still owned by this doorbell; readable while rung.
    package var fd: Int32 { descriptor.rawValue }

    /// Rings: adds 1 to the count and wakes anyone waiting. Never blocks; a count already at
    /// its maximum stays rung.
    package func ring() {
        let fd = self.fd
        _ = retryingOnInterrupt { system_eventfdSignal(fd) }
    }

    /// Clears the doorbell and returns how many rings it held since the last drain (0 when
    /// none). Never blocks.
    @discardableResult
    package func drain() -> UInt64 {
        let fd = self.fd
        var count: UInt64 = 0
        let result = retryingOnInterrupt { system_eventfdDrain(fd, count: &count) }
        return result == 0 ? count : 0
    }

    /// Closes the eventfd now.
    package consuming func close() {
        descriptor.close()
    }

    /// Gives up the eventfd without closing it, for a new owner.
    package consuming func take() -> OwnedDescriptor {
        descriptor
    }

    /// Whether `/proc/self/fd` says `fd` is an open eventfd.
    static func isEventFD(_ fd: Int32) -> Bool {
        let expected = "anon_inode:[eventfd]"
        return withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { buffer in
            let length = "/proc/self/fd/\(fd)".withCString { path in
                system_readlink(path, into: buffer)
            }
            guard length >= 0 else { return false }
            return buffer[..<length].elementsEqual(expected.utf8)
        }
    }
}
