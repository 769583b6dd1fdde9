@testable import ALPC
import CALPC
import Glibc
import Testing

extension AttributesTests {
    /// A client that sends more sections, bigger sections, bigger views or more descriptors
    /// than the port allows loses its connection; the port holds nothing of it afterwards, and
    /// other clients go on being served (issue 10, item 1 and the rest of item 3).
    @Suite("Section and descriptor quotas")
    struct SectionQuotaTests {
        @Test("A 1 TiB section (over the default MaxSectionSize) ends its sender's connection before anything is mapped", .sharedPeers)
        func sectionOverMaxSectionSize() throws {
            let session = try AttributeSession(["bigview:0x10000000000", "--max-section-size", "0x10000000000"])
            let message = AlpcMessage(size: 0x2000)
            try session.server.receive(into: message, timeout: .seconds(20))
            #expect(message.messageType.kind == .clientDied)
            let line = try session.line("BIGVIEW")
            #expect(line.contains("status="))
            #expect(Self.holdsNothing(session.server))
            try Self.expectHonestClientServed(by: session.server, name: session.name)
        }

        @Test("A view over the port's MaxViewSize ends its sender's connection", .sharedPeers)
        func viewOverMaxViewSize() throws {
            var attributes = PortAttributes.server
            attributes.maxViewSize = 0x800
            let session = try AttributeSession(["bigview:0x2000"], serverAttributes: attributes)
            let message = AlpcMessage(size: 0x2000)
            try session.server.receive(into: message, timeout: .seconds(20))
            #expect(message.messageType.kind == .clientDied)
            #expect(try session.line("BIGVIEW").contains("status="))
            #expect(Self.holdsNothing(session.server))
        }

        @Test("Sections past MaxTotalSectionSize, or past the count per client, end the sender's connection after the ones that fit", .sharedPeers)
        func sectionsPerClient() throws {
            var attributes = PortAttributes.server
            attributes.maxTotalSectionSize = 0x30000
            let cases: [(quota: PortQuota, served: Int)] = [
                (PortQuota(attributes: attributes), 3), (PortQuota(attributes: attributes, maxSectionsPerPeer: 2), 2),
            ]
            for (quota, served) in cases {
                let session = try AttributeSession(["keepsections:5"], serverAttributes: attributes, quota: quota)
                let message = AlpcMessage(size: 0x2000)
                var requests = 0
                while true {
                    try session.server.receive(into: message, timeout: .seconds(20))
                    guard message.messageType.kind == .request else { break }
                    requests += 1
                    try session.answer(message)
                }
                #expect(message.messageType.kind == .clientDied)
                #expect(requests == served)
                #expect(try session.line("KEEPSECTIONS").hasPrefix("KEEPSECTIONS \(served) status="))
                #expect(Self.holdsNothing(session.server))
            }
        }

        @Test("Past the port's section bytes, the client that exceeds them is dropped; the one within them is not", .sharedPeers)
        func sectionsPerPort() throws {
            let session = try AttributeSession(
                ["keepsections:2", "sleep:1500", "views:2"],
                quota: PortQuota(attributes: .server, maxPortSectionBytes: 0x30000))
            let second = try PeerProcess(["attr-client", session.name, "keepsections:2", "--seconds", "60"])
            let message = AlpcMessage(size: 0x2000)
            var died = 0
            let start = AttributeSession.now()
            while session.peer.waitForLine(prefix: "DONE", timeout: 0.01) == nil && AttributeSession.now() - start < 30 {
                guard try Self.receive(session.server, into: message) else { continue }
                switch message.messageType.kind {
                case .connectionRequest:
                    try message.setData("Connection message response")
                    _ = try session.server.acceptConnection(message)
                case .request:
                    try session.answer(message)
                case .clientDied:
                    died += 1
                default:
                    break
                }
            }
            // The second client's second section passed the port's 0x30000 bytes: it alone was dropped.
            #expect(second.waitForLine(prefix: "KEEPSECTIONS", timeout: 10)?.hasPrefix("KEEPSECTIONS 1 status=") == true)
            #expect(died == 1)
            #expect(try session.line("VIEWS") == "VIEWS 2")
        }

        @Test("An attachment of more descriptors than a client may park ends its connection, and its descriptors are closed", .exclusivePeers)
        func descriptorsPerClient() throws {
            let before = openDescriptorCount()
            let flags = PortAttributes.allowDuplicateObjectsFlag | PortAttributes.allowMultipleHandlesFlag
            // A descriptor limit of 64: 16 per client, 32 for the port.
            let session = try AttributeSession(
                ["indirect:12", "indirect:20"], acceptFlags: flags,
                quota: PortQuota(attributes: .server, descriptorLimit: 64))
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            #expect(message.string == "indirect 12")
            try session.answer(message)
            try session.server.receive(into: message, timeout: .seconds(20))
            #expect(message.messageType.kind == .clientDied)
            #expect(try session.line("INDIRECT 20").contains("status="))
            #expect(Self.holdsNothing(session.server))
            // The message still owns the 12 descriptors of the first request until it receives again.
            message.validAttributes = []
            session.peer.kill(signal: SIGKILL)
            _ = session.peer.waitForExit(timeout: 10)
            let counted = openDescriptorCount()
            #expect(counted <= before + 12 + 4)
        }

        /// Receives into `message` for up to 100 ms: false when nothing came.
        static func receive(_ server: AlpcServer, into message: AlpcMessage) throws -> Bool {
            do {
                try server.receive(into: message, timeout: .milliseconds(100))
                return true
            } catch .timeout {
                return false
            }
        }

        /// Whether the port's clients hold no section bytes, descriptors or queued bytes.
        static func holdsNothing(_ server: AlpcServer) -> Bool {
            let usage = server.core.controlPlane.quota.usage
            return usage.sectionBytes == 0 && usage.descriptors == 0 && usage.pooled == 0
        }

        /// Serves one honest `attr-client` that sends a view: it gets its reply.
        static func expectHonestClientServed(by server: AlpcServer, name: String) throws {
            let honest = try PeerProcess(["attr-client", name, "view", "--seconds", "60"])
            let message = AlpcMessage(size: 0x2000)
            let start = AttributeSession.now()
            while honest.waitForLine(prefix: "DONE", timeout: 0.01) == nil && AttributeSession.now() - start < 20 {
                guard try receive(server, into: message) else { continue }
                switch message.messageType.kind {
                case .connectionRequest:
                    try message.setData("Connection message response")
                    _ = try server.acceptConnection(message)
                case .request:
                    let text = message.string
                    message.validAttributes.subtract([.view, .handle])
                    try message.setData("REQUEST '\(text)' DONE")
                    try server.send(message)
                default:
                    break
                }
            }
            #expect(honest.waitForLine(prefix: "VIEW", timeout: 1)?.hasPrefix("VIEW reply=REQUEST 'some message with a view' DONE") == true)
        }
    }
}
