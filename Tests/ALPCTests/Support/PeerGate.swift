import Testing

/// Runs a test while no exclusive test runs (`shared`), or alone among the gated tests
/// (`exclusive`): tests that bound latencies or count this process's descriptors and mappings
/// take the gate exclusively, so that other multi-process tests neither load the CPUs nor open
/// descriptors meanwhile. Waiting tests suspend; they never block a thread of the pool.
///
/// Apply `.sharedPeers` to every suite whose tests start peers or open any descriptor (ports,
/// sockets, eventfds, epoll sets, sections): one that does not can change a descriptor count
/// taken meanwhile. Apply `.exclusivePeers` (with `.serialized`) to the suites that measure;
/// tests without the trait are not held back by it.
struct PeerGate: TestTrait, SuiteTrait, TestScoping {
    /// How a test holds the gate.
    enum Mode: Sendable, Equatable {
        case shared
        case exclusive
    }

    let mode: Mode

    var isRecursive: Bool { true }

    func scopeProvider(for test: Test, testCase: Test.Case?) -> PeerGate? {
        testCase == nil ? nil : self
    }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        await PeerGateLock.shared.acquire(mode)
        do {
            try await function()
        } catch {
            await PeerGateLock.shared.release(mode)
            throw error
        }
        await PeerGateLock.shared.release(mode)
    }
}

extension Trait where Self == PeerGate {
    /// Runs concurrently with other shared tests, never with an exclusive one.
    static var sharedPeers: PeerGate { PeerGate(mode: .shared) }
    /// Runs alone among the gated tests.
    static var exclusivePeers: PeerGate { PeerGate(mode: .exclusive) }
}

/// A first-come, first-served readers-writer lock for `PeerGate`.
actor PeerGateLock {
    static let shared = PeerGateLock()

    private var sharedHolders = 0
    private var exclusiveHeld = false
    private var waiting: [(mode: PeerGate.Mode, continuation: CheckedContinuation<Void, Never>)] = []

    func acquire(_ mode: PeerGate.Mode) async {
        if waiting.isEmpty && canGrant(mode) {
            grant(mode)
            return
        }
        await withCheckedContinuation { continuation in
            waiting.append((mode, continuation))
        }
    }

    func release(_ mode: PeerGate.Mode) {
        if mode == .exclusive { exclusiveHeld = false } else { sharedHolders -= 1 }
        while let first = waiting.first, canGrant(first.mode) {
            waiting.removeFirst()
            grant(first.mode)
            first.continuation.resume()
        }
    }

    private func canGrant(_ mode: PeerGate.Mode) -> Bool {
        mode == .exclusive ? !exclusiveHeld && sharedHolders == 0 : !exclusiveHeld
    }

    private func grant(_ mode: PeerGate.Mode) {
        if mode == .exclusive { exclusiveHeld = true } else { sharedHolders += 1 }
    }
}
