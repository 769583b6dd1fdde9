import ALPC
import Glibc
import Testing

extension AttributesTests {
    /// Views of port sections: the receiver reads and writes the sender's memory in place.
    @Suite("Views", .sharedPeers)
    struct ViewAttributeTests {
        @Test("A view arrives as the receiver's own mapping of the same memory: read in place, and a write is seen by the sender")
        func viewInPlace() throws {
            let session = try AttributeSession(["view"])
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            #expect(message.string == "some message with a view")
            #expect(message.isViewValid)
            let view = try #require(message.viewAttribute)
            #expect(view.flags == 0)
            #expect(view.sectionHandle == 0)
            #expect(view.viewSize == 0x4000)
            let base = try #require(view.viewBaseAddress)
            // The receiver's own shared mapping of the sender's memfd.
            let line = try #require(mapping(containing: base))
            #expect(line.contains("swiftalpc-section"))
            #expect(line.contains("rw-s"))
            #expect(text(view.bytes) == "The content of the view :)")
            // Write in place; the sender reads it after the reply.
            view.bytes?.copyBytes(from: Array("Written by the server".utf8) + [0])
            try session.answer(message)
            let seen = try session.line("VIEW reply=")
            #expect(seen.hasSuffix("now=Written by the server"))
        }

        @Test("ALPC_VIEWFLG_UNMAP_EXISTING in a reply releases the receiver's view; the next view maps it again")
        func unmapExisting() throws {
            let session = try AttributeSession(["view", "view"])
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            let base = try #require(message.viewAttribute?.viewBaseAddress)
            let inode = mappedInode(at: base)
            #expect(inode != nil && inode != "0")
            // Reply with the received view marked UNMAP_EXISTING: it is released, not sent back.
            message.viewAttribute!.flags = DataViewAttribute.unmapExisting
            try session.answer(message, clearing: [.handle])
            #expect(!isStillMapped(base, inode: inode))
            #expect(try session.line("VIEW reply=").hasSuffix("now=The content of the view :)"))
            try session.nextRequest(into: message)
            #expect(text(message.viewAttribute?.bytes) == "The content of the view :)")
            try session.answer(message)
        }

        @Test("Deleting the section at the sender releases the receiver's mapping once the message lets go of it")
        func deleteSection() throws {
            let session = try AttributeSession(["delete", "sleep:300", "plain"])
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            let base = try #require(message.viewAttribute?.viewBaseAddress)
            let inode = mappedInode(at: base)
            #expect(text(message.viewAttribute?.bytes) == "deleted soon")
            try session.answer(message)
            try session.line("DELETED")
            // The next receive releases the message's hold; the sender's release already came.
            try session.nextRequest(into: message)
            #expect(message.string == "Complex Message 1")
            #expect(!isStillMapped(base, inode: inode))
            try session.answer(message)
        }

        @Test("A receiver may delete a view it received (NtAlpcDeleteSectionView): its mapping is released")
        func receiverDeletesView() throws {
            let session = try AttributeSession(["view"])
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            let view = try #require(message.viewAttribute)
            let base = try #require(view.viewBaseAddress)
            let inode = mappedInode(at: base)
            try session.server.deleteSectionView(DataView(sectionHandle: 0, viewBase: base, viewSize: Int(view.viewSize)))
            #expect(!isStillMapped(base, inode: inode))
            // An address that is no view.
            let stray = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 8)
            defer { stray.deallocate() }
            #expect(throws: NTStatus.invalidParameter) {
                try session.server.deleteSectionView(DataView(sectionHandle: 0, viewBase: stray, viewSize: 16))
            }
            try session.answer(message)
        }

        @Test("A server's own view travels in a reply and arrives at the client's own address")
        func serverView() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try PeerProcess(["attr-client", name, "replyview", "--seconds", "60"])
            let connect = try server.receive(timeout: .seconds(20))
            try server.acceptConnection(connect)
            let message = try server.receive(timeout: .seconds(20))
            #expect(message.string == "reply view")
            let section = try server.createPortSection(size: 0x1000)
            let view = try server.createSectionView(section, size: 0x100)
            view.bytes.copyBytes(from: Array("from the server".utf8) + [0])
            message.viewAttribute!.set(view)
            message.validAttributes = [.view]
            try message.setData("here is a view")
            try server.send(message)
            let line = try #require(peer.waitForLine(prefix: "REPLYVIEW", timeout: 20), "\(peer.lines)")
            #expect(line == "REPLYVIEW valid=1 text=from the server")
        }
    }
}
