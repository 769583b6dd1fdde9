import ALPC
import Glibc
import Testing

extension AttributesTests {
    /// Tests that count this process's mappings and descriptors: they run alone among the
    /// multi-process tests, so that no other test maps or opens anything meanwhile.
    @Suite("Attribute resources", .serialized, .exclusivePeers)
    struct AttributeResourceTests {
        @Test("1000 view messages map the section once: /proc/self/maps does not grow")
        func mappedOnce() throws {
            let count = 1000
            let session = try AttributeSession(["views:\(count)"])
            let message = AlpcMessage(size: 0x1000)
            try session.nextRequest(into: message)
            let base = try #require(message.viewAttribute?.viewBaseAddress)
            #expect(text(try #require(message.viewAttribute?.bytes)) == "view message 0")
            try session.answer(message)
            let before = memfdMappingCount()
            #expect(before >= 2, "the connection segment and the section are memfd mappings")
            var sameBase = true
            var contentOK = true
            for index in 1..<count {
                try session.nextRequest(into: message)
                sameBase = sameBase && message.viewAttribute?.viewBaseAddress == base
                contentOK = contentOK && text(message.viewAttribute?.bytes) == "view message \(index)"
                try session.answer(message)
            }
            let after = memfdMappingCount()
            #expect(sameBase)
            #expect(contentOK)
            #expect(after == before, "memfd mappings went from \(before) to \(after) over \(count) view messages")
            try session.line("VIEWS \(count)")
        }

        @Test("No descriptor leaks over 300 handle messages and 20 indirect ones")
        func noLeaks() throws {
            let flags = PortAttributes.allowDuplicateObjectsFlag | PortAttributes.allowMultipleHandlesFlag
            let session = try AttributeSession(
                ["handles:300"] + Array(repeating: "indirect:8", count: 20), acceptFlags: flags)
            let message = AlpcMessage(size: 0x1000)
            try session.nextRequest(into: message)
            try session.answer(message)
            let before = openDescriptorCount()
            for _ in 1..<300 {
                try session.nextRequest(into: message)
                try session.answer(message)
            }
            for _ in 0..<20 {
                try session.nextRequest(into: message)
                #expect(message.ownedHandleCount == 8)
                try session.answer(message)
            }
            // The last message still owns its 8 descriptors; the first one's is gone.
            let after = openDescriptorCount()
            #expect(after == before + 8 - 1, "descriptors went from \(before) to \(after)")
            try session.line("HANDLES 300")
        }

        @Test("100 sections made, sent and deleted by the client: the server ends with no more descriptors or mappings than it began with")
        func sectionsReleased() throws {
            let session = try AttributeSession(["plain", "sections:100", "sleep:300", "plain"])
            let message = AlpcMessage(size: 0x1000)
            try session.nextRequest(into: message)
            try session.answer(message)
            let descriptors = openDescriptorCount()
            let maps = memfdMappingCount()
            var contentOK = true
            for index in 0..<100 {
                try session.nextRequest(into: message)
                contentOK = contentOK && text(message.viewAttribute?.bytes) == "section \(index)"
                try session.answer(message)
            }
            #expect(contentOK)
            // The last plain request comes after the client deleted every section.
            try session.nextRequest(into: message)
            #expect(message.string == "Complex Message 1")
            try session.answer(message)
            #expect(openDescriptorCount() == descriptors)
            #expect(memfdMappingCount() == maps)
            try session.line("SECTIONS 100")
        }

        @Test("A client receiving 200 replies with a handle each ends with no more descriptors than it began with")
        func clientReceivesHandles() throws {
            let name = uniquePortName()
            let peer = try PeerProcess(["attr-server", name, "--quiet", "--reply-handle", "server file", "--seconds", "60"])
            guard peer.waitForLine(prefix: "READY", timeout: 20) != nil else {
                throw AttributeTestFailure("server did not start: \(peer.lines)")
            }
            let client = try AlpcClient(portName: name, timeout: .seconds(10))
            let request = try AlpcMessage(string: "give me a file")
            let reply = AlpcMessage(size: 0x1000)
            try client.sendReceive(request, receiveInto: reply, timeout: .seconds(10))
            #expect(reply.handleAttribute?.objectType == 1)
            #expect(fileText(Int32(reply.handleAttribute!.handle)) == "server file")
            let before = openDescriptorCount()
            for _ in 0..<200 {
                try client.sendReceive(request, receiveInto: reply, timeout: .seconds(10))
            }
            #expect(reply.ownedHandleCount == 1)
            #expect(openDescriptorCount() == before)
            client.disconnect()
        }
    }
}
