@testable import ALPC
import CALPC
import CALPCSystem
import Glibc
import Synchronization
import CoreMetrics
import Testing

/// Issue 3 across real processes: an `AlpcServer` or `AlpcClient` in the test process, the other
/// side in an `alpc-test-peer` child. Every suite of `Tests/ALPCTests/Ports` nests here, so
/// `swift test --filter Ports` runs them all.
@Suite("Ports")
enum PortsTests {}

// MARK: - Time, threads, shared state

extension PortsTests {
    /// CLOCK_MONOTONIC in nanoseconds: the clock the peer prints as `now=`.
    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// Nanoseconds as milliseconds.
    static func milliseconds(_ nanoseconds: UInt64) -> Double {
        Double(nanoseconds) / 1e6
    }

    /// Milliseconds from `start` to `end`, negative when `end` is earlier.
    static func milliseconds(from start: UInt64, to end: UInt64) -> Double {
        end >= start ? milliseconds(end - start) : -milliseconds(start - end)
    }

    /// The CPU time the calling thread has used, in nanoseconds.
    static func threadCPUTime() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// Prints a measurement so the test log keeps it.
    static func report(_ text: String) {
        print("[measure] \(text)")
    }

    /// A test precondition that did not hold.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// A joinable POSIX thread running `body`.
final class TestThread: @unchecked Sendable {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private var thread = pthread_t()
    private var joined = false

    init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// Waits for the thread to end.
    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }

    deinit { join() }
}

/// Runs the blocking `body` on a thread of its own and returns its result, so that an async
/// test never holds one of the cooperative pool's few threads while it waits for a process or
/// a connection (the server it waits for may need that thread). The caller waits meanwhile,
/// so `body` may use the caller's values that are not `Sendable` (a `PeerProcess`).
@discardableResult
func offPool<T: Sendable>(_ body: @escaping () throws -> T) async throws -> T {
    nonisolated(unsafe) let body = body
    let thread = Locked<TestThread?>(nil)
    let result = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        // Kept, not dropped: dropping a TestThread joins it, which would block this pool thread.
        thread.withLock { $0 = TestThread { continuation.resume(with: Result { try body() }) } }
    }
    thread.snapshot?.join()
    return result
}

/// A value shared between threads under a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLockLike()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.withLock { body(&value) }
    }

    var snapshot: Value { withLock { $0 } }
}

// MARK: - Peers

extension PortsTests {
    /// Starts a peer server on `name` and waits for it to listen.
    static func startServer(_ name: String, _ options: [String] = []) throws -> PeerProcess {
        let peer = try PeerProcess(["server", name] + options)
        guard peer.waitForLine(prefix: "READY", timeout: 10) != nil else {
            throw Failure("peer server did not start: \(peer.lines)")
        }
        return peer
    }

    /// A server on a new port and a client of it connected, both in this process (a thread
    /// accepts the connection request). Blocking: from async code, call it through `offPool`.
    static func connectedPair(
        metricsFactory: (any MetricsFactory)? = nil, _ label: String = #function
    ) throws -> (server: AlpcServer, client: AlpcClient) {
        let name = uniquePortName(label)
        let server = try AlpcServer(portName: name)
        let acceptor = TestThread {
            if let request = try? server.receive(timeout: .seconds(10)) { _ = try? server.acceptConnection(request) }
        }
        defer { acceptor.join() }
        let client = try AlpcClient(portName: name, timeout: .seconds(10), metricsFactory: metricsFactory)
        return (server, client)
    }

    /// Starts a peer client of `name`.
    static func startClient(_ name: String, _ options: [String] = []) throws -> PeerProcess {
        try PeerProcess(["client", name] + options)
    }

    /// The next line of `peer` starting with `prefix`, or a thrown failure naming what it printed.
    @discardableResult
    static func expectLine(_ peer: PeerProcess, _ prefix: String, timeout: Double = 10) throws -> String {
        guard let line = peer.nextLine(prefix: prefix, timeout: timeout) else {
            throw Failure("no line \"\(prefix)\" from peer \(peer.pid) within \(timeout) s; it printed \(peer.lines)")
        }
        return line
    }

