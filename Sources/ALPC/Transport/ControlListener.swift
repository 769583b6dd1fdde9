internal import Glibc

/// The sole owner of a port's listening socket: a non-blocking `SOCK_SEQPACKET` Unix socket
/// bound to the port name's abstract address.
///
/// The name belongs to the listener while it is open and is free again the moment it closes,
/// including when its process dies; connections already accepted stay up.
package struct ControlListener: ~Copyable, Sendable {
    /// The name the listener is bound to.
    package let name: PortName

    /// The listening socket.
    private let descriptor: OwnedDescriptor

    /// The listening socket's descriptor, still owned by this listener. It becomes readable
    /// when a connection is pending.
    package var fd: Int32 { descriptor.rawValue }

    /// Starts listening on `name`, with room for `backlog` connections waiting to be accepted
    /// (the kernel caps it at `net.core.somaxconn`).
    ///
    /// - Throws: ``NTStatus/objectNameCollision`` when another listener has the name.
    package static func listen(on name: PortName, backlog: Int32 = SOMAXCONN) throws(NTStatus) -> ControlListener {
        let result = name.socketAddress.withUnsafeBytes { address in
            retryingOnInterrupt { system_listen(abstractName: address, backlog: backlog) }
        }
        guard result >= 0 else {
            switch -result {
            case EADDRINUSE: throw .objectNameCollision
            default: throw NTStatus(transportErrno: -result)
            }
        }
        return ControlListener(name: name, descriptor: OwnedDescriptor(adopting: result))
    }

    /// Creates a listener from its name and bound, listening socket.
    private init(name: PortName, descriptor: consuming OwnedDescriptor) {
        self.name = name
        self.descriptor = descriptor
    }

    /// The next pending connection as a non-blocking socket, or `nil` when none is pending.
    /// Never blocks.
    ///
    /// - Throws: ``NTStatus/insufficientResources`` when the process or system is out of
    ///   descriptors; the connection then stays pending.
    package func accept() throws(NTStatus) -> ControlSocket? {
        let fd = self.fd
        while true {
            let result = retryingOnInterrupt { system_accept(fd) }
            if result >= 0 {
                return ControlSocket(adopting: OwnedDescriptor(adopting: result))
            }
            switch -result {
            case EAGAIN:
                return nil
            case ECONNABORTED:
                // The client gave up before we accepted; look at the next one.
                continue
            default:
                throw NTStatus(transportErrno: -result)
            }
        }
    }

    /// Stops listening and frees the name.
    package consuming func close() {
        descriptor.close()
    }
}
