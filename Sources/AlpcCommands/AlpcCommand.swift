import ArgumentParser

/// The `alpc` command-line tool: an ALPC server and client, the benchmark and the soak run.
// ArgumentParser runs an async root command only with an availability annotation, Linux too.
@available(macOS 10.15, macCatalyst 13, iOS 13, tvOS 13, watchOS 6, *)
public struct AlpcCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "alpc",
        abstract: "Windows ALPC on Linux: serve a port, call it, and benchmark it against the Linux transports.",
        subcommands: [Serve.self, Call.self, Bench.self, BenchPeer.self, Soak.self, SoakClient.self]
    )

    public init() {}
}
