// The message-attribute scenarios of alpc-test-peer: both sides of messages that carry views,
// handles, tokens, security, direct events and work-on-behalf tickets.
//
//   attr-client NAME STEP... [--seconds S]
//       Connects with "Connection request client message" and prints
//       "CONNECTED pid=<pid> uid=<uid> gid=<gid> reply=<text>", then runs each STEP in order:
//         plain              the sample's plain request: "PLAIN reply=<text> valid=<attributes>"
//         handle             a temporary file holding "Tempfile data <3": "HANDLE reply=<text>"
//         view               a 0x4000 view holding "The content of the view :)": "VIEW reply=<text>
//                            now=<the view's text after the reply>"
//         seedview           the seed's test_view_alpc request: "SEEDVIEW ok|wrong"
//         views:N            N requests with a view of one section: "VIEWS N"
//         handles:N          N requests with a new file each: "HANDLES N"
//         kinds              a socket, a memfd, an eventfd, a pidfd and a read-only file, one per
//                            request: "KIND <name> reply=<text>" or "KIND <name> status=<status>"
//         indirect:N         N files in an indirect handle attribute: "INDIRECT N reply=<text>" or
//                            "INDIRECT N status=<status>"
//         direct             an eventfd in the direct attribute: "DIRECT count=<n>"
//         wob:T              work-on-behalf ticket T (hex): "WOB reply=<text>"
//         security           flags 0, QoS {12, 2, 1, 1}, context handle 0x1234: "SECURITY reply=<text>"
//         forge              a forged token attribute {1, 2, 3}: "FORGE reply=<text>"
//         bad                invalid attributes, each "BAD <case> <status>", then a good request
//         echoview           a view the server sends back: "ECHOVIEW valid=<0|1> same=<0|1> text=<text>"
//         echohandle         a file the server sends back: "ECHOHANDLE valid=<0|1> other=<0|1> content=<text>"
//         replyview          "REPLYVIEW valid=<0|1> text=<text>" (server with --reply-view)
//         replyhandle        "REPLYHANDLE type=<n> content=<text>" (server with --reply-handle)
//         delete             sends a view, then deletes its section: "DELETED"
//         sections:N         N times: a new section, a request with a view of it, its deletion:
//                            "SECTIONS N"
//         bench:N            N round trips each plain, with a view, with a file handle, with a
//                            direct event, and N/10 with a new section each:
//                            "BENCH plain=<ns> view=<ns> newsection=<ns> handle=<ns> direct=<ns>"
//                            (medians of 5 batches, per round trip)
//         bigview:SIZE       a section of SIZE bytes (hex with 0x) and a request with a 0x1000 view
//                            of it: "BIGVIEW reply=<text>" or "BIGVIEW status=<status>"
//         keepsections:N     N sections of 0x10000 bytes, each sent in a request with a view of
//                            it and kept: "KEEPSECTIONS N", or "KEEPSECTIONS <i> status=<status>"
//                            at the first that fails
//         linger:S           a TCP socket whose last close blocks for S seconds (its loopback
//                            peer never reads, its send buffer is full, SO_LINGER is on) sent
//                            as a handle, this process's copy closed: "LINGER reply=<text>"
//         sleep:MS           sleeps MS milliseconds
//         wait               stays connected until killed
//       and prints "DONE". With --max-section-size N the client's MaxSectionSize, MaxViewSize
//       and MaxTotalSectionSize are N (to make sections larger than a server allows).
//   attr-server NAME [--keep] [--unmap] [--write-view TEXT] [--reply-view TEXT]
//               [--reply-handle TEXT] [--multi] [--no-dup] [--dup-types N] [--quiet] [--seconds S]
//       The seed's advanced_alpc server: accepts with port context 0x11223344 and prints per
//       request "REQUEST data=<text>", then one line per valid attribute ("VIEW <attr>
//       content=<text>", "HANDLE <attr> content=<text>", "HANDLES count=<n> contents=<a|b>",
//       "SECURITY <attr> qos=<length,level,tracking,effective>", "CONTEXT <attr>", "TOKEN <attr>",
//       "WOB <ticket>"), then "END". It replies "REQUEST '<data>' DONE" after clearing VIEW and
//       HANDLE, unless --keep (send them back) or --unmap (release the view with
//       ALPC_VIEWFLG_UNMAP_EXISTING). With --quiet it prints nothing per message.
import ALPC
import CALPC
import CALPCSystem

