internal import CALPC
internal import CALPCSystem
internal import Glibc

/// The sole owner of one connected control socket: a close-on-exec `SOCK_SEQPACKET` Unix
/// socket that carries whole packets, with file descriptors attached, in order.
///
/// A client gets one from ``connect(to:)``, blocking; a server gets one from
/// ``ControlListener/accept()``, non-blocking. Every operation works on both kinds: a
/// non-blocking socket that would block waits in `poll(2)` instead, so the caller sees the same
/// behaviour. The kernel closes the socket when its process dies, which is how the peer learns
/// of the death: its next ``receive(into:maxFDs:timeout:)`` or ``send(_:fds:timeout:)``
/// throws ``NTStatus/portDisconnected``.
package struct ControlSocket: ~Copyable, Sendable {
    /// The socket.
    private let descriptor: OwnedDescriptor

    /// Takes ownership of a connected `SOCK_SEQPACKET` socket.
    package init(adopting descriptor: consuming OwnedDescriptor) {
        self.descriptor = descriptor
    }

    /// The socket's descriptor, still owned by this socket.
    package var fd: Int32 { descriptor.rawValue }

    /// Connects to the port listening on `name`, waiting while its backlog of pending
    /// connections is full.
    ///
    /// - Throws: ``NTStatus/objectNameNotFound`` when no port listens on `name`.
    package static func connect(to name: PortName) throws(NTStatus) -> ControlSocket {
        let result = name.socketAddress.withUnsafeBytes { address in
            retryingOnInterrupt { system_connect(abstractName: address) }
        }
        guard result >= 0 else {
            switch -result {
            case ECONNREFUSED, ENOENT: throw .objectNameNotFound
            default: throw NTStatus(transportErrno: -result)
            }
        }
        return ControlSocket(adopting: OwnedDescriptor(adopting: result))
    }

    /// Sends `bytes` as one packet, with copies of `fds` attached (the caller keeps its own).
    ///
    /// Waits while the peer's receive queue is full, at most `timeout` (`nil`: no limit).
    ///
    /// - Throws: ``NTStatus/portDisconnected`` when the peer has closed;
    ///   ``NTStatus/timeout`` when the time ran out before the packet could be queued;
    ///   ``NTStatus/invalidParameter`` when `bytes` is empty (a 0-byte packet would read as a
    ///   disconnection), longer than the socket can send, or `fds` has more than 253 entries;
    ///   ``NTStatus/invalidHandle`` when one of `fds` is not open.
    package func send(_ bytes: UnsafeRawBufferPointer, fds: [Int32] = [], timeout: Duration? = nil) throws(NTStatus) {
        guard !bytes.isEmpty, fds.count <= Int(ALPC_MAX_FDS_PER_PACKET) else {
            throw .invalidParameter
        }
        let fd = self.fd
        let deadline = WaitDeadline(timeout)
        let flags = deadline.isUnbounded ? 0 : Int32(MSG_DONTWAIT)
        while true {
            let result = fds.withUnsafeBufferPointer { fds in
                retryingOnInterrupt { system_send(fd, bytes, fds: fds, flags: flags) }
            }
            if result >= 0 {
                // A SOCK_SEQPACKET socket sends the whole packet or nothing.
                guard result == bytes.count else { throw .unsuccessful }
                return
            }
            switch Int32(-result) {
            case EAGAIN:
                guard !deadline.hasPassed else { throw .timeout }
                _ = try wait(for: .writable, until: deadline)
            case EPIPE, ECONNRESET, ENOTCONN:
                throw .portDisconnected
            case let code:
                throw NTStatus(transportErrno: code)
            }
        }
    }

    /// Receives one packet into `buffer`, with at most `maxFDs` descriptors, waiting at most
    /// `timeout` (`nil`: no limit) for it to arrive.
    ///
    /// The returned descriptors are close-on-exec and belong to the caller.
    ///
    /// - Returns: The number of bytes received and the descriptors that came with them.
    /// - Throws: ``NTStatus/portDisconnected`` when the peer has closed (and no packet is
    ///   left to read); ``NTStatus/timeout`` when no packet arrived in time;
    ///   ``NTStatus/invalidParameter`` when the packet was longer than `buffer` or carried more
    ///   than `maxFDs` descriptors. Such a packet is consumed and its descriptors are closed,
    ///   so nothing leaks and the next receive gets the next packet.
    package func receive(
        into buffer: UnsafeMutableRawBufferPointer, maxFDs: Int = 0, timeout: Duration? = nil
    ) throws(NTStatus) -> (byteCount: Int, fds: [Int32]) {
        guard maxFDs >= 0 else { throw .invalidParameter }
        let fdCapacity = min(maxFDs, Int(ALPC_MAX_FDS_PER_PACKET))
        let fd = self.fd
        let deadline = WaitDeadline(timeout)
        let flags = deadline.isUnbounded ? 0 : Int32(MSG_DONTWAIT)
        var resetSeen = false
        while true {
            var fds: [Int32] = []
            let result = withUnsafeTemporaryAllocation(of: Int32.self, capacity: Int(ALPC_MAX_FDS_PER_PACKET)) { space in
                var fdCount: Int32 = 0
                let result = retryingOnInterrupt {
                    system_receive(fd, into: buffer, fds: space, fdCount: &fdCount, flags: flags)
                }
                if fdCount > 0 {
                    fds = Array(space[..<Int(fdCount)])
                }
                return result
            }
            if result > 0 && fds.count <= fdCapacity {
                return (result, fds)
            }
            // Descriptors of a packet refused or of a peer that closed: the peer may have chosen
            // ones whose close blocks, so they are closed away from this thread.
            PeerDescriptorCloser.shared.close(fds)
            if result > 0 { throw .invalidParameter }
            if result == 0 {
                // End of file: on a SOCK_SEQPACKET socket, the peer has closed.
                throw .portDisconnected
            }
            switch Int32(-result) {
            case EAGAIN:
                guard !deadline.hasPassed else { throw .timeout }
                _ = try wait(for: .readable, until: deadline)
            case EMSGSIZE:
                throw .invalidParameter
            case ECONNRESET where !resetSeen:
                // A peer that closed with packets of ours unread leaves this error, which the
                // kernel reports once, before the packets the peer sent while alive. Those
                // are still delivered first; the end of file follows them.
                resetSeen = true
            case EPIPE, ECONNRESET, ENOTCONN:
                throw .portDisconnected
            case let code:
                throw NTStatus(transportErrno: code)
            }
        }
    }

    /// The process id, user id and group id of the peer, as they were when it connected (for
    /// a server's socket) or started listening (for a client's). The kernel records them; the
    /// peer cannot claim others.
    package func peerCredentials() throws(NTStatus) -> (pid: Int32, uid: UInt32, gid: UInt32) {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        let result = system_peerCredentials(fd, pid: &pid, uid: &uid, gid: &gid)
        guard result == 0 else { throw NTStatus(transportErrno: -result) }
        return (pid, uid, gid)
    }

    /// Waits at most `timeout` (`nil`: no limit) until the socket is ready for something in
    /// `interest`, or has hung up or failed (always reported).
    ///
    /// - Returns: What is ready; empty when the time ran out.
    package func poll(
        for interest: SocketReadiness = .readable, timeout: Duration?
    ) throws(NTStatus) -> SocketReadiness {
        try wait(for: interest, until: WaitDeadline(timeout))
    }

    /// Whether the peer has closed, shut down its sending side, or died, waiting at most
    /// `timeout` to find out. With the default zero timeout this is one `poll(2)` call.
    ///
    /// Packets the peer sent before it went may still be waiting to be received. A failure of
    /// `poll(2)` itself reports `false`.
    package func isPeerGone(timeout: Duration = .zero) -> Bool {
        guard let readiness = try? wait(for: .readHangUp, until: WaitDeadline(timeout)) else {
            return false
        }
        return readiness.isPeerGone
    }

    /// Makes the socket's operations block (`false`) or not (`true`) in the kernel. Affects
    /// every descriptor that shares this socket's open file description.
    package func setNonBlocking(_ nonBlocking: Bool = true) throws(NTStatus) {
        let flags = system_fileStatusFlags(fd)
        guard flags >= 0 else { throw NTStatus(transportErrno: -flags) }
        let wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        guard wanted != flags else { return }
        let result = system_setFileStatusFlags(fd, wanted)
        guard result == 0 else { throw NTStatus(transportErrno: -result) }
    }

    /// Shuts the socket down in both directions: the peer sees a hang-up at once, while this
    /// owner keeps the descriptor until it goes away.
    package func shutdown() {
        _ = system_shutdown(fd)
    }

    /// Closes the socket now; the peer sees a disconnection.
    package consuming func close() {
        descriptor.close()
    }

    /// Polls until `interest` (or a hang-up or error) or the deadline; empty on timeout.
    private func wait(for interest: SocketReadiness, until deadline: WaitDeadline) throws(NTStatus) -> SocketReadiness {
        let fd = self.fd
        let result = retryingOnInterrupt {
            system_poll(fd, events: interest.rawValue, timeoutMilliseconds: deadline.remainingMilliseconds)
        }
        guard result >= 0 else { throw NTStatus(transportErrno: -result) }
        return SocketReadiness(rawValue: Int16(truncatingIfNeeded: result))
    }
}
