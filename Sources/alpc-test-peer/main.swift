// alpc-test-peer: the other process of the multi-process tests.
//
// Each scenario is a small, bounded program; it prints one line per event to standard output
// (flushed at once) so the test can follow it, and exits on its own within its time limit.
//
//   server NAME [--no-reply] [--ignore-connections] [--refuse] [--max-length N] [--seconds S]
//   client NAME [--connect-data TEXT] [--requests N] [--data TEXT] [--after exit|disconnect|sleep|hang]
//               [--datagrams N] [--as-uid UID] [--seconds S] [--expect-prefix TEXT]
import ALPC

#if canImport(Glibc)
import Glibc
#endif

func say(_ line: String) {
    print(line)
    fflush(nil)
}

func option(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

/// Ends the process when the scenario overstays, so no test can hang on a peer.
func armDeadline(seconds: UInt32) {
    signal(SIGALRM) { _ in _exit(3) }
    alarm(seconds)
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// The seed's test_alpc request and reply.
let seedRequest: [UInt8] = Array("Message 1".utf8) + [0x00, 0xFF] + Array("ABCD".utf8)
let seedReply: [UInt8] = Array("Message 2-".utf8) + (0...255).map { UInt8($0) }

func runServer(_ arguments: [String]) throws(NTStatus) {
    let name = arguments[0]
    let maxLength = Int(option("--max-length", in: arguments) ?? "") ?? 0x1000
    let server = try AlpcServer(portName: name, attributes: PortAttributes(flags: 0, maxMessageLength: maxLength))
    say("READY \(getpid())")
    let message = AlpcMessage(size: max(0x1000, maxLength))
    while true {
        try server.receive(into: message)
        let kind = message.messageType.kind
        say("RECV type=0x\(String(message.port.type, radix: 16)) id=\(message.port.messageId) pid=\(message.port.clientId.process) len=\(message.port.dataLength) data=\(hex(message.data))")
        switch kind {
        case .connectionRequest:
            if arguments.contains("--ignore-connections") { continue }
            if arguments.contains("--refuse") {
                try server.refuseConnection(message)
                continue
            }
            try message.setData("Connection message response")
            try server.acceptConnection(message, portContext: 0x1122_3344)
        case .request:
            if arguments.contains("--no-reply") { continue }
            let data = message.data
            if data == seedRequest {
                try message.setData(seedReply)
            } else {
                try message.setData("REQUEST '\(message.string)' DONE")
            }
            message.attributes.valid.remove([.view, .handle])
            try server.send(message)
        default:
            break
        }
    }
}

func runClient(_ arguments: [String]) throws(NTStatus) {
    let name = arguments[0]
    if let uid = option("--as-uid", in: arguments).flatMap({ UInt32($0) }) {
        guard setgid(uid) == 0, setuid(uid) == 0 else {
            say("SETUID FAILED")
            exit(4)
        }
    }
    var connectMessage: AlpcMessage?
    if let text = option("--connect-data", in: arguments) {
        connectMessage = try AlpcMessage(string: text)
    }
    let client = try AlpcClient(portName: name, connectMessage: connectMessage, timeout: .seconds(5))
    say("CONNECTED \(getpid()) reply=\(client.connectionReply.map { hex($0.data) } ?? "-")")
    let data = option("--data", in: arguments) ?? "request"
    let count = Int(option("--requests", in: arguments) ?? "") ?? 0
    for index in 0..<count {
        let text = "\(data) \(getpid()) \(index)"
        let reply = try client.sendReceive(text, timeout: .seconds(10))
        guard reply.string == "REQUEST '\(text)' DONE" else {
            say("WRONG REPLY \(reply.string)")
            exit(5)
        }
    }
    if count > 0 { say("REPLIES \(count)") }
    let datagrams = Int(option("--datagrams", in: arguments) ?? "") ?? 0
    for index in 0..<datagrams {
        try client.send(AlpcMessage(string: "datagram \(index)"), flags: .releaseMessage)
    }
    if datagrams > 0 { say("DATAGRAMS \(datagrams)") }
    switch option("--after", in: arguments) ?? "disconnect" {
    case "exit":
        exit(0)
    case "sleep":
        say("SLEEPING")
        while true { sleep(1) }
    case "hang":
        // A request the server will not answer: the test kills the server meanwhile.
        say("WAITING")
        do {
            _ = try client.sendReceive("hang", timeout: .seconds(10))
            say("UNEXPECTED REPLY")
        } catch {
            say("STATUS \(error)")
            do {
                _ = try client.sendReceive("again", timeout: .seconds(1))
            } catch {
                say("AGAIN \(error)")
            }
        }
    default:
        client.disconnect()
        say("DISCONNECTED")
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
    say("usage: alpc-test-peer server|client NAME [options]")
    exit(2)
}
armDeadline(seconds: UInt32(option("--seconds", in: arguments) ?? "") ?? 30)
do {
    switch arguments[0] {
    case "server": try runServer(Array(arguments.dropFirst()))
    case "client": try runClient(Array(arguments.dropFirst()))
    default:
        say("unknown scenario \(arguments[0])")
        exit(2)
    }
} catch {
    say("STATUS \(error)")
    exit(1)
}
