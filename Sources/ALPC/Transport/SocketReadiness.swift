internal import CALPC
internal import CALPCSystem
internal import Glibc

/// What a control socket is ready for, or what happened to its peer, as `poll(2)` reports it.
package struct SocketReadiness: OptionSet, Sendable, Hashable {
    /// The `poll(2)` event bits.
    package let rawValue: Int16

    /// Creates a set from `poll(2)` event bits.
    package init(rawValue: Int16) {
        self.rawValue = rawValue
    }

    /// A packet can be received without blocking, or the peer has closed (the receive then
    /// reports the disconnection). The corresponding C flag is `POLLIN`.
    package static let readable = SocketReadiness(rawValue: Int16(POLLIN))

    /// A packet can be sent without blocking. The corresponding C flag is `POLLOUT`.
    package static let writable = SocketReadiness(rawValue: Int16(POLLOUT))

    /// The peer will send nothing more: it shut down its sending side or closed. The
    /// corresponding C flag is `POLLRDHUP`.
    package static let readHangUp = SocketReadiness(rawValue: Int16(ALPC_POLLRDHUP))

    /// The connection is closed in both directions: the peer closed or its process died.
    /// Always reported, whether asked for or not. The corresponding C flag is `POLLHUP`.
    package static let hangUp = SocketReadiness(rawValue: Int16(POLLHUP))

    /// The socket has a pending error. Always reported. The corresponding C flag is `POLLERR`.
    package static let error = SocketReadiness(rawValue: Int16(POLLERR))

    /// Whether the peer is gone or going: ``hangUp``, ``readHangUp`` or ``error``.
    package var isPeerGone: Bool {
        !isDisjoint(with: [.hangUp, .readHangUp, .error])
    }
}
