import ALPC
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The threads of `alpc soak` in this process: honest clients and a hostile one.
final class SoakLoad: Sendable {
    let name: String
    let statistics: SoakStatistics
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)

    /// How long a call may take; one that returns later than this (plus a margin) counts as hung.
    static let callTimeout: Duration = .seconds(5)

    init(name: String, statistics: SoakStatistics) {
        self.name = name
        self.statistics = statistics
    }

    private var stopped: Bool { stopping.load(ordering: .relaxed) }

    /// Runs `body` on a thread of its own until it returns.
    func start(_ body: @escaping @Sendable () -> Void) {
        running.add(1, ordering: .relaxed)
        let started = DetachedThread.start { [self] in
            body()
            running.subtract(1, ordering: .relaxed)
        }
        if !started { running.subtract(1, ordering: .relaxed) }
    }

    /// Tells every thread to stop and waits up to `timeoutNanos`; returns how many still run.
    func stopAndWait(timeoutNanos: UInt64) -> Int {
        stopping.store(true, ordering: .relaxed)
        let deadline = BenchClock.now() &+ timeoutNanos
        while running.load(ordering: .relaxed) > 0 && BenchClock.now() < deadline {
            BenchClock.sleep(nanoseconds: 10_000_000)
        }
        return running.load(ordering: .relaxed)
    }

    /// A connection, retried while the server restarts (nil once stopping).
    private func connect(attributes: PortAttributes = .client) -> AlpcClient? {
        while !stopped {
            do {
                let client = try AlpcClient(portName: name, attributes: attributes, timeout: .seconds(2))
                statistics.connection()
                return client
            } catch {
                statistics.status(error)
                BenchClock.sleep(nanoseconds: 10_000_000)
            }
        }
        return nil
    }

    /// Requests whose echo is checked; a new connection every 200 requests or after an error.
    func runHonestClient(_ index: Int) {
        var sequence = 0
        while let client = connect() {
            defer { client.disconnect() }
            for _ in 0..<200 where !stopped {
                sequence += 1
                let text = "honest \(index) \(sequence)"
                let started = BenchClock.now()
                do {
                    let reply = try client.sendReceive(text, timeout: Self.callTimeout)
                    if reply.string == text { statistics.reply() } else { statistics.wrongReply() }
                } catch {
                    statistics.status(error)
                    if BenchClock.now() &- started > 7_000_000_000 { statistics.hungCall() }
                    break
                }
            }
        }
    }

    /// Clients that misbehave through the public API, one kind after another.
    func runHostileClient() {
        var round = 0
        while !stopped {
            round += 1
            statistics.attack()
            switch round % 4 {
            case 0:
                // Asynchronous requests whose replies are never read: the server keeps what its
                // quota allows for this client, then refuses, and forgets it all when it leaves.
                guard let client = connect() else { return }
                for request in 0..<300 where !stopped {
                    guard (try? client.send(AlpcMessage(string: "unread \(request)"))) != nil else { break }
                }
                client.disconnect()
            case 1:
                // A section far over the server's MaxSectionSize: the server drops the connection.
                var attributes = PortAttributes.client
                attributes.maxSectionSize = 1 << 40
                attributes.maxViewSize = 1 << 40
                attributes.maxTotalSectionSize = 1 << 40
                guard let client = connect(attributes: attributes) else { return }
                do {
                    let section = try client.createPortSection(size: 1 << 40)
                    let view = try client.createSectionView(section, size: 0x1000)
                    let message = try AlpcMessage(string: "huge section")
                    message.viewAttribute?.set(view)
                    message.isViewValid = true
                    _ = try client.sendReceive(message, timeout: Self.callTimeout)
                } catch {
                    statistics.status(error)
                }
                client.disconnect()
            case 2:
                // Connections that come and go at once.
                for _ in 0..<10 where !stopped {
                    guard let client = connect() else { return }
                    client.disconnect()
                }
            default:
                // A message longer than the connection allows: refused at the sender.
                guard let client = connect() else { return }
                do {
                    let message = AlpcMessage(size: 0x10000)
                    try message.setData([UInt8](repeating: 0x41, count: 0x8000))
                    _ = try client.sendReceive(message, timeout: Self.callTimeout)
                } catch {
                    statistics.status(error)
                }
                client.disconnect()
            }
            BenchClock.sleep(nanoseconds: 20_000_000)
        }
    }
}
