import ALPC
import ArgumentParser
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension AlpcCommand {
    /// `alpc bench-peer NAME [--cpu N]`: the other process of `alpc bench` (hidden).
    struct BenchPeer: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-peer",
            abstract: "The ALPC echo server that `alpc bench` runs in a separate process.",
            discussion: """
                Creates the port, prints "READY <pid>" on standard output, accepts every connection \
                and answers every request with the received message itself (same data). A request \
                with a view attribute is answered with what the peer read in the view, in place: \
                its first 8 bytes, its size (8 bytes) and its last byte; the reply's view and handle \
                attributes are cleared. Counts \
                datagrams; a request whose data is "done?" is answered with the count in decimal, \
                which restarts it. A connection request whose data is "max=N" gets connection \
                messages of at most N bytes (header included), otherwise 0x1000. Exits when its \
                standard input reaches end of file, on SIGTERM or SIGINT, or when its parent dies.
                """,
            shouldDisplay: false
        )

        @Argument(help: #"The port name, e.g. '\RPC Control\Bench'."#)
        var name: String

        @Option(help: "Pin the peer to this CPU.")
        var cpu: Int32?

        func run() throws {
            if let cpu { try CPUAffinity.pinCurrentThread(to: cpu) }
            PeerStop.install()
            let parent = getppid()
            let server: AlpcServer
            do {
                server = try AlpcServer(
                    portName: name,
                    attributes: PortAttributes(flags: 0, maxMessageLength: AlpcLimits.maxAllowedMessageLength))
            } catch {
                throw failure(error)
            }
            print("READY \(getpid())")
            flushStandardOutput()
            defer { server.disconnect() }
            do {
                try serve(server, stopWhen: { PeerStop.requested || getppid() != parent || standardInputClosed() })
            } catch {
                throw failure(error)
            }
        }

        /// Accepts the connection request `messageId` whose data was `data`: connection messages
        /// of at most the length it asks for ("max=N"), otherwise 0x1000; no reply data.
        private func accept(messageId: UInt32, data: [UInt8], on server: AlpcServer) throws(NTStatus) {
            var attributes = PortAttributes.accept
            attributes.maxMessageLength = PeerProtocol.requestedMaxMessageLength(data) ?? PortAttributes.accept.maxMessageLength
            let answer = AlpcMessage()
            answer.port.messageId = messageId
            do {
                try server.acceptConnection(answer, attributes: attributes)
            } catch .portDisconnected {
                // The client gave up meanwhile.
            }
        }

        /// Lends the datagrams a client sent after the one just received, up to 256 at a time,
        /// without waiting. A request among them is answered in place: "done?" with the count
        /// (which restarts it), any other with its own data; a connection request is accepted
        /// as the main loop accepts it.
        private func drainBurst(_ server: AlpcServer, counting datagrams: inout UInt64) throws(NTStatus) {
            var count = datagrams
            do {
                try server.receive(upTo: 256, timeout: .zero) { (message) throws(NTStatus) in
                    switch message.messageType.kind {
                    case .datagram:
                        count &+= 1
                    case .request:
                        let answer = message.data.elementsEqual(PeerProtocol.doneQuery)
                            ? Array(String(count).utf8) : Array(message.data)
                        if message.data.elementsEqual(PeerProtocol.doneQuery) { count = 0 }
                        try server.reply(to: message.messageId, dataLength: answer.count) { $0.copyBytes(from: answer) }
                    case .connectionRequest:
                        try accept(messageId: message.messageId, data: Array(message.data), on: server)
                    default:
                        break
                    }
                }
            } catch .timeout {
            }
            datagrams = count
        }

        /// The receive loop. `stop` runs whenever 100 ms pass without a message.
        private func serve(_ server: AlpcServer, stopWhen stop: () -> Bool) throws(NTStatus) {
            let message = AlpcMessage(size: AlpcLimits.maxAllowedMessageLength)
            var datagrams: UInt64 = 0
            while true {
                do {
                    try server.receive(into: message, timeout: .milliseconds(100))
                } catch .timeout {
                    if stop() { return }
                    continue
                }
                switch message.messageType.kind {
                case .request:
                    if message.validAttributes.contains(.view) {
                        try PeerProtocol.answerView(message)
                    } else if message.dataLength == PeerProtocol.doneQuery.count && message.data == PeerProtocol.doneQuery {
                        try message.setData(Array(String(datagrams).utf8))
                        datagrams = 0
                    }
                    do {
                        try server.send(message)
                    } catch .portDisconnected, .invalidMessage {
                        // The client left meanwhile.
                    }
                case .datagram:
                    datagrams &+= 1
                    // A burst: drain what the same client already sent, releasing it together.
                    try drainBurst(server, counting: &datagrams)
                case .connectionRequest:
                    try accept(messageId: message.messageId, data: message.data, on: server)
                default:
                    // LPC_PORT_CLOSED, LPC_CLIENT_DIED.
                    if PeerStop.requested { return }
                }
            }
        }
    }
}