    /// The value of `key=` in a peer's line (`RECV type=0x2001 id=5 ...`).
    static func field(_ key: String, in line: String) -> String? {
        for part in line.split(separator: " ") where part.hasPrefix(key + "=") {
            return String(part.dropFirst(key.count + 1))
        }
        return nil
    }

    /// The value of `key=` as an integer (decimal, or hex after `0x`).
    static func number(_ key: String, in line: String) -> UInt64? {
        guard let text = field(key, in: line) else { return nil }
        if text.hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) }
        return UInt64(text)
    }

    /// Bytes as the peer prints them: two lowercase hex digits each.
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// The seed's test_alpc request: `Message 1\0\xffABCD`.
    static let seedRequest: [UInt8] = Array("Message 1".utf8) + [0x00, 0xFF] + Array("ABCD".utf8)
    /// The seed's test_alpc reply: `Message 2-` and the bytes 0...255.
    static let seedReply: [UInt8] = Array("Message 2-".utf8) + (0...255).map { UInt8($0) }

    /// The reply every peer and test server gives to a request: `REQUEST '<data>' DONE`.
    static func standardReply(to request: String) -> String {
        "REQUEST '\(request)' DONE"
    }

    /// The calling thread's kernel thread id.
    static var threadId: Int32 { alpc_gettid() }
}

extension PeerProcess {
    /// Whether the process exited normally with status 0, waiting up to `timeout` seconds.
    func exitedCleanly(timeout: Double = 10) -> Bool {
        guard let status = waitForExit(timeout: timeout) else { return false }
        return status & 0x7F == 0 && (status >> 8) & 0xFF == 0
    }
}

// MARK: - A standard server loop

/// What a server loop saw.
struct ServeLog: Sendable {
    /// Accepted connections: the client's pid and uid.
    var accepted: [(pid: Int32, uid: UInt32)] = []
    /// Requests answered, by MessageId.
    var answered: [UInt32] = []
    /// Datagrams received.
    var datagrams = 0
    /// LPC_PORT_CLOSED received, by client pid.
    var closed: [UInt64] = []
    /// LPC_CLIENT_DIED received, by client pid.
    var died: [UInt64] = []
    /// Anything that went wrong.
    var errors: [String] = []
    /// Requests answered per server thread, by the thread's index.
    var perThread: [Int: Int] = [:]

    var endedConnections: Int { closed.count + died.count }
}

extension PortsTests {
    /// Serves `server` on the calling thread: accepts every connection, answers every request with
    /// ``standardReply(to:)``, counts datagrams and ends of connections, until `done` says so,
    /// `stop` is set, or `timeout` passes.
    static func serve(
        _ server: AlpcServer, log: Locked<ServeLog>, thread: Int = 0, timeout: Duration = .seconds(60),
        stop: (@Sendable () -> Bool)? = nil, until done: (ServeLog) -> Bool
    ) {
        let deadline = now() + UInt64(timeout.components.seconds) * 1_000_000_000
        let message = AlpcMessage()
        while !log.withLock({ done($0) }) && !(stop?() ?? false) && now() < deadline {
            do {
                try server.receive(into: message, timeout: .milliseconds(50))
            } catch .timeout {
                continue
            } catch {
                log.withLock { $0.errors.append("receive: \(error)") }
                return
            }
            let port = message.port
            switch message.messageType.kind {
            case .connectionRequest:
                do {
                    let connection = try server.acceptConnection(message)
                    log.withLock { $0.accepted.append((connection.clientProcessId, connection.clientUserId)) }
                } catch {
                    log.withLock { $0.errors.append("accept: \(error)") }
                }
            case .request:
                let messageId = port.messageId
                do {
                    try message.setData(standardReply(to: message.string))
                    try server.send(message)
                    log.withLock {
                        $0.answered.append(messageId)
                        $0.perThread[thread, default: 0] += 1
                    }
                } catch {
                    log.withLock { $0.errors.append("reply to \(messageId): \(error)") }
                }
            case .datagram:
                log.withLock { $0.datagrams += 1 }
            case .portClosed:
                log.withLock { $0.closed.append(port.clientId.process) }
            case .clientDied:
                log.withLock { $0.died.append(port.clientId.process) }
            default:
                log.withLock { $0.errors.append("unexpected \(message.messageType)") }
            }
        }
    }

