// alpc-bench-echo NAME: an ALPC server that echoes every request, for the cross-process
// round-trip benchmark. Prints READY when its port exists; exits when standard input closes.
import ALPC

#if canImport(Glibc)
import Glibc
#endif

guard CommandLine.arguments.count == 2 else {
    print("usage: alpc-bench-echo NAME")
    exit(2)
}
let server: AlpcServer
do {
    server = try AlpcServer(portName: CommandLine.arguments[1])
} catch {
    print("STATUS \(error)")
    exit(1)
}
print("READY")
fflush(nil)
let message = AlpcMessage()
var input = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
while true {
    do {
        try server.receive(into: message, timeout: .milliseconds(100))
    } catch NTStatus.timeout {
        // Leave when the benchmark (our standard input's writer) is gone.
        if poll(&input, 1, 0) > 0 { exit(0) }
        continue
    } catch {
        exit(1)
    }
    switch message.messageType.kind {
    case .connectionRequest:
        _ = try? server.acceptConnection(message)
    case .request:
        try? server.send(message)
    default:
        break
    }
}