/// The little protocol between `alpc bench` and its peer.
enum PeerProtocol {
    /// The request asking how many datagrams arrived since the last such request.
    static let doneQuery: [UInt8] = Array("done?".utf8)

    /// Connection data asking for messages of at most `length` bytes, header included.
    static func connectData(maxMessageLength length: Int) -> [UInt8] {
        Array("max=\(length)".utf8)
    }

    /// The data bytes of the answer to a view request: the view's first 8 bytes, its size
    /// (8 bytes, little endian) and its last byte.
    static let viewReplyLength = 17

    /// Turns `message`, a request with a valid view attribute, into its answer: reads the view
    /// in place (its first 8 bytes and its last byte, nothing copied), writes them and the
    /// view's size into the data, and clears the view and handle attributes (the view is not
    /// sent back). A view the peer cannot read is answered with zeros.
    static func answerView(_ message: AlpcMessage) throws(NTStatus) {
        var first: UInt64 = 0
        var size: UInt64 = 0
        var last: UInt8 = 0
        if let bytes = message.viewAttribute?.bytes, bytes.count >= 8 {
            first = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
            size = UInt64(bytes.count)
            last = bytes[bytes.count - 1]
        }
        message.validAttributes.subtract([.view, .handle])
        if message.dataLength < viewReplyLength { try message.setDataLength(viewReplyLength) }
        let data = message.port.data
        data.storeBytes(of: first, toByteOffset: 0, as: UInt64.self)
        data.storeBytes(of: size.littleEndian, toByteOffset: 8, as: UInt64.self)
        data[16] = last
    }

    /// The maximum message length a connection request asks for, clamped to what ALPC allows.
    static func requestedMaxMessageLength(_ data: [UInt8]) -> Int? {
        guard data.starts(with: Array("max=".utf8)),
            let value = Int(String(decoding: data.dropFirst(4), as: UTF8.self))
        else { return nil }
        return min(max(value, PortMessageLayout.headerSize), AlpcLimits.maxAllowedMessageLength)
    }
}

/// SIGTERM and SIGINT ask the peer to stop.
private enum PeerStop {
    static let flag = Atomic<Bool>(false)

    static var requested: Bool { flag.load(ordering: .relaxed) }

    static func install() {
        signal(SIGTERM) { _ in PeerStop.flag.store(true, ordering: .relaxed) }
        signal(SIGINT) { _ in PeerStop.flag.store(true, ordering: .relaxed) }
    }
}

/// True when standard input is at end of file (the bench closed its end, or died).
private func standardInputClosed() -> Bool {
    var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
    guard poll(&descriptor, 1, 0) > 0 else { return false }
    if descriptor.revents & Int16(POLLNVAL) != 0 { return true }
    var buffer = [UInt8](repeating: 0, count: 64)
    let count = read(STDIN_FILENO, &buffer, buffer.count)
    return count == 0 || (count < 0 && errno != EINTR && errno != EAGAIN)
}
