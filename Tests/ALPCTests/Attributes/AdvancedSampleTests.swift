import ALPC
import CALPC
import Glibc
import Testing

extension AttributesTests {
    /// The seed's advanced_alpc and test_view_alpc samples, end to end across processes.
    @Suite("Seed samples", .sharedPeers)
    struct AdvancedSampleTests {
        /// A new unlinked temporary file holding `content`, open read-write.
        static func temporaryFile(_ content: String) -> Int32 {
            var template = Array("/tmp/swiftalpc-test-XXXXXX".utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            _ = Array(content.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            return fd
        }

        @Test("advanced_alpc, the sample's server in a peer: connection data both ways, a plain request, a file handle, a view; context Sequence 1, 2, 3; one token")
        func advancedWithPeerServer() throws {
            let name = uniquePortName()
            let peer = try PeerProcess(["attr-server", name, "--seconds", "60"])
            guard peer.waitForLine(prefix: "READY", timeout: 20) != nil else {
                throw AttributeTestFailure("server did not start: \(peer.lines)")
            }
            let serverPid = UInt64(peer.pid)

            // Connection data both ways.
            let connect = try AlpcMessage(string: "Connection request client message")
            let client = try AlpcClient(portName: name, connectMessage: connect, timeout: .seconds(10))
            #expect(client.connectionReply?.string == "Connection message response")
            #expect(peer.waitForLine(prefix: "CONNECT data=", timeout: 10) == "CONNECT data=Connection request client message")

            // A plain request: RESP valid attributes include the context.
            let plain = try client.sendReceive(try AlpcMessage(string: "Complex Message 1"), timeout: .seconds(10))
            #expect(plain.string == "REQUEST 'Complex Message 1' DONE")
            #expect(plain.validAttributes.contains(.context))
            // The reply's token is the server as the kernel knows it.
            #expect(plain.tokenAttribute?.modifiedId == serverPid)

            // A temporary file's handle.
            let fd = Self.temporaryFile("Tempfile data <3")
            defer { close(fd) }
            let withFile = try AlpcMessage(string: "some message with a file")
            let handle = withFile.handleAttribute!
            handle.flags = HandleAttribute.duplicateSameAccess
            handle.handle = UInt64(fd)
            withFile.isHandleValid = true
            let fileReply = try client.sendReceive(withFile, timeout: .seconds(10))
            #expect(fileReply.string == "REQUEST 'some message with a file' DONE")

            // A view of a 0x4000 section.
            let section = try client.createPortSection(size: 0x4000)
            #expect(section.size == 0x4000)
            let view = try client.createSectionView(section, size: 0x4000)
            #expect(view.viewSize == 0x4000)
            view.bytes.copyBytes(from: Array("The content of the view :)".utf8) + [0])
            let withView = AlpcMessage(size: 0x2000)
            try withView.setData("some message with a view")
            withView.viewAttribute!.set(view)
            withView.isViewValid = true
            let viewReply = try client.sendReceive(withView, timeout: .seconds(10))
            #expect(viewReply.string == "REQUEST 'some message with a view' DONE")
            #expect(!viewReply.isViewValid)

            // What the server printed.
            let handleLine = try #require(peer.waitForLine(prefix: "HANDLE ", timeout: 10), "\(peer.lines)")
            #expect(handleLine.hasPrefix("HANDLE {Flags 0, Handle 0x"))
            #expect(handleLine.hasSuffix("ObjectType 1, DesiredAccess 0x12019f} content=Tempfile data <3"))
            let viewLine = try #require(peer.waitForLine(prefix: "VIEW ", timeout: 10))
            #expect(viewLine.hasPrefix("VIEW {Flags 0, SectionHandle None, ViewBase 0x"))
            #expect(viewLine.hasSuffix("ViewSize 0x4000} content=The content of the view :)"))
            let requests = peer.lines.filter { $0.hasPrefix("REQUEST data=") }
            #expect(requests == [
                "REQUEST data=Complex Message 1", "REQUEST data=some message with a file",
                "REQUEST data=some message with a view",
            ])
            let contexts = peer.lines.filter { $0.hasPrefix("CONTEXT ") }
            #expect(contexts == (1...3).map {
                "CONTEXT {PortContext 0x11223344, MessageContext None, Sequence \($0), MessageId 0, CallbackId 0}"
            })
            let tokens = peer.lines.filter { $0.hasPrefix("TOKEN ") }
            #expect(tokens.count == 3)
            #expect(Set(tokens).count == 1)
            let token = "TOKEN {TokenId 0x\(String(getuid(), radix: 16)), AuthenticationId 0x\(String(getgid(), radix: 16)), ModifiedId 0x\(String(getpid(), radix: 16))}"
            #expect(tokens.first == token)
            client.disconnect()
        }

        @Test("advanced_alpc, the sample's client in a peer: the server reads the file and the view in place, Sequence 1, 2, 3, one token")
        func advancedWithPeerClient() throws {
            let session = try AttributeSession(["plain", "handle", "view"])
            let credentials = try session.peerCredentials()
            let message = AlpcMessage(size: 0x2000)
            var tokens: Set<[UInt64]> = []

            try session.nextRequest(into: message)
            #expect(message.string == "Complex Message 1")
            #expect(message.validAttributes == [.context, .token])
            #expect(message.contextAttribute?.sequence == 1)
            tokens.insert([message.tokenAttribute!.tokenId, message.tokenAttribute!.authenticationId, message.tokenAttribute!.modifiedId])
            try session.answer(message)

            try session.nextRequest(into: message)
            #expect(message.string == "some message with a file")
            #expect(message.validAttributes == [.context, .handle, .token])
            #expect(message.handleAttribute?.objectType == 1)
            #expect(fileText(Int32(message.handleAttribute!.handle)) == "Tempfile data <3")
            #expect(message.contextAttribute?.sequence == 2)
            tokens.insert([message.tokenAttribute!.tokenId, message.tokenAttribute!.authenticationId, message.tokenAttribute!.modifiedId])
            try session.answer(message)

            try session.nextRequest(into: message)
            #expect(message.string == "some message with a view")
            #expect(message.validAttributes == [.view, .context, .token])
            #expect(text(message.viewAttribute?.bytes) == "The content of the view :)")
            #expect(message.contextAttribute?.sequence == 3)
            #expect(message.contextAttribute?.portContext == 0x1122_3344)
            tokens.insert([message.tokenAttribute!.tokenId, message.tokenAttribute!.authenticationId, message.tokenAttribute!.modifiedId])
            try session.answer(message)

            #expect(tokens == [[credentials.uid, credentials.gid, credentials.pid]])
            #expect(try session.line("PLAIN reply=").hasPrefix("PLAIN reply=REQUEST 'Complex Message 1' DONE"))
            #expect(try session.line("HANDLE reply=") == "HANDLE reply=REQUEST 'some message with a file' DONE")
            #expect(try session.line("VIEW reply=").hasPrefix("VIEW reply=REQUEST 'some message with a view' DONE"))
        }

        @Test("test_view_alpc byte for byte: the view holds 'Message Data-view' and the bytes 0...255")
        func testViewAlpc() throws {
            let session = try AttributeSession(["seedview"])
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            #expect(message.isViewValid)
            let bytes = try #require(message.viewAttribute?.bytes)
            #expect(Array(bytes.prefix(attributeSeedViewBytes.count)) == attributeSeedViewBytes)
            message.isViewValid = false
            #expect(message.data == attributeSeedRequestBytes)
            try message.setData(attributeSeedReplyBytes)
            try session.server.send(message)
            #expect(try session.line("SEEDVIEW") == "SEEDVIEW ok")
        }

        @Test("test_view_alpc the other way: the test client's view is read by the sample server in a peer")
        func testViewAlpcPeerServer() throws {
            let name = uniquePortName()
            let peer = try PeerProcess(["attr-server", name, "--seconds", "60"])
            guard peer.waitForLine(prefix: "READY", timeout: 20) != nil else {
                throw AttributeTestFailure("server did not start: \(peer.lines)")
            }
            let client = try AlpcClient(portName: name, timeout: .seconds(10))
            let section = try client.createPortSection(size: 0x1000)
            let view = try client.createSectionView(section, size: 0x1000)
            view.bytes.copyBytes(from: attributeSeedViewBytes)
            let message = try AlpcMessage(data: attributeSeedRequestBytes)
            message.viewAttribute!.set(view)
            message.isViewValid = true
            let reply = try client.sendReceive(message, timeout: .seconds(10))
            #expect(reply.data == attributeSeedReplyBytes)
            #expect(peer.waitForLine(prefix: "SEEDVIEW", timeout: 10) == "SEEDVIEW ok")
        }
    }
}