#if canImport(Glibc)
import Glibc
#endif

/// The seed's test_view_alpc view content.
let attributeSeedView: [UInt8] = Array("Message Data-view".utf8) + (0...255).map { UInt8($0) }
/// The seed's test_alpc request and reply (as in main.swift).
let attributeSeedRequest: [UInt8] = Array("Message 1".utf8) + [0x00, 0xFF] + Array("ABCD".utf8)
let attributeSeedReply: [UInt8] = Array("Message 2-".utf8) + (0...255).map { UInt8($0) }

/// The text before the first NUL of `bytes`, at most 200 bytes.
func cText(_ bytes: UnsafeRawBufferPointer?) -> String {
    guard let bytes else { return "-" }
    let limit = min(bytes.count, 200)
    var end = 0
    while end < limit && bytes[end] != 0 { end += 1 }
    return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
}

/// A new unlinked temporary file holding `content`, open read-write.
func temporaryFile(_ content: String) -> Int32 {
    var template = Array("/tmp/swiftalpc-peer-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else {
        say("MKSTEMP FAILED")
        exit(6)
    }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    let bytes = Array(content.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    return fd
}

/// A new unlinked temporary file holding `content`, open read-only.
func readOnlyFile(_ content: String) -> Int32 {
    var template = Array("/tmp/swiftalpc-peer-XXXXXX".utf8CString)
    let writer = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    let bytes = Array(content.utf8)
    _ = bytes.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
    let reader = template.withUnsafeBufferPointer { open($0.baseAddress!, O_RDONLY) }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    close(writer)
    return reader
}

/// The first bytes of the file `fd`, read from offset 0.
func fileContent(_ fd: Int32) -> String {
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
    return String(decoding: buffer[0..<max(0, count)], as: UTF8.self)
}

/// Marks the message's handle attribute valid with `fd`, duplicated with the same access.
func attachHandle(_ fd: Int32, to message: AlpcMessage, objectType: UInt32 = 0) {
    let handle = message.handleAttribute!
    handle.flags = HandleAttribute.duplicateSameAccess
    handle.handle = UInt64(fd)
    handle.objectType = objectType
    handle.desiredAccess = 0
    message.isHandleValid = true
}

/// A number written in decimal or, with 0x, in hexadecimal.
func number(_ text: String) -> UInt64? {
    text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
}

/// The unread ends of `linger` steps' connections, open until the process ends.
nonisolated(unsafe) var lingeringPeers: [Int32] = []

/// A TCP socket over loopback whose last close blocks for about `seconds`: its peer (returned
/// too) never reads, its send buffer is full, and SO_LINGER is on.
func lingeringSocket(seconds: Int32) -> (socket: Int32, peer: Int32) {
    let listener = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            _ = bind(listener, raw, length)
            _ = listen(listener, 1)
            _ = getsockname(listener, raw, &length)
        }
    }
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, length) }
    }
    let peer = accept(listener, nil, nil)
    close(listener)
    guard connected == 0, peer >= 0 else {
        say("LINGER SETUP FAILED errno=\(errno)")
        exit(7)
    }
    // Fill everything between the two ends: the peer's receive queue and our send queue.
    _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
    let chunk = [UInt8](repeating: 0x6C, count: 65536)
    while chunk.withUnsafeBytes({ write(socket, $0.baseAddress, $0.count) }) > 0 {}
    _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) & ~O_NONBLOCK)
    var linger = Glibc.linger(l_onoff: 1, l_linger: seconds)
    _ = setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    return (socket, peer)
}

// MARK: Client

