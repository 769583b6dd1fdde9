import ALPC
import CALPC
import Glibc
import Testing

extension AttributesTests {
    /// The security, direct and work-on-behalf attributes.
    @Suite("Security, direct and work on behalf", .sharedPeers)
    struct SecurityDirectTicketTests {
        @Test("Security: flags and context handle travel; the QoS is copied by value and points into the receiving message")
        func security() throws {
            let session = try AttributeSession(["security"])
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            #expect(message.isSecurityValid)
            let security = try #require(message.securityAttribute)
            #expect(security.flags == 0)
            #expect(security.contextHandle == 0x1234)
            let qos = try #require(security.qosAddress).loadUnaligned(as: SECURITY_QUALITY_OF_SERVICE.self)
            #expect(qos.Length == 12)
            #expect(qos.ImpersonationLevel == SecurityImpersonation)
            #expect(qos.ContextTrackingMode == 1)
            #expect(qos.EffectiveOnly == 1)
            try session.answer(message)
        }

        @Test("Direct: the sender's eventfd is signalled when the message is delivered; the receiver sees no direct attribute")
        func direct() throws {
            let session = try AttributeSession(["direct"])
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            #expect(message.string == "direct")
            #expect(!message.isDirectValid)
            try session.answer(message)
            #expect(try session.line("DIRECT") == "DIRECT count=1")
        }

        @Test("Work on behalf: the ticket passes through unchanged")
        func workOnBehalf() throws {
            let session = try AttributeSession(["wob:1d0000259c"])
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            #expect(message.isWorkOnBehalfValid)
            #expect(message.workOnBehalfAttribute?.ticket == 0x1D_0000_259C)
            #expect(message.workOnBehalfAttribute?.threadId == 0x0000_259C)
            #expect(message.workOnBehalfAttribute?.threadCreationTimeLow == 0x1D)
            try session.answer(message)
        }
    }

    /// Replying with the received message, with and without clearing VIEW and HANDLE.
    @Suite("Reply hygiene", .sharedPeers)
    struct ReplyHygieneTests {
        @Test("Clearing VIEW and HANDLE before replying (the seed's way) sends neither back")
        func cleared() throws {
            let session = try AttributeSession(["echoview", "echohandle"])
            let message = AlpcMessage(size: 0x2000)
            for _ in 0..<2 {
                try session.nextRequest(into: message)
                try session.answer(message, clearing: [.view, .handle])
            }
            #expect(try session.line("ECHOVIEW") == "ECHOVIEW valid=0 same=0 text=-")
            #expect(try session.line("ECHOHANDLE") == "ECHOHANDLE valid=0 other=0 content=-")
        }

        @Test("Not clearing them sends them back as Windows does: the client gets its own view address and a new descriptor to its file")
        func notCleared() throws {
            let session = try AttributeSession(["echoview", "echohandle"])
            let message = AlpcMessage(size: 0x2000)
            for _ in 0..<2 {
                try session.nextRequest(into: message)
                try session.answer(message, clearing: [])
            }
            #expect(try session.line("ECHOVIEW") == "ECHOVIEW valid=1 same=1 text=echo me")
            #expect(try session.line("ECHOHANDLE") == "ECHOHANDLE valid=1 other=1 content=echo handle data")
        }

        @Test("Context and token left valid in a reply do not travel: the client gets its own")
        func contextStays() throws {
            let session = try AttributeSession(["plain"])
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            #expect(message.validAttributes.contains([.context, .token]))
            try session.answer(message, clearing: [])
            let plain = try session.line("PLAIN")
            #expect(plain.contains("ALPC_MESSAGE_CONTEXT_ATTRIBUTE"))
            #expect(plain.contains("ALPC_MESSAGE_TOKEN_ATTRIBUTE"))
        }
    }

    /// Invalid attributes fail at the sender with a clear status; the receiver sees nothing of them.
    @Suite("Bad input", .sharedPeers)
    struct BadInputTests {
        @Test("Each invalid attribute fails at the sender with its status, and the server's first request is the good one after them")
        func badInputs() throws {
            let flags = PortAttributes.allowDuplicateObjectsFlag | PortAttributes.allowMultipleHandlesFlag
            let session = try AttributeSession(["bad"], acceptFlags: flags)
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            #expect(message.string == "after bad")
            #expect(message.contextAttribute?.sequence == 1)
            #expect(message.validAttributes == [.context, .token])
            try session.answer(message)
            let expected: [(String, String)] = [
                ("unallocated", "STATUS_INVALID_PARAMETER (0xC000000D)"),
                ("viewpast", "STATUS_INVALID_VIEW_SIZE (0xC000001F)"),
                ("viewnowhere", "STATUS_INVALID_VIEW_SIZE (0xC000001F)"),
                ("section", "STATUS_INVALID_HANDLE (0xC0000008)"),
                ("closedfd", "STATUS_INVALID_HANDLE (0xC0000008)"),
                ("invalidfd", "STATUS_INVALID_HANDLE (0xC0000008)"),
                ("type", "STATUS_OBJECT_TYPE_MISMATCH (0xC0000024)"),
                ("direct", "STATUS_OBJECT_TYPE_MISMATCH (0xC0000024)"),
                ("count", "STATUS_LPC_HANDLE_COUNT_EXCEEDED (0xC0000722)"),
                ("one", "STATUS_INVALID_PARAMETER (0xC000000D)"),
            ]
            for (name, status) in expected {
                #expect(try session.line("BAD \(name) ") == "BAD \(name) \(status)")
            }
            #expect(try session.line("AFTERBAD") == "AFTERBAD reply=REQUEST 'after bad' DONE")
        }

        @Test("A reply with bad attributes fails at the server and the request stays answerable")
        func badReply() throws {
            let session = try AttributeSession(["plain"])
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            let stray = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
            defer { stray.deallocate() }
            message.viewAttribute!.set(DataView(sectionHandle: 0, viewBase: stray, viewSize: 64))
            message.validAttributes.insert(.view)
            #expect(throws: NTStatus.invalidViewSize) { try session.server.send(message) }
            message.handleAttribute!.handle = 99_999
            message.handleAttribute!.flags = HandleAttribute.duplicateSameAccess
            message.validAttributes = [.handle]
            #expect(throws: NTStatus.invalidHandle) { try session.server.send(message) }
            try session.answer(message, clearing: [.view, .handle])
            #expect(try session.line("PLAIN").hasPrefix("PLAIN reply=REQUEST 'Complex Message 1' DONE"))
        }
    }
}
