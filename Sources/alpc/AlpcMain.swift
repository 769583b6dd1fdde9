import AlpcCommands
import ArgumentParser

/// The `alpc` tool's entry point: runs ``AlpcCommand`` asynchronously (`alpc serve` is a
/// swift-service-lifecycle service group).
@main
struct AlpcMain {
    static func main() async {
        await AlpcCommand.main()
    }
}