func runAttributeClient(_ arguments: [String]) throws(NTStatus) {
    let name = arguments[0]
    var steps: [String] = []
    var index = 1
    while index < arguments.count {
        if arguments[index].hasPrefix("--") {
            index += 2
            continue
        }
        steps.append(arguments[index])
        index += 1
    }
    let connect = try AlpcMessage(string: "Connection request client message")
    var attributes = PortAttributes.client
    if let limit = option("--max-section-size", in: arguments).flatMap(number) {
        attributes.maxSectionSize = limit
        attributes.maxViewSize = limit
        attributes.maxTotalSectionSize = limit
    }
    let client = try AlpcClient(portName: name, connectMessage: connect, attributes: attributes, timeout: .seconds(5))
    say("CONNECTED pid=\(getpid()) uid=\(getuid()) gid=\(getgid()) reply=\(client.connectionReply?.string ?? "-")")
    for step in steps {
        let parts = step.split(separator: ":", maxSplits: 1).map(String.init)
        let parameter = parts.count > 1 ? parts[1] : ""
        try runClientStep(parts[0], parameter, client)
    }
    say("DONE")
}

func request(_ client: AlpcClient, _ message: AlpcMessage) throws(NTStatus) -> AlpcMessage {
    try client.sendReceive(message, timeout: .seconds(20))
}

