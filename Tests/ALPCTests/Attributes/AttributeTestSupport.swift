@testable import ALPC
import CALPC
import CALPCSystem
import Glibc
import Testing

/// Issue 4 across real processes: message attributes between an `AlpcServer` or `AlpcClient` in
/// the test process and an `alpc-test-peer` child (`attr-client` / `attr-server`, see
/// `Sources/alpc-test-peer/AttributeScenarios.swift`). Every suite of
/// `Tests/ALPCTests/Attributes` nests here, so `swift test --filter Attributes` runs them all.
@Suite("Attributes")
enum AttributesTests {}

/// A test precondition that did not hold.
struct AttributeTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// An `AlpcServer` in the test process with one `attr-client` peer connected to it.
final class AttributeSession {
    let name: String
    let server: AlpcServer
    let peer: PeerProcess
    let connection: ServerConnection

    /// Creates the server, starts the peer with `steps`, and accepts its connection with
    /// `acceptFlags` and port context 0x11223344. `quota`, when given, replaces the one the
    /// server attributes make.
    init(
        _ steps: [String], acceptFlags: UInt32 = PortAttributes.allowDuplicateObjectsFlag,
        serverAttributes: PortAttributes = .server, quota: PortQuota? = nil, label: String = #function
    ) throws {
        name = uniquePortName(label)
        server = try AlpcServer(
            portName: name, attributes: serverAttributes, access: .sameUser,
            quota: quota ?? PortQuota(attributes: serverAttributes))
        peer = try PeerProcess(["attr-client", name] + steps + ["--seconds", "90"])
        let request = try server.receive(timeout: .seconds(20))
        guard request.messageType.kind == .connectionRequest else {
            throw AttributeTestFailure("expected a connection request, got \(request.messageType)")
        }
        guard request.string == "Connection request client message" else {
            throw AttributeTestFailure("connection data \(request.string)")
        }
        try request.setData("Connection message response")
        connection = try server.acceptConnection(
            request, attributes: PortAttributes(flags: acceptFlags), portContext: 0x1122_3344)
    }

    /// Receives the next request into `message`.
    @discardableResult
    func nextRequest(into message: AlpcMessage, timeout: Duration = .seconds(20)) throws -> AlpcMessage {
        try server.receive(into: message, timeout: timeout)
        guard message.messageType.kind == .request else {
            throw AttributeTestFailure("expected a request, got \(message.messageType) (peer printed \(peer.lines))")
        }
        return message
    }

    /// Replies "REQUEST '<data>' DONE", clearing `clearing` first (the seed's way).
    func answer(_ message: AlpcMessage, clearing: AttributeFlags = [.view, .handle]) throws {
        let text = message.string
        message.validAttributes.subtract(clearing)
        try message.setData("REQUEST '\(text)' DONE")
        try server.send(message)
    }

    /// Answers every request (clearing VIEW and HANDLE) until the peer prints `DONE`.
    /// Returns the data of the requests answered.
    @discardableResult
    func serveUntilDone(into message: AlpcMessage = AlpcMessage(size: 0x2000), timeout: Double = 60) throws -> [String] {
        var seen: [String] = []
        let start = Self.now()
        while Self.now() - start < timeout {
            do {
                try server.receive(into: message, timeout: .milliseconds(100))
                if message.messageType.kind == .request {
                    seen.append(message.string)
                    try answer(message)
                }
            } catch NTStatus.timeout {
            }
            if peer.waitForLine(prefix: "DONE", timeout: 0.01) != nil { return seen }
        }
        throw AttributeTestFailure("peer did not finish: \(peer.lines)")
    }

    /// The peer's line starting with `prefix`, or a failure naming what it printed.
    @discardableResult
    func line(_ prefix: String, timeout: Double = 20) throws -> String {
        guard let line = peer.waitForLine(prefix: prefix, timeout: timeout) else {
            throw AttributeTestFailure("no line \"\(prefix)\" from the peer; it printed \(peer.lines)")
        }
        return line
    }

