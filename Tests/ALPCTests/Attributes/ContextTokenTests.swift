import ALPC
import Glibc
import Testing

extension AttributesTests {
    /// The context and token attributes: filled by the receiver from what it knows, never from
    /// what the sender wrote.
    @Suite("Context and token", .sharedPeers)
    struct ContextTokenTests {
        @Test("Context: the port context given at accept, Sequence 1, 2, 3 per connection, MessageId and CallbackId 0")
        func contextSequence() throws {
            let session = try AttributeSession(["plain", "plain", "plain"])
            let message = AlpcMessage(size: 0x2000)
            for expected in 1...3 {
                try session.nextRequest(into: message)
                #expect(message.isContextValid)
                let context = try #require(message.contextAttribute)
                #expect(context.portContext == 0x1122_3344)
                #expect(context.messageContext == 0)
                #expect(context.sequence == UInt32(expected))
                #expect(context.messageId == 0)
                #expect(context.callbackId == 0)
                try session.answer(message)
            }
            // The client's replies carry a context too, as the sample's RESP line shows.
            let plain = try session.line("PLAIN")
            #expect(plain.contains("ALPC_MESSAGE_CONTEXT_ATTRIBUTE(0x20000000)"))
        }

        @Test("Sequence counts per connection: a second client starts at 1 again")
        func sequencePerConnection() throws {
            let first = try AttributeSession(["plain", "plain"])
            let message = AlpcMessage(size: 0x2000)
            try first.nextRequest(into: message)
            try first.answer(message)
            try first.nextRequest(into: message)
            #expect(message.contextAttribute?.sequence == 2)
            try first.answer(message)
            let second = try AttributeSession(["plain"])
            try second.nextRequest(into: message)
            #expect(message.contextAttribute?.sequence == 1)
            try second.answer(message)
        }

        @Test("Token: the sender's uid, gid and pid from SO_PEERCRED on every message, whatever the sender wrote")
        func tokenFromKernel() throws {
            let session = try AttributeSession(["plain", "forge", "plain"])
            let credentials = try session.peerCredentials()
            let message = AlpcMessage(size: 0x2000)
            var tokens: [String] = []
            for _ in 0..<3 {
                try session.nextRequest(into: message)
                #expect(message.isTokenValid)
                let token = try #require(message.tokenAttribute)
                #expect(token.tokenId == credentials.uid)
                #expect(token.authenticationId == credentials.gid)
                #expect(token.modifiedId == credentials.pid)
                tokens.append(token.description)
                // The API says the same.
                let sender = try session.server.senderCredentials(of: message)
                #expect(UInt64(sender.processId) == credentials.pid)
                #expect(UInt64(sender.userId) == credentials.uid)
                #expect(UInt64(sender.groupId) == credentials.gid)
                // The peer connects with PortAttributes.client: an impersonation-level QoS.
                #expect(sender.allowsImpersonation)
                #expect(try session.server.senderCredentials(messageId: message.messageId) == sender)
                try session.answer(message)
            }
            // The forged {1, 2, 3} never arrives: every token is the same.
            #expect(Set(tokens).count == 1)
            #expect(message.clientId.process == credentials.pid)
        }

        @Test("senderCredentials of an unknown MessageId is STATUS_INVALID_MESSAGE")
        func unknownSender() throws {
            let server = try AlpcServer(portName: uniquePortName())
            #expect(throws: NTStatus.invalidMessage) { try server.senderCredentials(messageId: 12345) }
        }

        @Test("Only allocated attributes are filled, and ValidAttributes says exactly which")
        func onlyAllocated() throws {
            let session = try AttributeSession(["plain", "handle"])
            let contextOnly = AlpcMessage(size: 0x2000, attributes: .with([.context]))
            try session.nextRequest(into: contextOnly)
            #expect(contextOnly.validAttributes == [.context])
            try session.answer(contextOnly)
            // A handle arrives, but the receiver allocated no HANDLE blob: it is not delivered
            // (and its descriptor is closed).
            let none = AlpcMessage(size: 0x2000, attributes: .with([]))
            try session.nextRequest(into: none)
            #expect(none.validAttributes.isEmpty)
            #expect(none.ownedHandleCount == 0)
            try session.answer(none)
        }
    }
}