func runClientStep(_ step: String, _ parameter: String, _ client: AlpcClient) throws(NTStatus) {
    switch step {
    case "plain":
        let reply = try request(client, try AlpcMessage(string: "Complex Message 1"))
        say("PLAIN reply=\(reply.string) valid=\(reply.validAttributes)")
    case "handle":
        let fd = temporaryFile("Tempfile data <3")
        defer { close(fd) }
        let message = try AlpcMessage(string: "some message with a file")
        attachHandle(fd, to: message)
        say("HANDLE reply=\(try request(client, message).string)")
    case "view":
        let section = try client.createPortSection(size: 0x4000)
        let view = try client.createSectionView(section, size: 0x4000)
        view.bytes.copyBytes(from: Array("The content of the view :)".utf8) + [0])
        let message = AlpcMessage(size: 0x2000)
        try message.setData("some message with a view")
        message.viewAttribute!.set(view)
        message.isViewValid = true
        let reply = try request(client, message)
        say("VIEW reply=\(reply.string) now=\(cText(UnsafeRawBufferPointer(view.bytes)))")
    case "seedview":
        let section = try client.createPortSection(size: 0x1000)
        let view = try client.createSectionView(section, size: 0x1000)
        view.bytes.copyBytes(from: attributeSeedView)
        let message = try AlpcMessage(data: attributeSeedRequest)
        message.viewAttribute!.set(view)
        message.isViewValid = true
        let reply = try request(client, message)
        say("SEEDVIEW \(reply.data == attributeSeedReply ? "ok" : "wrong")")
    case "views":
        let count = Int(parameter) ?? 1
        let section = try client.createPortSection(size: 0x1000)
        let view = try client.createSectionView(section, size: 0x1000)
        let message = AlpcMessage(size: 0x1000)
        let reply = AlpcMessage(size: 0x1000)
        for index in 0..<count {
            view.bytes.copyBytes(from: Array("view message \(index)".utf8) + [0])
            try message.setData("views \(index)")
            message.viewAttribute!.set(view)
            message.validAttributes = [.view]
            try client.sendReceive(message, receiveInto: reply, timeout: .seconds(20))
        }
        say("VIEWS \(count)")
    case "handles":
        let count = Int(parameter) ?? 1
        let message = AlpcMessage(size: 0x1000)
        let reply = AlpcMessage(size: 0x1000)
        for index in 0..<count {
            let fd = temporaryFile("handle \(index)")
            try message.setData("handles \(index)")
            message.validAttributes = []
            attachHandle(fd, to: message)
            try client.sendReceive(message, receiveInto: reply, timeout: .seconds(20))
            close(fd)
        }
        say("HANDLES \(count)")
    case "kinds":
        var pair: [Int32] = [0, 0]
        _ = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair)
        let kinds: [(String, Int32)] = [
            ("socket", pair[0]),
            ("memfd", alpc_memfd_create("swiftalpc-peer-kind", 4096)),
            ("eventfd", alpc_eventfd_create()),
            ("pidfd", alpc_pidfd_open(getpid())),
            ("readonly", readOnlyFile("read only data")),
        ]
        for (kind, fd) in kinds {
            let message = try AlpcMessage(string: "kind \(kind)")
            attachHandle(fd, to: message)
            do {
                say("KIND \(kind) reply=\(try request(client, message).string)")
            } catch {
                say("KIND \(kind) status=\(error)")
            }
            close(fd)
        }
        close(pair[1])
    case "indirect":
        let count = Int(parameter) ?? 2
        let fds = (0..<count).map { temporaryFile("file \($0)") }
        defer { for fd in fds { close(fd) } }
        let stride = MemoryLayout<ALPC_HANDLE_ATTR32>.size
        let array = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * stride, alignment: 8)
        defer { array.deallocate() }
        for (index, fd) in fds.enumerated() {
            var entry = ALPC_HANDLE_ATTR32()
            entry.Flags = HandleAttribute.duplicateSameAccess
            entry.Handle = UInt32(fd)
            (array + index * stride).storeBytes(of: entry, as: ALPC_HANDLE_ATTR32.self)
        }
        let message = try AlpcMessage(string: "indirect \(count)")
        let handle = message.handleAttribute!
        handle.flags = HandleAttribute.indirectFlag
        handle.handleAttrArrayAddress = array
        handle.handleCount = UInt32(count)
        message.isHandleValid = true
        do {
            say("INDIRECT \(count) reply=\(try request(client, message).string)")
        } catch {
            say("INDIRECT \(count) status=\(error)")
        }
    case "direct":
        let event = alpc_eventfd_create()
        defer { close(event) }
        let message = try AlpcMessage(string: "direct")
        message.directAttribute!.event = UInt64(event)
        message.isDirectValid = true
        _ = try request(client, message)
        var count: UInt64 = 0
        _ = alpc_eventfd_drain(event, &count)
        say("DIRECT count=\(count)")
    case "wob":
        let message = try AlpcMessage(string: "wob")
        message.workOnBehalfAttribute!.ticket = UInt64(parameter, radix: 16) ?? 0
        message.isWorkOnBehalfValid = true
        say("WOB reply=\(try request(client, message).string)")
    case "security":
        let qos = UnsafeMutablePointer<SECURITY_QUALITY_OF_SERVICE>.allocate(capacity: 1)
        defer { qos.deallocate() }
        qos.initialize(to: SECURITY_QUALITY_OF_SERVICE(
            Length: 12, ImpersonationLevel: SecurityImpersonation, ContextTrackingMode: 1, EffectiveOnly: 1))
        let message = try AlpcMessage(string: "security")
        let security = message.securityAttribute!
        security.flags = 0
        security.qosAddress = UnsafeMutableRawPointer(qos)
        security.contextHandle = 0x1234
        message.isSecurityValid = true
        say("SECURITY reply=\(try request(client, message).string)")
    case "forge":
        let message = try AlpcMessage(string: "forge")
        let token = message.tokenAttribute!
        token.tokenId = 1
        token.authenticationId = 2
        token.modifiedId = 3
        message.isTokenValid = true
        say("FORGE reply=\(try request(client, message).string)")
    case "bad":
        try runBadInputs(client)
    case "echoview":
        let section = try client.createPortSection(size: 0x1000)
        let view = try client.createSectionView(section, size: 0x1000)
        view.bytes.copyBytes(from: Array("echo me".utf8) + [0])
        let message = try AlpcMessage(string: "echo view")
        message.viewAttribute!.set(view)
        message.isViewValid = true
        let reply = try request(client, message)
        let attribute = reply.viewAttribute!
        let same = attribute.viewBaseAddress == view.viewBase
        say("ECHOVIEW valid=\(reply.isViewValid ? 1 : 0) same=\(same ? 1 : 0) text=\(cText(attribute.bytes.map { UnsafeRawBufferPointer($0) }))")
    case "echohandle":
        let fd = temporaryFile("echo handle data")
        defer { close(fd) }
        let message = try AlpcMessage(string: "echo handle")
        attachHandle(fd, to: message)
        let reply = try request(client, message)
        if reply.isHandleValid, let back = reply.takeHandle() {
            say("ECHOHANDLE valid=1 other=\(back != fd ? 1 : 0) content=\(fileContent(back))")
            close(back)
        } else {
            say("ECHOHANDLE valid=0 other=0 content=-")
        }
    case "replyview":
        let reply = try request(client, try AlpcMessage(string: "reply view"))
        say("REPLYVIEW valid=\(reply.isViewValid ? 1 : 0) text=\(cText(reply.viewAttribute!.bytes.map { UnsafeRawBufferPointer($0) }))")
    case "replyhandle":
        let reply = try request(client, try AlpcMessage(string: "reply handle"))
        if reply.isHandleValid, let fd = reply.takeHandle() {
            say("REPLYHANDLE type=\(reply.handleAttribute!.objectType) content=\(fileContent(fd))")
            close(fd)
        } else {
            say("REPLYHANDLE type=0 content=-")
        }
    case "delete":
        let section = try client.createPortSection(size: 0x1000)
        let view = try client.createSectionView(section, size: 0x1000)
        view.bytes.copyBytes(from: Array("deleted soon".utf8) + [0])
        let message = try AlpcMessage(string: "delete")
        message.viewAttribute!.set(view)
        message.isViewValid = true
        _ = try request(client, message)
        try client.deletePortSection(section)
        say("DELETED")
    case "bench":
        try runAttributeBench(client, count: Int(parameter) ?? 1000)
    case "sections":
        let count = Int(parameter) ?? 1
        let message = AlpcMessage(size: 0x1000)
        let reply = AlpcMessage(size: 0x1000)
        for index in 0..<count {
            let section = try client.createPortSection(size: 0x2000)
            let view = try client.createSectionView(section, size: 0x2000)
            view.bytes.copyBytes(from: Array("section \(index)".utf8) + [0])
            try message.setData("sections \(index)")
            message.viewAttribute!.set(view)
            message.validAttributes = [.view]
            try client.sendReceive(message, receiveInto: reply, timeout: .seconds(20))
            try client.deletePortSection(section)
        }
        say("SECTIONS \(count)")
    case "bigview":
        do {
            let section = try client.createPortSection(size: Int(number(parameter) ?? 0))
            let view = try client.createSectionView(section, size: 0x1000)
            view.bytes.copyBytes(from: Array("big".utf8) + [0])
            let message = AlpcMessage(size: 0x1000)
            try message.setData("bigview")
            message.viewAttribute!.set(view)
            message.isViewValid = true
            say("BIGVIEW reply=\(try request(client, message).string)")
        } catch {
            say("BIGVIEW status=\(error)")
        }
    case "keepsections":
        let count = Int(parameter) ?? 1
        let message = AlpcMessage(size: 0x1000)
        let reply = AlpcMessage(size: 0x1000)
        for index in 0..<count {
            do {
                let section = try client.createPortSection(size: 0x10000)
                let view = try client.createSectionView(section, size: 0x1000)
                try message.setData("keepsections \(index)")
                message.viewAttribute!.set(view)
                message.validAttributes = [.view]
                try client.sendReceive(message, receiveInto: reply, timeout: .seconds(20))
            } catch {
                say("KEEPSECTIONS \(index) status=\(error)")
                return
            }
        }
        say("KEEPSECTIONS \(count)")
    case "linger":
        let (socket, peer) = lingeringSocket(seconds: Int32(parameter) ?? 5)
        let message = try AlpcMessage(string: "linger")
        attachHandle(socket, to: message)
        let reply = try request(client, message)
        // The server's copy, which it still holds, is now the socket's last descriptor.
        close(socket)
        say("LINGER reply=\(reply.string)")
        // The peer end stays open and unread for as long as this process lives.
        lingeringPeers.append(peer)
    case "sleep":
        usleep(UInt32(parameter).map { $0 * 1000 } ?? 0)
    case "wait":
        say("WAITING")
        while true { sleep(1) }
    default:
        say("UNKNOWN STEP \(step)")
        exit(2)
    }
}