    /// The peer's credentials, from its `CONNECTED pid= uid= gid=` line.
    func peerCredentials() throws -> (pid: UInt64, uid: UInt64, gid: UInt64) {
        let connected = try line("CONNECTED")
        guard let pid = attributeNumber("pid", in: connected), let uid = attributeNumber("uid", in: connected),
            let gid = attributeNumber("gid", in: connected)
        else { throw AttributeTestFailure("bad line \(connected)") }
        return (pid, uid, gid)
    }

    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// The value of `key=` in a peer's line, up to the next space.
func attributeField(_ key: String, in line: String) -> String? {
    for part in line.split(separator: " ") where part.hasPrefix(key + "=") {
        return String(part.dropFirst(key.count + 1))
    }
    return nil
}

/// The decimal value of `key=` in a peer's line.
func attributeNumber(_ key: String, in line: String) -> UInt64? {
    attributeField(key, in: line).flatMap { UInt64($0) }
}

/// The text of the view or buffer up to the first NUL.
func text(_ bytes: UnsafeRawBufferPointer?) -> String {
    guard let bytes else { return "" }
    let end = bytes.firstIndex(of: 0) ?? bytes.count
    return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
}

/// The text of a view up to the first NUL; empty for no view.
func text(_ bytes: UnsafeMutableRawBufferPointer?) -> String {
    text(bytes.map { UnsafeRawBufferPointer($0) })
}

/// The first bytes of the open file `fd`, read from offset 0.
func fileText(_ fd: Int32) -> String {
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
    return String(decoding: buffer[0..<max(0, count)], as: UTF8.self)
}

/// Whether `fd` is an open descriptor of this process.
func isOpen(_ fd: Int32) -> Bool {
    fcntl(fd, F_GETFD) >= 0
}

/// The device and inode `fd` refers to, or nil when it is not open.
func openFileIdentity(_ fd: Int32) -> [UInt64]? {
    var info = stat()
    guard fstat(fd, &info) == 0 else { return nil }
    return [UInt64(info.st_dev), UInt64(info.st_ino)]
}

/// True when descriptor number `fd` is open on the file `identity`. Other tests of this
/// process may reuse a closed number for their own files meanwhile; this tells them apart.
func isOpen(_ fd: Int32, on identity: [UInt64]?) -> Bool {
    // Peer descriptors are closed on the library's closing thread: look once it is done.
    _ = PeerDescriptorCloser.shared.drain()
    return identity != nil && openFileIdentity(fd) == identity
}

/// The number of open descriptors of this process.
func openDescriptorCount() -> Int {
    // Peer descriptors are closed on the library's closing thread, and the async reactor keeps
    // an epoll descriptor for a second after its last wait: count once both are done.
    _ = PeerDescriptorCloser.shared.drain()
    _ = PollReactor.shared.waitUntilStopped()
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while readdir(directory) != nil { count += 1 }
    return count - 3  // ".", ".." and the directory's own descriptor
}

/// The lines of /proc/self/maps.
func memoryMaps() -> [String] {
    guard let file = fopen("/proc/self/maps", "r") else { return [] }
    defer { fclose(file) }
    var lines: [String] = []
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), file) != nil {
        lines.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return lines
}

/// The number of this process's mappings of memfds: connection segments and sections. Other
/// tests running meanwhile add and drop thread stacks and heap arenas, never these.
func memfdMappingCount() -> Int {
    memoryMaps().filter { $0.contains("/memfd:") }.count
}

/// The /proc/self/maps line of the mapping that contains `address`, if any.
func mapping(containing address: UnsafeRawPointer) -> String? {
    let value = UInt(bitPattern: address)
    for line in memoryMaps() {
        let range = line.prefix { $0 != " " }.split(separator: "-")
        guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16) else {
            continue
        }
        if value >= start && value < end { return line }
    }
    return nil
}

/// The inode of the file mapped at `address` ("0" for anonymous memory), or nil when nothing is.
func mappedInode(at address: UnsafeRawPointer) -> String? {
    guard let line = mapping(containing: address) else { return nil }
    let fields = line.split(separator: " ", omittingEmptySubsequences: true)
    return fields.count > 4 ? String(fields[4]) : nil
}

/// Whether the section mapped at `address` when `inode` was read is still mapped there. Other
/// tests may map something else at the same address once it is free, so the inode decides.
func isStillMapped(_ address: UnsafeRawPointer, inode: String?) -> Bool {
    guard let inode else { return false }
    return mappedInode(at: address) == inode
}

/// The seed's test_alpc request and reply, and test_view_alpc's view.
let attributeSeedRequestBytes: [UInt8] = Array("Message 1".utf8) + [0x00, 0xFF] + Array("ABCD".utf8)
let attributeSeedReplyBytes: [UInt8] = Array("Message 2-".utf8) + (0...255).map { UInt8($0) }
let attributeSeedViewBytes: [UInt8] = Array("Message Data-view".utf8) + (0...255).map { UInt8($0) }