    /// A server loop on its own thread (see ``serve(_:log:thread:timeout:stop:until:)``), until
    /// `done` says so or ``stop()``.
    final class BackgroundServer: @unchecked Sendable {
        let log = Locked(ServeLog())
        private let stopping = StopFlag()
        private var thread: TestThread?

        init(_ server: AlpcServer, timeout: Duration = .seconds(60), until done: @escaping @Sendable (ServeLog) -> Bool = { _ in false }) {
            let log = self.log
            let stopping = self.stopping
            thread = TestThread {
                PortsTests.serve(server, log: log, timeout: timeout, stop: { stopping.isSet }, until: done)
            }
        }

        /// Asks the loop to end and waits for it; returns what it saw.
        @discardableResult
        func stop() -> ServeLog {
            stopping.set()
            thread?.join()
            return log.snapshot
        }

        /// Waits for the loop to end on its own; returns what it saw.
        func join() -> ServeLog {
            thread?.join()
            return log.snapshot
        }

        deinit { stop() }
    }
}

/// A flag one thread sets and others read.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

// MARK: - Resources of this process

extension PortsTests {
    /// The number of open descriptors (entries of /proc/self/fd, less the one used to list them).
    static func openDescriptorCount() -> Int {
        // Peer descriptors are closed on the library's closing thread, and the async reactor
        // keeps an epoll descriptor for a second after its last wait: count once both are done.
        _ = PeerDescriptorCloser.shared.drain()
        _ = PollReactor.shared.waitUntilStopped()
        guard let directory = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { count += 1 }
        }
        return count - 1
    }

    /// What each open descriptor of this process is (its /proc/self/fd link), for messages.
    static func openDescriptorTargets() -> [String] {
        (0..<1024).compactMap { fd -> String? in
            var buffer = [CChar](repeating: 0, count: 256)
            let count = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
            guard count > 0 else { return nil }
            return "\(fd) " + String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The number of lines of /proc/self/maps: one per mapping.
    static func mappingCount() -> Int {
        let fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        defer { close(fd) }
        var lines = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            lines += buffer[0..<count].reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        }
        return lines
    }

    /// Entries of /dev/shm whose name contains `text`.
    static func sharedMemoryEntries(containing text: String) -> [String] {
        guard let directory = opendir("/dev/shm") else { return [] }
        defer { closedir(directory) }
        var found: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.lowercased().contains(text) { found.append(name) }
        }
        return found
    }

    /// Descriptors and mappings of this process at one moment.
    struct ResourceCount: Equatable, CustomStringConvertible {
        var descriptors: Int
        var mappings: Int

        static func current() -> ResourceCount {
            ResourceCount(descriptors: openDescriptorCount(), mappings: mappingCount())
        }

        /// The count once it holds still: two readings 20 ms apart that agree.
        static func settled() -> ResourceCount {
            var previous = current()
            for _ in 0..<50 {
                usleep(20_000)
                let next = current()
                if next == previous { return next }
                previous = next
            }
            return previous
        }

        var description: String { "\(descriptors) descriptors, \(mappings) mappings" }
    }

    /// Waits up to `timeout` seconds for the counts to come back to at most `baseline`; returns the
    /// last reading.
    static func resourcesReturn(to baseline: ResourceCount, timeout: Double = 3) -> ResourceCount {
        let deadline = now() + UInt64(timeout * 1e9)
        var reading = ResourceCount.current()
        while now() < deadline {
            if reading.descriptors <= baseline.descriptors && reading.mappings <= baseline.mappings { break }
            usleep(20_000)
            reading = ResourceCount.current()
        }
        return reading
    }
}