/// Sends messages with invalid attributes; each must fail at the sender with a clear status,
/// and the server must see none of them.
func runBadInputs(_ client: AlpcClient) throws(NTStatus) {
    func attempt(_ name: String, _ message: AlpcMessage) {
        do {
            _ = try request(client, message)
            say("BAD \(name) accepted")
        } catch {
            say("BAD \(name) \(error)")
        }
    }
    // Marked valid, not allocated.
    let unallocated = try AlpcMessage(string: "bad unallocated", attributes: .with([.context]))
    unallocated.attributes.valid = [.view]
    attempt("unallocated", unallocated)
    // A view running past the end of its section, and a view that is no view at all.
    let section = try client.createPortSection(size: 0x1000)
    let view = try client.createSectionView(section, size: 0x1000)
    let past = try AlpcMessage(string: "bad view")
    past.viewAttribute!.set(DataView(sectionHandle: section.handle, viewBase: view.viewBase + 0x800, viewSize: 0x1000))
    past.isViewValid = true
    attempt("viewpast", past)
    let stray = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
    defer { stray.deallocate() }
    let nowhere = try AlpcMessage(string: "bad view")
    nowhere.viewAttribute!.set(DataView(sectionHandle: 0, viewBase: stray, viewSize: 64))
    nowhere.isViewValid = true
    attempt("viewnowhere", nowhere)
    let unknown = try AlpcMessage(string: "bad section")
    unknown.viewAttribute!.set(DataView(sectionHandle: 0xDEAD, viewBase: view.viewBase, viewSize: 16))
    unknown.isViewValid = true
    attempt("section", unknown)
    // A descriptor that was closed, and one that never was.
    let closed = temporaryFile("closed")
    close(closed)
    let closedMessage = try AlpcMessage(string: "bad closed")
    attachHandle(closed, to: closedMessage)
    attempt("closedfd", closedMessage)
    let invalid = try AlpcMessage(string: "bad invalid")
    attachHandle(99_999, to: invalid)
    attempt("invalidfd", invalid)
    // An object type the sender got wrong.
    let event = alpc_eventfd_create()
    defer { close(event) }
    let mismatch = try AlpcMessage(string: "bad type")
    attachHandle(event, to: mismatch, objectType: HandleAttribute.fileObjectType)
    attempt("type", mismatch)
    // A direct event that is not an event.
    let file = temporaryFile("not an event")
    defer { close(file) }
    let direct = try AlpcMessage(string: "bad direct")
    direct.directAttribute!.event = UInt64(file)
    direct.isDirectValid = true
    attempt("direct", direct)
    // Too many handles, too few.
    let stride = MemoryLayout<ALPC_HANDLE_ATTR32>.size
    let array = UnsafeMutableRawPointer.allocate(byteCount: 513 * stride, alignment: 8)
    defer { array.deallocate() }
    for index in 0..<513 {
        var entry = ALPC_HANDLE_ATTR32()
        entry.Handle = UInt32(file)
        (array + index * stride).storeBytes(of: entry, as: ALPC_HANDLE_ATTR32.self)
    }
    for (name, count) in [("count", 513), ("one", 1)] {
        let many = try AlpcMessage(string: "bad count")
        let handle = many.handleAttribute!
        handle.flags = HandleAttribute.indirectFlag
        handle.handleAttrArrayAddress = array
        handle.handleCount = UInt32(count)
        many.isHandleValid = true
        attempt(name, many)
    }
    let reply = try request(client, try AlpcMessage(string: "after bad"))
    say("AFTERBAD reply=\(reply.string)")
}

