// alpc-instructions MODE ITERATIONS: runs ITERATIONS requests and replies of 64 bytes with
// both sides in this one thread, so that nothing ever waits, for counting instructions with
// callgrind (see instructions.sh). MODE: copying (AlpcMessage), in-place (the closure API),
// c-api (NtAlpcSendWaitReceivePort from C), c-ring (a minimal C ring pair: the floor), c-alpc
// (the in-place loop's jobs written in C: what ALPC's semantics cost without Swift);
// datagrams (groups of 32 datagrams sent in place with sendDatagrams and drained with
// receive(upTo:); ITERATIONS counts groups).
import ALPC
import CInstructionDrivers
import Dispatch

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count == 3, let iterations = Int(arguments[2]), iterations >= 0 else {
    print("usage: alpc-instructions copying|in-place|c-api|c-ring|c-alpc|datagrams ITERATIONS")
    exit(2)
}

/// A server and a client connected to it in this process.
func connectedPair() throws(NTStatus) -> (AlpcServer, AlpcClient) {
    let name = #"\RPC Control\alpc-instructions-"# + String(getpid())
    let server = try AlpcServer(portName: name)
    let accepted = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        if let request = try? server.receive(timeout: .seconds(10)) { _ = try? server.acceptConnection(request) }
        accepted.signal()
    }
    let client = try AlpcClient(portName: name, timeout: .seconds(10))
    accepted.wait()
    return (server, client)
}

func copying() throws(NTStatus) {
    let (server, client) = try connectedPair()
    let request = AlpcMessage(size: 0x28 + 64)
    try request.setDataLength(64)
    let atServer = AlpcMessage(size: 0x200)
    let atClient = AlpcMessage(size: 0x200)
    for index in 0..<iterations {
        request.port.data[0] = UInt8(truncatingIfNeeded: index)
        try client.send(request)
        try server.receive(into: atServer, timeout: .seconds(5))
        atServer.attributes.valid = []
        try server.send(atServer)
        try client.receive(into: atClient, timeout: .seconds(5))
        guard atClient.port.data[0] == UInt8(truncatingIfNeeded: index) else { throw .unsuccessful }
    }
}

func inPlace() throws(NTStatus) {
    let (server, client) = try connectedPair()
    for index in 0..<iterations {
        let stamp = UInt8(truncatingIfNeeded: index)
        try client.send(dataLength: 64) { $0[0] = stamp }
        try server.receive(timeout: .seconds(5)) { (request) throws(NTStatus) in
            let first = request.data[0]
            try server.reply(to: request.messageId, dataLength: 64) { $0[0] = first }
        }
        let seen = try client.receive(timeout: .seconds(5)) { $0.data[0] }
        guard seen == stamp else { throw .unsuccessful }
    }
}

/// 64-byte datagrams through the in-place batch API: groups of 32 sent with sendDatagrams,
/// drained with receive(upTo:); ITERATIONS counts groups (per-datagram cost: divide by 32).
func datagrams() throws(NTStatus) {
    let (server, client) = try connectedPair()
    var received = 0
    for index in 0..<iterations {
        try client.sendDatagrams(count: 32, dataLength: 64) { datagram, data in
            data[0] = UInt8(truncatingIfNeeded: index &+ datagram)
        }
        var drained = 0
        while drained < 32 {
            drained += try server.receive(upTo: 32, timeout: .seconds(5)) { message in
                received &+= Int(message.data[0])
            }
        }
    }
    guard received >= 0 else { throw .unsuccessful }
}

do throws(NTStatus) {
    switch arguments[1] {
    case "datagrams": try datagrams()
    case "copying": try copying()
    case "in-place": try inPlace()
    case "c-api":
        let status = cid_nt_api(Int64(iterations))
        guard status == 0 else { throw NTStatus(rawValue: status) }
    case "c-alpc":
        let status = cid_alpc_semantics(Int64(iterations))
        guard status == 0 else { print("alpc-instructions: c-alpc failed at step \(status)"); exit(1) }
    case "c-ring":
        guard cid_ring_pair(Int64(iterations)) == 0 else { throw .unsuccessful }
    default:
        print("unknown mode \(arguments[1])")
        exit(2)
    }
} catch {
    print("alpc-instructions: \(error)")
    exit(1)
}
