internal import CALPC
internal import CALPCSystem
internal import Glibc

// The control plane's system calls: the one place in Transport that calls libc or the C
// helpers of sys_socket.h. Each wrapper returns a value >= 0 on success or a negative errno,
// the convention of the C helpers, and none retries on EINTR: callers go through
// `retryingOnInterrupt(_:)`, or decide that an interruption ends their wait.

/// Calls `body` again for as long as it returns `-EINTR`, and returns its first other result.
///
/// This is the control plane's one place that handles interrupted system calls. A `body` that
/// waits until a deadline recomputes the time left on every call, so retrying never extends
/// the wait.
@inline(__always)
func retryingOnInterrupt<Result: FixedWidthInteger & SignedInteger>(_ body: () -> Result) -> Result {
    while true {
        let result = body()
        if result != -Result(EINTR) {
            return result
        }
    }
}

/// The negative errno of the last failed libc call.
@inline(__always)
private func negatedErrno() -> Int32 {
    -errno
}

/// Closes a descriptor. Never retried: on Linux the descriptor is gone even after `EINTR`.
func system_close(_ fd: Int32) -> Int32 {
    Glibc.close(fd) == 0 ? 0 : negatedErrno()
}

/// Reads the status flags (`O_NONBLOCK`...) of a descriptor's open file description.
func system_fileStatusFlags(_ fd: Int32) -> Int32 {
    let flags = fcntl(fd, F_GETFL)
    return flags >= 0 ? flags : negatedErrno()
}

/// Replaces the status flags of a descriptor's open file description.
func system_setFileStatusFlags(_ fd: Int32, _ flags: Int32) -> Int32 {
    fcntl(fd, F_SETFL, flags) == 0 ? 0 : negatedErrno()
}

/// Reads the target of the symbolic link at `path` into `buffer` (not NUL-terminated) and
/// returns its length.
func system_readlink(_ path: UnsafePointer<CChar>, into buffer: UnsafeMutableRawBufferPointer) -> Int {
    guard let base = buffer.baseAddress else { return -Int(EINVAL) }
    let length = readlink(path, base.assumingMemoryBound(to: CChar.self), buffer.count)
    return length >= 0 ? length : Int(negatedErrno())
}

/// Waits up to `timeoutMilliseconds` (-1: no limit) for `events` on one descriptor and returns
/// the events that occurred (`revents`, reinterpreted as unsigned), 0 when the time ran out.
func system_poll(_ fd: Int32, events: Int16, timeoutMilliseconds: Int32) -> Int32 {
    var entry = pollfd(fd: fd, events: events, revents: 0)
    let ready = poll(&entry, 1, timeoutMilliseconds)
    if ready < 0 {
        return negatedErrno()
    }
    return ready == 0 ? 0 : Int32(UInt16(bitPattern: entry.revents))
}

/// Creates a SOCK_SEQPACKET socket bound and listening on the abstract address `name`.
func system_listen(abstractName name: UnsafeRawBufferPointer, backlog: Int32) -> Int32 {
    alpc_seqpacket_listen(name.baseAddress, name.count, backlog)
}

/// Creates a blocking SOCK_SEQPACKET socket connected to the abstract address `name`.
func system_connect(abstractName name: UnsafeRawBufferPointer) -> Int32 {
    alpc_seqpacket_connect(name.baseAddress, name.count)
}

/// Shuts a socket down in both directions; 0 or `-errno`.
func system_shutdown(_ fd: Int32) -> Int32 {
    shutdown(fd, Int32(SHUT_RDWR)) == 0 ? 0 : -errno
}

/// Accepts the next pending connection as a non-blocking socket.
func system_accept(_ fd: Int32) -> Int32 {
    alpc_accept(fd)
}

/// Sends one packet with `fds` attached and returns the number of bytes sent.
func system_send(
    _ fd: Int32, _ bytes: UnsafeRawBufferPointer, fds: UnsafeBufferPointer<Int32>, flags: Int32
) -> Int {
    alpc_send_with_fds(fd, bytes.baseAddress, bytes.count, fds.baseAddress, Int32(fds.count), flags)
}

/// Receives one packet into `buffer` and up to `fds.count` descriptors into `fds`; stores the
/// number of descriptors received in `fdCount` and returns the number of bytes received.
func system_receive(
    _ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, fds: UnsafeMutableBufferPointer<Int32>,
    fdCount: inout Int32, flags: Int32
) -> Int {
    precondition(fds.count >= Int(ALPC_MAX_FDS_PER_PACKET))
    return alpc_recv_with_fds(fd, buffer.baseAddress, buffer.count, fds.baseAddress, &fdCount, flags)
}

/// Reads the credentials of a connected socket's peer.
func system_peerCredentials(_ fd: Int32, pid: inout Int32, uid: inout UInt32, gid: inout UInt32) -> Int32 {
    alpc_peer_credentials(fd, &pid, &uid, &gid)
}

/// Creates a non-blocking, close-on-exec eventfd.
func system_eventfdCreate() -> Int32 {
    alpc_eventfd_create()
}

/// Adds 1 to an eventfd's count.
func system_eventfdSignal(_ fd: Int32) -> Int32 {
    alpc_eventfd_signal(fd)
}

/// Reads and resets an eventfd's count.
func system_eventfdDrain(_ fd: Int32, count: inout UInt64) -> Int32 {
    alpc_eventfd_drain(fd, &count)
}

/// Creates a close-on-exec epoll instance.
func system_epollCreate() -> Int32 {
    alpc_epoll_create()
}

/// Adds, modifies or removes (`EPOLL_CTL_*`) a descriptor in an epoll set.
func system_epollControl(_ epfd: Int32, _ operation: Int32, _ fd: Int32, events: UInt32, token: UInt64) -> Int32 {
    alpc_epoll_ctl(epfd, operation, fd, events, token)
}

/// Waits up to `timeoutMilliseconds` (-1: no limit) for events in an epoll set and returns how
/// many were stored in `ready`.
func system_epollWait(
    _ epfd: Int32, into ready: UnsafeMutableBufferPointer<alpc_epoll_ready>, timeoutNanoseconds: Int64
) -> Int32 {
    alpc_epoll_wait(epfd, ready.baseAddress, Int32(ready.count), timeoutNanoseconds)
}
