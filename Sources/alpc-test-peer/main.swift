// alpc-test-peer: the other process of the multi-process tests.
//
// Each scenario is a small, bounded program; it prints one line per event to standard output
// (flushed at once) so the test can follow it, and exits on its own within its time limit
// (`--seconds`, 30 by default: an alarm ends the process).
//
//   server NAME [--no-reply] [--ignore-connections] [--refuse] [--max-length N] [--quiet]
//               [--disconnect connection|port] [--nofile N] [--seconds S]
//       Accepts connections (reply data "Connection message response"), answers requests with
//       "REQUEST '<data>' DONE" (the seed's test_alpc request gets its reply), prints
//       "RECV type= id= pid= tid= len= data=" per message unless --quiet. With --disconnect, the
//       first request is not answered: the server prints "DISCONNECTING now=<ns>" and closes the
//       request's connection (or the whole port), then stays alive until killed or timed out.
//       With --nofile N its soft RLIMIT_NOFILE is N. An accept or a reply that fails is printed ("ACCEPT FAILED <status>", "REPLY FAILED
//       <status>") and the server goes on.
//   client NAME [--connect-data TEXT] [--requests N] [--data TEXT] [--delay-ms N] [--datagrams N]
//               [--check-quiet-ms N] [--unread N] [--batch-datagrams N] [--async N] [--cycles N]
//               [--after exit|disconnect|disconnect-sleep|sleep|hang]
//               [--as-uid UID] [--seconds S]
//       Prints "CONNECTING pid= tid=", then "CONNECTED pid reply=<hex>", does N requests (each
//       checked against "REQUEST '<data> <pid> <i>' DONE"; "REPLIES N"), sends N datagrams
//       ("DATAGRAMS N"), sends --batch-datagrams N datagrams "batch <i>" with sendDatagrams
//       ("BATCH N"), sends --async N asynchronous requests "async <pid> <i>" and then reads their
//       N replies, in any order, each once and each "REQUEST '<its request>' DONE" ("ASYNC N"),
//       sends --unread N asynchronous requests whose replies it never reads ("UNREAD N"), checks
//       with --check-quiet-ms that nothing else arrives within N ms ("QUIET", or "EXTRA type=
//       data="), then ends as --after says ("DISCONNECTING now=<ns>", "DISCONNECTED" and exit by
//       default; disconnect-sleep stays alive after disconnecting).
//       With --cycles N it only connects and disconnects N times ("CYCLES N").
//
// Times (`now=`) are CLOCK_MONOTONIC nanoseconds, comparable with the test process's clock.
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
    // A parent that blocks SIGALRM passes its mask on: unblock it, or the alarm never fires.
    var alarmOnly = sigset_t()
    sigemptyset(&alarmOnly)
    sigaddset(&alarmOnly, SIGALRM)
    sigprocmask(SIG_UNBLOCK, &alarmOnly, nil)
    alarm(seconds)
}

/// CLOCK_MONOTONIC in nanoseconds.
func monotonicNow() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// The calling thread's kernel thread id, from /proc/thread-self (a link to "<pid>/task/<tid>").
func currentThreadId() -> Int {
    var path = [CChar](repeating: 0, count: 256)
    let count = readlink("/proc/thread-self", &path, path.count - 1)
    let link = String(decoding: path[0..<max(0, count)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return link.split(separator: "/").last.flatMap { Int($0) } ?? -1
}

/// Sleeps until the alarm ends the process or a test kills it.
func sleepForever() -> Never {
    while true { sleep(1) }
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
    let quiet = arguments.contains("--quiet")
    let disconnect = option("--disconnect", in: arguments)
    if let limit = option("--nofile", in: arguments).flatMap({ rlim_t($0) }) {
        var current = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &current)
        current.rlim_cur = limit
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &current)
    }
    let server = try AlpcServer(portName: name, attributes: PortAttributes(flags: 0, maxMessageLength: maxLength))
    say("READY \(getpid())")
    let message = AlpcMessage(size: max(0x1000, maxLength))
    // The last accepted connection, for --disconnect connection.
    var lastConnection: ServerConnection?
    while true {
        try server.receive(into: message)
        let kind = message.messageType.kind
        if !quiet {
            let port = message.port
            say("RECV type=0x\(String(port.type, radix: 16)) id=\(port.messageId) pid=\(port.clientId.process) tid=\(port.clientId.thread) len=\(port.dataLength) data=\(hex(message.data))")
        }
        switch kind {
        case .connectionRequest:
            if arguments.contains("--ignore-connections") { continue }
            if arguments.contains("--refuse") {
                try server.refuseConnection(message)
                continue
            }
            try message.setData("Connection message response")
            do {
                lastConnection = try server.acceptConnection(message, portContext: 0x1122_3344)
            } catch {
                // The client went away meanwhile, or the process is short of resources.
                say("ACCEPT FAILED \(error)")
            }
        case .request:
            if arguments.contains("--no-reply") { continue }
            if let disconnect {
                say("DISCONNECTING now=\(monotonicNow())")
                if disconnect == "port" {
                    server.disconnect()
                } else {
                    lastConnection?.disconnect()
                }
                say("DISCONNECTED")
                sleepForever()
            }
            let data = message.data
            if data == seedRequest {
                try message.setData(seedReply)
            } else {
                try message.setData("REQUEST '\(message.string)' DONE")
            }
            message.attributes.valid.remove([.view, .handle])
            do {
                try server.send(message)
            } catch {
                // A client that broke its connection, or one over its quota: the others go on.
                say("REPLY FAILED \(error)")
            }
        default:
            break
        }
    }
}

