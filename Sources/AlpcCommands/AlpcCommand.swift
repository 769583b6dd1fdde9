import ArgumentParser

/// The `alpc` command-line tool: an ALPC server and client, the benchmark and the soak run.
public struct AlpcCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "alpc",
        abstract: "Windows ALPC on Linux: serve a port, call it, and benchmark it against the Linux transports.",
        subcommands: [Serve.self, Call.self, Bench.self, BenchPeer.self, Soak.self, SoakClient.self]
    )

    public init() {}
}
