import ALPC
import ArgumentParser

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
                let reply = try client.sendReceive(data, timeout: limit)
                print(reply.string)
                client.disconnect()
            } catch {
                throw failure(error)
            }
        }
    }
}
