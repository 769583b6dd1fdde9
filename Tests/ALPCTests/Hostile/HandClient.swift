@testable import ALPC
import CALPC
import CALPCSystem
import Glibc
import Synchronization

/// A client that speaks the protocol by hand: it connects and is accepted as any client, then
/// writes whatever it likes into the request ring, the ring indices and the control socket.
final class HandClient {
    let socket: ControlSocket
    let segment: ConnectionSegment
    let doorbell: Int32
    /// The next request slot to publish.
    private(set) var tail: UInt32 = 0

    /// Connects to `name` and waits (up to 10 s) to be accepted.
    init(_ name: String) throws {
        socket = try ControlSocket.connect(to: PortName(name))
        try socket.send(.connect(.init(threadId: 1, flags: 0, attributes: PortAttributes.client.raw, message: [])))
        let (packet, fds) = try socket.receivePacket(maxFDs: 2, timeout: .seconds(10))
        if case .refuse(let status, _) = packet { throw status }
        guard case .accept = packet, fds.count == 2 else {
            for fd in fds { close(fd) }
            throw NTStatus.portConnectionRefused
        }
        defer { close(fds[0]) }
        segment = try ConnectionSegment.attach(fd: fds[0])
        doorbell = fds[1]
    }

    deinit {
        socket.shutdown()
        close(doorbell)
    }

    var requests: RingView { segment.ring(.toServer) }
    var replies: RingView { segment.ring(.toClient) }
    var geometry: SegmentGeometry { segment.geometry }

    /// Lets `write` fill the next request slot (`slotSize` bytes), then publishes it and rings.
    func publish(_ write: (UnsafeMutableRawPointer) -> Void) {
        write(requests.slot(tail))
        tail &+= 1
        requests.tail.pointee.store(tail, ordering: .releasing)
        ring()
    }

    /// Publishes a record of `kind` carrying `text`, with slot `flags` (well-formed unless the
    /// kind or the flags lie).
    func publishValid(_ text: String, kind: UInt32 = ALPC_RECORD_REQUEST, cookie: UInt32 = 1, flags: UInt32 = 0) throws {
        let message = try AlpcMessage(string: text)
        publish { slot in
            SlotRecord.write(
                message, dataLength: message.dataLength, kind: kind, cookie: cookie,
                clientId: ClientID(process: 1, thread: 1), messageId: 0, callbackId: 0, flags: flags, to: slot)
        }
    }

    /// Waits up to `timeout` seconds for a free request slot; false when none came (or the
    /// server dropped the connection).
    func waitForRoom(timeout: Double = 2) -> Bool {
        let deadline = HostileEnvironment.now() + timeout
        while tail &- requests.head.pointee.load(ordering: .acquiring) >= UInt32(geometry.slotCount) {
            if HostileEnvironment.now() >= deadline || waitUntilDropped(timeout: 0) { return false }
            usleep(100)
        }
        return true
    }

    /// Stores `value` in the request ring's tail, as no honest client would.
    func setTail(_ value: UInt32) {
        tail = value
        requests.tail.pointee.store(value, ordering: .releasing)
        ring()
    }

    /// Rings the server's doorbell.
    func ring() {
        var one: UInt64 = 1
        _ = write(doorbell, &one, 8)
    }

    /// Sends raw bytes as one control packet, with `fds`.
    func sendRaw(_ bytes: [UInt8], fds: [Int32] = []) {
        bytes.withUnsafeBytes { raw in _ = try? socket.send(raw, fds: fds, timeout: .seconds(1)) }
    }

    /// Whether the server ended the connection (its closed flag, or the socket's hang-up),
    /// waiting up to `timeout` seconds.
    func waitUntilDropped(timeout: Double = 5) -> Bool {
        let deadline = HostileEnvironment.now() + timeout
        while true {
            if segment.closedFlags.pointee.load(ordering: .acquiring) & ALPC_SEGMENT_SERVER_CLOSED != 0 { return true }
            if socket.isPeerGone() { return true }
            if HostileEnvironment.now() >= deadline { return false }
            usleep(2_000)
        }
    }
}

/// What the hostile-peer tests measure of a victim process.
enum HostileEnvironment {
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// The number of open descriptors of process `pid`.
    static func descriptorCount(_ pid: pid_t) -> Int {
        guard let directory = opendir("/proc/\(pid)/fd") else { return -1 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { count += 1 }
        }
        return count
    }

    /// The resident memory of process `pid`, in KiB (VmRSS).
    static func residentKiB(_ pid: pid_t) -> Int {
        guard let file = fopen("/proc/\(pid)/status", "r") else { return -1 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("VmRSS:") {
                return Int(text.split(separator: " ").dropFirst().first ?? "") ?? -1
            }
        }
        return -1
    }

    /// The CPU time (user and system) process `pid` has used, in seconds.
    static func cpuSeconds(_ pid: pid_t) -> Double {
        guard let file = fopen("/proc/\(pid)/stat", "r") else { return -1 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 1024)
        guard fgets(&line, Int32(line.count), file) != nil else { return -1 }
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return -1 }
        // Fields after the command: state is field 3; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return -1 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Whether process `pid` still runs (not reaped, not a zombie).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let file = fopen("/proc/\(pid)/stat", "r") else { return false }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        guard fgets(&line, Int32(line.count), file) != nil else { return false }
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return false }
        let state = text[text.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }
}
