@testable import ALPC
import CALPC
import CALPCSystem
import Glibc
import Synchronization
import Testing

/// The control-plane OS layer: port names, control sockets, listeners, doorbells and epoll.
/// Every suite of `Tests/ALPCTests/Transport` nests here, so `swift test --filter Transport`
/// runs them all.
@Suite("Transport")
enum TransportTests {}

/// How many port names this process has handed out.
private let portNameCounter = Atomic<Int>(0)

/// How many memfds this process has created.
private let memfdCounter = Atomic<Int>(0)

// Helpers shared by the Transport suites, nested so their names cannot collide with other
// test files'.
extension TransportTests {
    /// A port name no other test, in this process or another, uses.
    static func uniquePortName(_ function: String = #function) throws -> PortName {
        let serial = portNameCounter.add(1, ordering: .relaxed).newValue
        let label = function.prefix { $0 != "(" }.prefix(50)
        return try PortName("\\RPC Control\\test-\(getpid())-\(serial)-\(label)")
    }

    /// Both ends of one connection, and the listener it was made through (unless the test
    /// keeps the listener itself): `client` from `connect`, blocking; `server` from `accept`,
    /// non-blocking.
    struct Connection: ~Copyable {
        /// The listener, when the connection made its own.
        let listener: ControlListener?
        /// The connecting end.
        let client: ControlSocket
        /// The accepted end.
        let server: ControlSocket

        /// Connects to a new listener on a unique name, kept in `listener`.
        init(_ function: String = #function) throws {
            let listener = try ControlListener.listen(on: uniquePortName(function))
            let client = try ControlSocket.connect(to: listener.name)
            let server = try acceptOne(listener)
            self.listener = consume listener
            self.client = client
            self.server = server
        }

        /// Connects to a listener the test keeps; `listener` is nil.
        init(connectingTo listener: borrowing ControlListener) throws {
            let client = try ControlSocket.connect(to: listener.name)
            let server = try acceptOne(listener)
            self.listener = nil
            self.client = client
            self.server = server
        }
    }

    /// The connection pending on `listener`; throws if there is none.
    static func acceptOne(_ listener: borrowing ControlListener) throws -> ControlSocket {
        guard let socket = try listener.accept() else {
            throw TestFailure("no connection pending on \(listener.name)")
        }
        return socket
    }

    /// A test precondition that did not hold.
    struct TestFailure: Error, CustomStringConvertible {
        /// What did not hold.
        let description: String

        /// A failure described by `description`.
        init(_ description: String) {
            self.description = description
        }
    }

    /// Where `/proc/self/fd` says the descriptor points (`pipe:[1234]`, `/memfd:x (deleted)`),
    /// or nil when it is not open.
    static func descriptorTarget(_ fd: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let length = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        guard length >= 0 else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// How many of this process's open descriptors point at one of `targets`.
    ///
    /// Counting only the test's own objects (pipes and memfds have unique targets) rather than
    /// all of `/proc/self/fd` keeps the count exact while other tests open and close
    /// descriptors in parallel.
    static func openDescriptorCount(pointingAt targets: Set<String>) throws -> Int {
        // Peer descriptors are closed on the library's closing thread: count once it is done.
        _ = PeerDescriptorCloser.shared.drain()
        let directory = try #require(opendir("/proc/self/fd"))
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let fd = Int32(name), let target = descriptorTarget(fd), targets.contains(target) {
                count += 1
            }
        }
        return count
    }

    /// A pipe owned by the test; both ends close when it goes away.
    struct TestPipe: ~Copyable {
        /// The end to read from.
        let readEnd: Int32
        /// The end to write to.
        let writeEnd: Int32

        /// A new pipe, both ends close-on-exec.
        init() throws {
            var ends: [Int32] = [0, 0]
            try #require(pipe(&ends) == 0)
            readEnd = ends[0]
            writeEnd = ends[1]
            _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        }

