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
                // Connections carry the port's maximum (the accept default is 0x1000).
                acceptAttributes.maxMessageLength = maxMessageLength
            } catch {
                throw failure(error)
            }
            StopSignal.install()
            print("[SERV] PORT <\(server.portName)> CREATED, pid \(getpid())")
            flushStandardOutput()
            let message = AlpcMessage(size: max(0x1000, maxMessageLength))
            let output = ServeOutput()
            while !StopSignal.received {
                do {
                    try server.receive(into: message, timeout: .milliseconds(200))
                } catch NTStatus.timeout {
                    continue
                } catch NTStatus.bufferTooSmall {
                    output.print(lines: ["message of \(message.port.totalLength) bytes does not fit; dropped connection left queued"])
                    continue
                } catch {
                    throw failure(error)
                }
                output.print(lines: ["\(MessageLine(message))"])
                switch message.messageType.kind {
                case .connectionRequest:
                    output.print(lines: ["connection data: <\(printable(message.string))>"])
                    try? message.setData("Connection message response")
                    do { try server.acceptConnection(message, attributes: acceptAttributes, portContext: portContext) } catch {
                        output.print(lines: ["accept failed: \(error)"])
                    }
                case .request:
                    let request = message.string
                    var lines = ["data: <\(printable(request))>"] + AttributeLines(message).lines
                    if let handle = message.handleAttribute, message.isHandleValid, !handle.isIndirect,
                        handle.objectType == HandleAttribute.fileObjectType
                    {
                        // Read on a thread of its own: the client chose the file, and it may never answer.
                        lines.append(
                            output.startReading(fileOf: message)
                                ? "  file content: being read"
                                : "  file content: not read (\(ServeOutput.maxConcurrentReads) files are being read)")
                    }
                    output.print(lines: lines)
                    message.attributes.valid.remove([.view, .handle])
                    do {
                        let limit = min(message.maxDataLength, maxMessageLength - PortMessageLayout.headerSize)
                        try message.setData(Self.reply(to: request, fitting: limit))
                        try server.send(message)
                    } catch {
                        output.print(lines: ["reply failed: \(error)"])
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

extension AlpcCommand.Serve {
    /// "REQUEST '<request>' DONE" in at most `limit` bytes: when the whole request does not
    /// fit, as much of it as fits (whole characters), then "...", so every request is answered.
    static func reply(to request: String, fitting limit: Int) -> String {
        let whole = "REQUEST '\(request)' DONE"
        guard whole.utf8.count > limit else { return whole }
        let frame = "REQUEST '...' DONE".utf8.count
        guard limit >= frame else { return String("DONE".prefix(max(0, limit))) }
        var kept = Substring.UnicodeScalarView()
        var bytes = 0
        for scalar in request.unicodeScalars {
            let size = String(scalar).utf8.count
            guard bytes + size + frame <= limit else { break }
            kept.append(scalar)
            bytes += size
        }
        return "REQUEST '\(String(kept))...' DONE"
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