// MARK: Server

func runAttributeServer(_ arguments: [String]) throws(NTStatus) {
    let name = arguments[0]
    var attributes = PortAttributes(flags: 0, maxMessageLength: 0x1000)
    if let types = option("--dup-types", in: arguments) {
        attributes.dupObjectTypes = UInt32(types.hasPrefix("0x") ? String(types.dropFirst(2)) : types, radix: 16) ?? 0
    }
    var acceptFlags: UInt32 = arguments.contains("--no-dup") ? 0 : PortAttributes.allowDuplicateObjectsFlag
    if arguments.contains("--multi") { acceptFlags |= PortAttributes.allowMultipleHandlesFlag }
    let keep = arguments.contains("--keep")
    let unmap = arguments.contains("--unmap")
    let writeView = option("--write-view", in: arguments)
    let replyView = option("--reply-view", in: arguments)
    let replyHandle = option("--reply-handle", in: arguments)
    let quiet = arguments.contains("--quiet")
    let server = try AlpcServer(portName: name, attributes: attributes)
    say("READY \(getpid())")
    let message = AlpcMessage(size: 0x2000)
    var replySection: (AlpcSection, DataView)?
    while true {
        try server.receive(into: message)
        switch message.messageType.kind {
        case .connectionRequest:
            say("CONNECT data=\(message.string)")
            try message.setData("Connection message response")
            try server.acceptConnection(
                message, attributes: PortAttributes(flags: acceptFlags), portContext: 0x1122_3344)
        case .request:
            let data = message.data
            if !quiet {
                say("REQUEST data=\(message.string)")
                printAttributes(of: message)
            }
            if let writeView, message.isViewValid, let bytes = message.viewAttribute!.bytes {
                bytes.copyBytes(from: Array(writeView.utf8) + [0])
            }
            if data == attributeSeedRequest {
                let seen = message.viewAttribute!.bytes.map { Array($0.prefix(attributeSeedView.count)) }
                say("SEEDVIEW \(message.isViewValid && seen == attributeSeedView ? "ok" : "wrong")")
            }
            if unmap {
                message.viewAttribute!.flags = DataViewAttribute.unmapExisting
                message.validAttributes.remove(.handle)
            } else if !keep {
                message.validAttributes.remove([.view, .handle])
            }
            var replyFD: Int32 = -1
            if let replyView {
                if replySection == nil {
                    let section = try server.createPortSection(size: 0x1000)
                    replySection = (section, try server.createSectionView(section, size: 0x1000))
                }
                let view = replySection!.1
                view.bytes.copyBytes(from: Array(replyView.utf8) + [0])
                message.viewAttribute!.set(view)
                message.isViewValid = true
            }
            if let replyHandle {
                replyFD = temporaryFile(replyHandle)
                attachHandle(replyFD, to: message)
            }
            if data == attributeSeedRequest {
                try message.setData(attributeSeedReply)
            } else {
                try message.setData("REQUEST '\(message.string)' DONE")
            }
            do {
                try server.send(message)
            } catch {
                say("REPLYFAIL \(error)")
            }
            if replyFD >= 0 { close(replyFD) }
            if !quiet { say("END") }
        default:
            say("OTHER type=0x\(String(message.port.type, radix: 16))")
        }
    }
}

