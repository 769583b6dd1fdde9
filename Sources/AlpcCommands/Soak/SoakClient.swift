import ALPC
import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

extension AlpcCommand {
    /// `alpc soak-client NAME`: a client process of `alpc soak`, which kills it at random (hidden).
    struct SoakClient: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "soak-client",
            abstract: "A client process that `alpc soak` runs and kills.",
            discussion: """
                Prints "READY <pid>", then sends requests to the port and checks each echo, \
                reconnecting whenever the server goes away, until killed or its parent dies.
                """,
            shouldDisplay: false
        )

        @Argument(help: "The port name.")
        var name: String

        func run() throws {
            let parent = getppid()
            print("READY \(getpid())")
            flushStandardOutput()
            var index = 0
            while getppid() == parent {
                guard let client = try? AlpcClient(portName: name, timeout: .seconds(2)) else {
                    usleep(20_000)
                    continue
                }
                while getppid() == parent {
                    index += 1
                    let text = "soak-client \(getpid()) \(index)"
                    guard let reply = try? client.sendReceive(text, timeout: .seconds(5)) else { break }
                    // The echo server answers with the request itself.
                    if reply.string != text {
                        print("WRONG REPLY \(reply.string)")
                        flushStandardOutput()
                        throw ExitCode(5)
                    }
                }
                client.disconnect()
            }
        }
    }
}
