import ALPC
import ALPCService
import Dispatch
import Logging
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// `service NAME [--handler-delay-ms N] [--max-concurrent N]`: a server run as an
/// `AlpcService` in a `ServiceGroup` that shuts down gracefully on SIGTERM and SIGINT. It
/// accepts every connection, says `HANDLING <data>` when a request's handler starts, answers
/// `REQUEST '<data>' DONE` after the delay, and says `STOPPED` when the group has returned.
func runService(_ arguments: [String]) {
    let name = arguments[0]
    let delay = Int(option("--handler-delay-ms", in: arguments) ?? "") ?? 0
    let limit = Int(option("--max-concurrent", in: arguments) ?? "") ?? 16
    let server: AlpcServer
    do {
        server = try AlpcServer(portName: name)
    } catch {
        say("STATUS \(error)")
        exit(1)
    }
    let service = AlpcService(
        server: server, maxConcurrentRequests: limit,
        connection: { request in
            try? request.setData("Connection message response")
            return .accept(portContext: 0x1122_3344)
        },
        handler: { request in
            guard request.messageType.kind == .request else { return nil }
            say("HANDLING \(request.string)")
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            return try? AlpcMessage(string: "REQUEST '\(request.string)' DONE")
        })
    let logger = Logger(label: "alpc-test-peer.service") { SwiftLogNoOpLogHandler($0) }
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            try await group.run()
            say("STOPPED")
        } catch {
            say("STATUS \(error)")
        }
        done.signal()
    }
    say("READY \(getpid())")
    done.wait()
}