/// Prints the valid attributes of a received request, as the advanced sample does.
func printAttributes(of message: AlpcMessage) {
    if message.isViewValid, let view = message.viewAttribute {
        say("VIEW \(view) content=\(cText(view.bytes.map { UnsafeRawBufferPointer($0) }))")
    }
    if message.isSecurityValid, let security = message.securityAttribute {
        var qos = "-"
        if let address = security.qosAddress {
            let value = address.loadUnaligned(as: SECURITY_QUALITY_OF_SERVICE.self)
            qos = "\(value.Length),\(value.ImpersonationLevel.rawValue),\(value.ContextTrackingMode),\(value.EffectiveOnly)"
        }
        say("SECURITY \(security) qos=\(qos)")
    }
    if message.isHandleValid, let handle = message.handleAttribute {
        if handle.isIndirect, let array = handle.handleAttrArrayAddress {
            var contents: [String] = []
            for index in 0..<Int(handle.handleCount) {
                let entry = (array + index * MemoryLayout<ALPC_HANDLE_ATTR32>.size)
                    .loadUnaligned(as: ALPC_HANDLE_ATTR32.self)
                contents.append(fileContent(Int32(bitPattern: entry.Handle)))
            }
            say("HANDLES count=\(handle.handleCount) contents=\(contents.joined(separator: "|"))")
        } else {
            let content = handle.objectType == HandleAttribute.fileObjectType ? fileContent(Int32(handle.handle)) : "-"
            say("HANDLE \(handle) content=\(content)")
        }
    }
    if message.isContextValid, let context = message.contextAttribute {
        say("CONTEXT \(context)")
    }
    if message.isTokenValid, let token = message.tokenAttribute {
        say("TOKEN \(token)")
    }
    if message.isWorkOnBehalfValid, let ticket = message.workOnBehalfAttribute {
        say("WOB \(ticket)")
    }
}

