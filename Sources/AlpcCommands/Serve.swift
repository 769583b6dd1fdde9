import ALPC
import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

extension AlpcCommand {
    /// `alpc serve NAME`: the seed's advanced-sample server.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve an ALPC port: accept every connection, answer every request, print each message.",
            discussion: """
                Accepts every connection with the reply data "Connection message response" and answers \
                each request with "REQUEST '<data>' DONE". Prints one line per message and, for a request, \
                its attributes as the seed's advanced sample does: a view's content read in place, a file \
                handle's content, the context and the sender's token. Stops cleanly on SIGINT or SIGTERM.
                """
        )

        @Argument(help: #"The port name, e.g. '\RPC Control\Sample'."#)
        var name: String

        @Option(help: "The largest message in bytes, header included (0x28...0xFFFF).")
        var maxMessageLength: Int = 0x1000

        @Option(help: "The port context given to each accepted connection.")
        var portContext: UInt64 = 0x1122_3344

        func run() throws {
            let server: AlpcServer
            var acceptAttributes = PortAttributes.accept
            do {
                server = try AlpcServer(portName: name, attributes: PortAttributes(flags: 0, maxMessageLength: maxMessageLength))
                // Handles of any type, several per message.
                acceptAttributes.flags |= PortAttributes.allowMultipleHandlesFlag
            } catch {
                throw failure(error)
            }
            StopSignal.install()
            print("[SERV] PORT <\(server.portName)> CREATED, pid \(getpid())")
            flushStandardOutput()
            let message = AlpcMessage(size: max(0x1000, maxMessageLength))
            while !StopSignal.received {
                do {
                    try server.receive(into: message, timeout: .milliseconds(200))
                } catch NTStatus.timeout {
                    continue
                } catch NTStatus.bufferTooSmall {
                    print("[SERV] message of \(message.port.totalLength) bytes does not fit; dropped connection left queued")
                    continue
                } catch {
                    throw failure(error)
                }
                print("[SERV] \(MessageLine(message))")
                switch message.messageType.kind {
                case .connectionRequest:
                    print("[SERV] connection data: <\(message.string)>")
                    try? message.setData("Connection message response")
                    do { try server.acceptConnection(message, attributes: acceptAttributes, portContext: portContext) } catch {
                        print("[SERV] accept failed: \(error)")
                    }
                case .request:
                    let request = message.string
                    print("[SERV] data: <\(request)>")
                    for line in AttributeLines(message).lines { print("[SERV] \(line)") }
                    message.attributes.valid.remove([.view, .handle])
                    do {
                        try message.setData("REQUEST '\(request)' DONE")
                        try server.send(message)
                    } catch {
                        print("[SERV] reply failed: \(error)")
                    }
                default:
                    break
                }
                flushStandardOutput()
            }
            server.disconnect()
            print("[SERV] stopped")
        }
    }
}

/// One line describing a received message: type, ids, data length, valid attributes.
struct MessageLine: CustomStringConvertible {
    let message: AlpcMessage

    init(_ message: AlpcMessage) { self.message = message }

    var description: String {
        let port = message.port
        let type = "0x" + String(port.type, radix: 16)
        return "type \(type) (\(message.messageType.kind)) id \(port.messageId) "
            + "client \(port.clientId.process):\(port.clientId.thread) "
            + "length \(port.dataLength) attributes \(message.attributes.valid)"
    }
}

/// SIGINT and SIGTERM set a flag the serving loop checks.
enum StopSignal {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    static var received: Bool { flag != 0 }

    static func install() {
        signal(SIGINT) { _ in StopSignal.flag = 1 }
        signal(SIGTERM) { _ in StopSignal.flag = 1 }
    }
}

/// Flushes standard output so lines reach a pipe at once.
func flushStandardOutput() {
    fflush(nil)
}

/// An error that prints the NTSTATUS name and value and exits non-zero.
func failure(_ error: any Error) -> any Error {
    if let status = error as? NTStatus {
        return ValidationFailure(message: "\(status)")
    }
    return error
}

/// A failure reported as its message alone.
struct ValidationFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
