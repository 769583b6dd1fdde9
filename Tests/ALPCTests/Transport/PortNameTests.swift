import ALPC
import Testing

extension TransportTests {
    /// `PortName`: normalization, the socket address, and every way a name is invalid.
    @Suite("PortName")
    struct PortNameTests {
        @Test("A valid name keeps its spelling; the socket address is the prefix and its UTF-8")
        func validName() throws {
            let name = try PortName("\\RPC Control\\PythonForWindowsPORT")
            #expect(name.windowsName == "\\RPC Control\\PythonForWindowsPORT")
            #expect(name.socketAddress == Array("swiftalpc:\\RPC Control\\PythonForWindowsPORT".utf8))
            #expect(name.description == name.windowsName)
        }

        @Test(
            "A name without a leading backslash gets one",
            arguments: [
                ("RPC Control\\Port", "\\RPC Control\\Port"),
                ("Port", "\\Port"),
                ("é\\ü", "\\é\\ü"),
            ])
        func leadingBackslashAdded(given: String, expected: String) throws {
            let name = try PortName(given)
            #expect(name.windowsName == expected)
            #expect(name.socketAddress == Array(("swiftalpc:" + expected).utf8))
        }

        @Test(
            "Invalid names throw objectNameInvalid",
            arguments: [
                "",
                "\\",
                "\\\\",
                "\\RPC Control\\",
                "RPC Control\\",
                "\\RPC Control\\\\Port",
                "\\\\RPC Control\\Port",
                "\\RPC Control\\Po\0rt",
                "\0",
            ])
        func invalidName(name: String) {
            #expect(throws: NTStatus.objectNameInvalid) { _ = try PortName(name) }
        }

        @Test("Names differing only in case are different ports")
        func caseSensitive() throws {
            #expect(try PortName("\\RPC Control\\Port") != PortName("\\rpc control\\port"))
        }

        @Test("The longest name is 97 UTF-8 bytes, leading backslash included")
        func maximumLength() throws {
            #expect(PortName.maxNameBytes == 97)
            let longest = "\\" + String(repeating: "x", count: 96)
            let name = try PortName(longest)
            #expect(name.socketAddress.count == 107)
            // Without its backslash the same name is still 97 bytes once normalized.
            #expect(try PortName(String(longest.dropFirst())).windowsName == longest)
            #expect(throws: NTStatus.objectNameInvalid) { _ = try PortName(longest + "x") }
        }

        @Test("The length limit counts UTF-8 bytes, not characters")
        func lengthInBytes() throws {
            // "é" is 2 bytes: 1 + 48 * 2 = 97 bytes fits, one more byte does not.
            let fits = "\\" + String(repeating: "é", count: 48)
            #expect(try PortName(fits).windowsName == fits)
            #expect(throws: NTStatus.objectNameInvalid) { _ = try PortName(fits + "x") }
        }

        @Test("A name of the maximum length can be listened on and connected to")
        func maximumLengthBinds() throws {
            let prefix = try uniquePortName().windowsName
            let longest = prefix + String(repeating: "x", count: PortName.maxNameBytes - prefix.utf8.count)
            let name = try PortName(longest)
            #expect(name.windowsName.utf8.count == PortName.maxNameBytes)
            let listener = try ControlListener.listen(on: name)
            let client = try ControlSocket.connect(to: name)
            #expect(try listener.accept() != nil)
            client.close()
        }
    }
}