func runClient(_ arguments: [String]) throws(NTStatus) {
    let name = arguments[0]
    if let uid = option("--as-uid", in: arguments).flatMap({ UInt32($0) }) {
        guard setgroups(0, nil) == 0, setgid(uid) == 0, setuid(uid) == 0 else {
            say("SETUID FAILED")
            exit(4)
        }
    }
    if let cycles = option("--cycles", in: arguments).flatMap({ Int($0) }) {
        for _ in 0..<cycles {
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            client.disconnect()
        }
        say("CYCLES \(cycles)")
        return
    }
    var connectMessage: AlpcMessage?
    if let text = option("--connect-data", in: arguments) {
        connectMessage = try AlpcMessage(string: text)
    }
    say("CONNECTING pid=\(getpid()) tid=\(currentThreadId())")
    let client = try AlpcClient(portName: name, connectMessage: connectMessage, timeout: .seconds(5))
    say("CONNECTED \(getpid()) reply=\(client.connectionReply.map { hex($0.data) } ?? "-")")
    if let delay = option("--delay-ms", in: arguments).flatMap({ UInt32($0) }) {
        usleep(delay * 1000)
    }
    let data = option("--data", in: arguments) ?? "request"
    let count = Int(option("--requests", in: arguments) ?? "") ?? 0
    for index in 0..<count {
        let text = "\(data) \(getpid()) \(index)"
        let reply = try client.sendReceive(text, timeout: .seconds(20))
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
    if let batch = option("--batch-datagrams", in: arguments).flatMap({ Int($0) }) {
        let texts = (0..<batch).map { Array("batch \($0)".utf8) }
        let length = texts.map(\.count).max() ?? 0
        try client.sendDatagrams(count: batch, dataLength: length, timeout: .seconds(20)) { index, data in
            data.initializeMemory(as: UInt8.self, repeating: 0x20)
            data.copyBytes(from: texts[index])
        }
        say("BATCH \(batch)")
    }
    if let outstanding = option("--async", in: arguments).flatMap({ Int($0) }) {
        var awaited = Set<String>()
        for index in 0..<outstanding {
            let text = "async \(getpid()) \(index)"
            _ = try client.send(AlpcMessage(string: text))
            awaited.insert("REQUEST '\(text)' DONE")
        }
        for _ in 0..<outstanding {
            let reply = try client.receive(timeout: .seconds(20))
            guard awaited.remove(reply.string) != nil else {
                say("WRONG REPLY \(reply.string)")
                exit(5)
            }
        }
        say("ASYNC \(outstanding)")
    }
    let unread = Int(option("--unread", in: arguments) ?? "") ?? 0
    for index in 0..<unread {
        _ = try client.send(AlpcMessage(string: "unread \(index)"))
    }
    if unread > 0 { say("UNREAD \(unread)") }
    if let quiet = option("--check-quiet-ms", in: arguments).flatMap({ Int($0) }) {
        // Nothing more may arrive: no stray reply, no message meant for another client.
        do {
            let extra = try client.receive(timeout: .milliseconds(quiet))
            say("EXTRA type=0x\(String(extra.port.type, radix: 16)) data=\(hex(extra.data))")
        } catch .timeout {
            say("QUIET")
        }
    }
    switch option("--after", in: arguments) ?? "disconnect" {
    case "exit":
        exit(0)
    case "sleep":
        say("SLEEPING")
        sleepForever()
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
    case "disconnect-sleep":
        // Stays alive, so the server sees the disconnect itself, not the process's end.
        say("DISCONNECTING now=\(monotonicNow())")
        client.disconnect()
        say("DISCONNECTED")
        sleepForever()
    default:
        say("DISCONNECTING now=\(monotonicNow())")
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
    case "attr-client": try runAttributeClient(Array(arguments.dropFirst()))  // AttributeScenarios.swift
    case "attr-server": try runAttributeServer(Array(arguments.dropFirst()))
    case "service": runService(Array(arguments.dropFirst()))  // ServiceScenario.swift
    default:
        say("unknown scenario \(arguments[0])")
        exit(2)
    }
} catch {
    say("STATUS \(error)")
    exit(1)
}