        deinit {
            close(readEnd)
            close(writeEnd)
        }
    }

    /// Writes all of `text` to `fd`.
    static func writeText(_ text: String, to fd: Int32) throws {
        let bytes = Array(text.utf8)
        try #require(write(fd, bytes, bytes.count) == bytes.count)
    }

    /// Reads up to `count` bytes from `fd` as text.
    static func readText(from fd: Int32, count: Int) -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        let length = read(fd, &bytes, count)
        return length > 0 ? String(decoding: bytes[..<length], as: UTF8.self) : ""
    }

    /// Sends `text` as one packet with `fds` attached.
    static func send(_ text: String, fds: [Int32] = [], on socket: borrowing ControlSocket) throws {
        let bytes = Array(text.utf8)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        try socket.send(UnsafeRawBufferPointer(buffer), fds: fds)
    }

    /// Receives one packet of at most `capacity` bytes as text, with its descriptors.
    static func receiveText(
        on socket: borrowing ControlSocket,
        capacity: Int = 256,
        maxFDs: Int = 0,
        timeout: Duration? = .seconds(10)
    ) throws -> (text: String, fds: [Int32]) {
        var bytes = [UInt8](repeating: 0, count: capacity)
        let (count, fds) = try bytes.withUnsafeMutableBytes { buffer throws(NTStatus) in
            try socket.receive(into: buffer, maxFDs: maxFDs, timeout: timeout)
        }
        return (String(decoding: bytes[..<count], as: UTF8.self), fds)
    }

    /// A memfd owned by the test, with a unique name and some contents.
    struct TestMemfd: ~Copyable {
        /// The memfd.
        let fd: Int32

        /// A new 4 KiB memfd that starts with `contents`.
        init(contents: String) throws {
            let serial = memfdCounter.add(1, ordering: .relaxed).newValue
            fd = alpc_memfd_create("swiftalpc-test-\(getpid())-\(serial)", 4096)
            try #require(fd >= 0)
            let bytes = Array(contents.utf8)
            try #require(pwrite(fd, bytes, bytes.count, 0) == bytes.count)
        }

        deinit {
            close(fd)
        }

        /// The text at the start of the memfd `fd`, up to the first NUL.
        static func contents(of fd: Int32) -> String {
            var bytes = [UInt8](repeating: 0, count: 64)
            let length = pread(fd, &bytes, bytes.count, 0)
            guard length > 0 else { return "" }
            return String(decoding: bytes[..<length].prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Something a background thread does to a socket after a delay, while the test blocks.
    struct DelayedAction {
        /// What to do.
        enum Kind {
            /// Send one byte as a packet.
            case sendByte
            /// Shut the socket down in both directions (the peer sees a hang-up).
            case shutDown
        }

        /// The socket to act on; the test keeps owning it.
        let fd: Int32
        /// How long to wait first, in microseconds.
        let delayMicroseconds: UInt32
        /// What to do.
        let kind: Kind
    }

    /// Starts a thread that performs `action` on its own; join the returned thread.
    static func startThread(_ action: DelayedAction) throws -> pthread_t {
        let argument = UnsafeMutablePointer<DelayedAction>.allocate(capacity: 1)
        argument.initialize(to: action)
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            let action = raw!.assumingMemoryBound(to: DelayedAction.self).move()
            raw!.assumingMemoryBound(to: DelayedAction.self).deallocate()
            usleep(action.delayMicroseconds)
            switch action.kind {
            case .sendByte:
                var byte: UInt8 = 42
                _ = Glibc.send(action.fd, &byte, 1, Int32(MSG_NOSIGNAL))
            case .shutDown:
                _ = shutdown(action.fd, Int32(SHUT_RDWR))
            }
            return nil
        }, argument)
        guard result == 0 else {
            argument.deinitialize(count: 1)
            argument.deallocate()
            throw TestFailure("pthread_create failed: \(result)")
        }
        return thread
    }
}
