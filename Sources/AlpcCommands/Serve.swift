import ALPC
import ALPCService
import ArgumentParser
import Logging
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

extension AlpcCommand {
    /// `alpc serve NAME`: the seed's advanced-sample server.
    struct Serve: AsyncParsableCommand {
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

        @Option(help: "The most requests handled at once.")
        var maxConcurrentRequests: Int = 16

        func run() async throws {
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
            print("[SERV] PORT <\(server.portName)> CREATED, pid \(getpid())")
            flushStandardOutput()
            let output = ServeOutput()
            let decision = ConnectionDecision.accept(attributes: acceptAttributes, portContext: portContext)
            let limit = maxMessageLength - PortMessageLayout.headerSize
            let service = AlpcService(
                server: server, maxConcurrentRequests: maxConcurrentRequests,
                connection: { request in
                    output.print(lines: ["\(MessageLine(request))", "connection data: <\(printable(request.string))>"])
                    try? request.setData("Connection message response")
                    return decision
                },
                handler: { message in Self.handle(message, output: output, replyLimit: limit) })
            // SIGINT and SIGTERM shut the port down gracefully: what clients sent is answered.
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: Self.logger))
            try await group.run()
            print("[SERV] stopped")
        }

        /// Prints `message` and, for a request, its attributes (reading a file it carries on a
        /// thread of its own), and returns the reply to a request.
        static func handle(_ message: AlpcMessage, output: ServeOutput, replyLimit: Int) -> AlpcMessage? {
            output.print(lines: ["\(MessageLine(message))"])
            defer { flushStandardOutput() }
            guard message.messageType.kind == .request else { return nil }
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
                try message.setData(reply(to: request, fitting: min(message.maxDataLength, replyLimit)))
                return message
            } catch {
                output.print(lines: ["reply failed: \(error)"])
                return nil
            }
        }

        /// Where `alpc serve` logs: standard error, from level info.
        static var logger: Logger {
            var logger = Logger(label: "alpc.serve") { StreamLogHandler.standardError(label: $0) }
            logger.logLevel = .info
            return logger
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
