import ALPC
import CALPC
import CALPCSystem
import Glibc
import Testing

extension AttributesTests {
    /// What attributes cost on the round trip, measured against a quiet peer server. The numbers
    /// are printed ("[measure]"); the test only checks that every reply came back.
    @Suite("Attribute costs", .serialized, .exclusivePeers)
    struct AttributeCostTests {
        static func nanoseconds() -> UInt64 {
            var spec = timespec()
            clock_gettime(CLOCK_MONOTONIC, &spec)
            return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
        }

        /// The median of `rounds` timings of `body`, each over `batch` round trips, in ns per round trip.
        static func measure(rounds: Int = 5, batch: Int, _ body: () throws -> Void) rethrows -> UInt64 {
            var samples: [UInt64] = []
            for _ in 0..<rounds {
                let start = nanoseconds()
                for _ in 0..<batch { try body() }
                samples.append((nanoseconds() - start) / UInt64(batch))
            }
            return samples.sorted()[rounds / 2]
        }

        @Test("Round trip: plain, with a view (same section), with a new section each time, with a file handle, with a direct event")
        func roundTrips() throws {
            let name = uniquePortName()
            let peer = try PeerProcess(["attr-server", name, "--quiet", "--seconds", "120"])
            guard peer.waitForLine(prefix: "READY", timeout: 20) != nil else {
                throw AttributeTestFailure("server did not start: \(peer.lines)")
            }
            let client = try AlpcClient(portName: name, timeout: .seconds(10))
            let reply = AlpcMessage(size: 0x1000)

            let plain = try AlpcMessage(string: "plain")
            _ = try client.sendReceive(plain, receiveInto: reply, timeout: .seconds(10))
            let plainCost = try Self.measure(batch: 2000) {
                try client.sendReceive(plain, receiveInto: reply, timeout: .seconds(10))
            }

            let section = try client.createPortSection(size: 0x1000)
            let view = try client.createSectionView(section, size: 0x1000)
            let viewMessage = try AlpcMessage(string: "view")
            viewMessage.viewAttribute!.set(view)
            let viewCost = try Self.measure(batch: 2000) {
                viewMessage.validAttributes = [.view]
                try client.sendReceive(viewMessage, receiveInto: reply, timeout: .seconds(10))
            }

            let newSectionCost = try Self.measure(batch: 100) {
                let section = try client.createPortSection(size: 0x1000)
                let view = try client.createSectionView(section, size: 0x1000)
                viewMessage.viewAttribute!.set(view)
                viewMessage.validAttributes = [.view]
                try client.sendReceive(viewMessage, receiveInto: reply, timeout: .seconds(10))
                try client.deletePortSection(section)
            }

            var template = Array("/tmp/swiftalpc-cost-XXXXXX".utf8CString)
            let file = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            defer { close(file) }
            let handleMessage = try AlpcMessage(string: "handle")
            let handleCost = try Self.measure(batch: 500) {
                let attribute = handleMessage.handleAttribute!
                attribute.flags = HandleAttribute.duplicateSameAccess
                attribute.handle = UInt64(file)
                handleMessage.validAttributes = [.handle]
                try client.sendReceive(handleMessage, receiveInto: reply, timeout: .seconds(10))
            }

            let event = alpc_eventfd_create()
            defer { close(event) }
            let directMessage = try AlpcMessage(string: "direct")
            directMessage.directAttribute!.event = UInt64(event)
            let directCost = try Self.measure(batch: 500) {
                directMessage.validAttributes = [.direct]
                try client.sendReceive(directMessage, receiveInto: reply, timeout: .seconds(10))
            }
            var signalled: UInt64 = 0
            _ = read(event, &signalled, 8)
            #expect(signalled == 5 * 500)

            print("[measure] round trip, median ns: plain \(plainCost), view \(viewCost) (+\(Int64(viewCost) - Int64(plainCost))), new section per message \(newSectionCost), file handle \(handleCost), direct event \(directCost)")
            #expect(reply.string.hasPrefix("REQUEST"))
        }
    }
}
