import ALPC
import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

extension AlpcCommand {
    /// `alpc call NAME DATA`: connect, send one request, print the reply.
    struct Call: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect to an ALPC port, send one request and print the reply's data.",
            discussion: "On failure prints the NTSTATUS name and value and exits non-zero."
        )

        @Argument(help: #"The port name, e.g. '\RPC Control\Sample'."#)
        var name: String

        @Argument(help: "The request's data (UTF-8).")
        var data: String

        @Option(help: "Data for the connection request.")
        var connectData: String?

        @Option(help: "Seconds to wait for the connection and for the reply.")
        var timeout: Double?

        @Option(help: "A file to send as a handle attribute (opened read-only, duplicated with the same access).")
        var handle: String?

        @Option(help: "Text to send in a view of a new port section (NUL-terminated, read in place by the server).")
        var view: String?

        func run() throws {
            let limit: Duration? = timeout.map { .nanoseconds(Int64($0 * 1e9)) }
            do {
                var connectMessage: AlpcMessage?
                if let connectData {
                    let message = AlpcMessage()
                    try message.setData(connectData)
                    connectMessage = message
                }
                let client = try AlpcClient(portName: name, connectMessage: connectMessage, timeout: limit)
                let request = AlpcMessage(size: max(0x1000, data.utf8.count + 0x200))
                try request.setData(data)
                var file: Int32 = -1
                defer { if file >= 0 { close(file) } }
                if let handle {
                    file = open(handle, O_RDONLY | O_CLOEXEC)
                    guard file >= 0 else {
                        throw ValidationFailure(message: "cannot open \(handle): \(String(cString: strerror(errno)))")
                    }
                    let attribute = request.handleAttribute!
                    attribute.flags = HandleAttribute.duplicateSameAccess
                    attribute.handle = UInt64(file)
                    request.isHandleValid = true
                }
                if let view {
                    let bytes = Array(view.utf8) + [0]
                    let section = try client.createPortSection(size: max(0x1000, bytes.count))
                    let mapped = try client.createSectionView(section, size: bytes.count)
                    mapped.bytes.copyBytes(from: bytes)
                    request.viewAttribute!.set(mapped)
                    request.isViewValid = true
                }
                let reply = try client.sendReceive(request, timeout: limit)
                print(printable(reply.string))
                client.disconnect()
            } catch {
                throw failure(error)
            }
        }
    }
}
