/// How the attribute views print their fields, in the style of PythonForWindows' ctypes
/// structs: `{Flags 0, Handle 0x2cc, ObjectType 1, DesiredAccess 0x13019f}`.
enum FieldFormatting {
    /// A handle or pointer: `None` when zero, lowercase hex otherwise.
    static func handle(_ value: UInt64) -> String {
        value == 0 ? "None" : hex(value)
    }

    /// A size, an access mask or an identifier: lowercase hex with a `0x` prefix.
    static func hex(_ value: some BinaryInteger) -> String {
        "0x" + String(value, radix: 16)
    }

    /// A flags word: `0` when empty, lowercase hex otherwise.
    static func flags(_ value: UInt32) -> String {
        value == 0 ? "0" : hex(value)
    }

    /// A braced list of `Name value` pairs.
    static func record(_ fields: KeyValuePairs<String, String>) -> String {
        "{" + fields.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "}"
    }

    /// An unsigned value as exactly eight uppercase hex digits, like `C0000037`.
    static func hex8(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
