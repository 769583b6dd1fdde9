import ALPC
import CALPC
import Glibc
import Testing

extension AttributesTests {
    /// Handle attributes: descriptors passed with SCM_RIGHTS, described in Windows terms.
    @Suite("Handles", .sharedPeers)
    struct HandleAttributeTests {
        @Test("A file handle (DUPLICATE_SAME_ACCESS) arrives as the receiver's own descriptor to the same open file: ObjectType 1, FILE_GENERIC_READ|WRITE")
        func fileHandle() throws {
            let session = try AttributeSession(["handle"])
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            #expect(message.string == "some message with a file")
            #expect(message.isHandleValid)
            let handle = try #require(message.handleAttribute)
            #expect(handle.flags == 0)
            #expect(handle.objectType == 1)
            #expect(handle.desiredAccess == 0x12_019F)
            let fd = Int32(handle.handle)
            #expect(isOpen(fd))
            #expect(fileText(fd) == "Tempfile data <3")
            try session.answer(message)
            try session.line("HANDLE reply=")
        }

        @Test("Object types and access: socket FILE, memfd SECTION, eventfd EVENT, pidfd PROCESS, a read-only file FILE_GENERIC_READ")
        func objectTypes() throws {
            let session = try AttributeSession(["kinds"])
            let message = AlpcMessage(size: 0x2000)
            let expected: [(String, UInt32, UInt32)] = [
                ("kind socket", 0x1, 0x12_019F),
                ("kind memfd", 0x80, 0x2_0007),
                ("kind eventfd", 0x10, 0x10_0003),
                ("kind pidfd", 0x20, 0x10_1001),
                ("kind readonly", 0x1, 0x12_0089),
            ]
            for (data, type, access) in expected {
                try session.nextRequest(into: message)
                #expect(message.string == data)
                let handle = try #require(message.handleAttribute)
                #expect(message.isHandleValid)
                #expect(handle.objectType == type, "\(data)")
                #expect(handle.desiredAccess == access, "\(data)")
                #expect(isOpen(Int32(handle.handle)))
                if data == "kind readonly" {
                    #expect(fileText(Int32(handle.handle)) == "read only data")
                }
                try session.answer(message)
            }
        }

        @Test("The port's DupObjectTypes is enforced at the sender: a type not allowed is STATUS_OBJECT_TYPE_MISMATCH")
        func dupObjectTypes() throws {
            var attributes = PortAttributes.server
            attributes.dupObjectTypes = HandleAttribute.fileObjectType
            let session = try AttributeSession(["kinds"], serverAttributes: attributes)
            let seen = try session.serveUntilDone()
            #expect(seen == ["kind socket", "kind readonly"])
            #expect(try session.line("KIND memfd") == "KIND memfd status=STATUS_OBJECT_TYPE_MISMATCH (0xC0000024)")
            #expect(try session.line("KIND eventfd") == "KIND eventfd status=STATUS_OBJECT_TYPE_MISMATCH (0xC0000024)")
            #expect(try session.line("KIND pidfd") == "KIND pidfd status=STATUS_OBJECT_TYPE_MISMATCH (0xC0000024)")
        }

        @Test("A connection accepted without ALLOW_DUP_OBJECT takes no handles: STATUS_NOT_SUPPORTED at the sender")
        func noDuplication() throws {
            let session = try AttributeSession(["kinds"], acceptFlags: 0)
            let seen = try session.serveUntilDone()
            #expect(seen.isEmpty)
            for kind in ["socket", "memfd", "eventfd", "pidfd", "readonly"] {
                #expect(try session.line("KIND \(kind)") == "KIND \(kind) status=STATUS_NOT_SUPPORTED (0xC00000BB)")
            }
        }

        @Test("Indirect handles: 2 and 512 with ALLOW_MULTIHANDLE_ATTRIBUTE, each the receiver's own; 513 is STATUS_LPC_HANDLE_COUNT_EXCEEDED")
        func indirectHandles() throws {
            let flags = PortAttributes.allowDuplicateObjectsFlag | PortAttributes.allowMultipleHandlesFlag
            let session = try AttributeSession(["indirect:2", "indirect:512", "indirect:513"], acceptFlags: flags)
            let message = AlpcMessage(size: 0x2000)
            for count in [2, 512] {
                try session.nextRequest(into: message)
                #expect(message.string == "indirect \(count)")
                let handle = try #require(message.handleAttribute)
                #expect(handle.isIndirect)
                #expect(handle.handleCount == UInt32(count))
                let array = try #require(handle.handleAttrArrayAddress)
                var allRight = true
                for index in 0..<count {
                    let entry = (array + index * 16).loadUnaligned(as: ALPC_HANDLE_ATTR32.self)
                    let fd = Int32(bitPattern: entry.Handle)
                    allRight = allRight && entry.ObjectType == 1 && entry.DesiredAccess == 0x12_019F
                        && fileText(fd) == "file \(index)"
                }
                #expect(allRight)
                #expect(message.ownedHandleCount == count)
                try session.answer(message)
            }
            #expect(try session.line("INDIRECT 513") == "INDIRECT 513 status=STATUS_LPC_HANDLE_COUNT_EXCEEDED (0xC0000722)")
        }

        @Test("Without ALLOW_MULTIHANDLE_ATTRIBUTE an indirect handle attribute is STATUS_NOT_SUPPORTED at the sender")
        func indirectNotAllowed() throws {
            let session = try AttributeSession(["indirect:2"])
            let seen = try session.serveUntilDone()
            #expect(seen.isEmpty)
            #expect(try session.line("INDIRECT 2") == "INDIRECT 2 status=STATUS_NOT_SUPPORTED (0xC00000BB)")
        }

        @Test("Descriptors nobody takes are closed on the next receive and when the message goes away; takeHandle keeps one open")
        func ownership() throws {
            let session = try AttributeSession(["handle", "handle", "handle"])
            var message: AlpcMessage? = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message!)
            let first = Int32(message!.handleAttribute!.handle)
            let firstFile = openFileIdentity(first)
            #expect(firstFile != nil)
            try session.answer(message!)
            // The next receive closes the first descriptor.
            try session.nextRequest(into: message!)
            let second = Int32(message!.handleAttribute!.handle)
            #expect(!isOpen(first, on: firstFile) || first == second)
            let taken = try #require(message!.takeHandle())
            #expect(taken == second)
            #expect(message!.takeHandle() == nil)
            #expect(message!.ownedHandleCount == 0)
            try session.answer(message!)
            try session.nextRequest(into: message!)
            let third = Int32(message!.handleAttribute!.handle)
            let thirdFile = openFileIdentity(third)
            // The taken descriptor survived the receive; it is ours to close.
            #expect(isOpen(taken))
            #expect(fileText(taken) == "Tempfile data <3")
            close(taken)
            try session.answer(message!)
            // Dropping the message closes what it still owns.
            #expect(thirdFile != nil)
            message = nil
            #expect(!isOpen(third, on: thirdFile))
        }
    }
}