// MARK: Bench

/// CLOCK_MONOTONIC in nanoseconds.
func benchNow() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// The median over 5 batches of `count` calls of `body`, in nanoseconds per call.
func benchMedian(_ count: Int, _ body: () throws(NTStatus) -> Void) throws(NTStatus) -> UInt64 {
    var samples: [UInt64] = []
    for _ in 0..<5 {
        let start = benchNow()
        for _ in 0..<count { try body() }
        samples.append((benchNow() - start) / UInt64(count))
    }
    return samples.sorted()[2]
}

/// Round trips with and without attributes against a quiet attr-server.
func runAttributeBench(_ client: AlpcClient, count: Int) throws(NTStatus) {
    let reply = AlpcMessage(size: 0x1000)
    let plain = try AlpcMessage(string: "plain")
    for _ in 0..<count { try client.sendReceive(plain, receiveInto: reply, timeout: .seconds(10)) }
    let plainCost = try benchMedian(count) { () throws(NTStatus) in
        try client.sendReceive(plain, receiveInto: reply, timeout: .seconds(10))
    }
    let section = try client.createPortSection(size: 0x1000)
    let view = try client.createSectionView(section, size: 0x1000)
    let viewMessage = try AlpcMessage(string: "view")
    viewMessage.viewAttribute!.set(view)
    let viewCost = try benchMedian(count) { () throws(NTStatus) in
        viewMessage.validAttributes = [.view]
        try client.sendReceive(viewMessage, receiveInto: reply, timeout: .seconds(10))
    }
    let newSectionCost = try benchMedian(max(1, count / 10)) { () throws(NTStatus) in
        let section = try client.createPortSection(size: 0x1000)
        let view = try client.createSectionView(section, size: 0x1000)
        viewMessage.viewAttribute!.set(view)
        viewMessage.validAttributes = [.view]
        try client.sendReceive(viewMessage, receiveInto: reply, timeout: .seconds(10))
        try client.deletePortSection(section)
    }
    let file = temporaryFile("bench")
    defer { close(file) }
    let handleMessage = try AlpcMessage(string: "handle")
    let handleCost = try benchMedian(count) { () throws(NTStatus) in
        attachHandle(file, to: handleMessage)
        try client.sendReceive(handleMessage, receiveInto: reply, timeout: .seconds(10))
    }
    let event = alpc_eventfd_create()
    defer { close(event) }
    let directMessage = try AlpcMessage(string: "direct")
    directMessage.directAttribute!.event = UInt64(event)
    let directCost = try benchMedian(count) { () throws(NTStatus) in
        directMessage.validAttributes = [.direct]
        try client.sendReceive(directMessage, receiveInto: reply, timeout: .seconds(10))
        var drained: UInt64 = 0
        _ = alpc_eventfd_drain(event, &drained)
    }
    say("BENCH plain=\(plainCost) view=\(viewCost) newsection=\(newSectionCost) handle=\(handleCost) direct=\(directCost)")
}
