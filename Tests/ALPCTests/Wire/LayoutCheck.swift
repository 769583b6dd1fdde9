/// One measured size or offset and the value the reference gives for it.
struct LayoutCheck: Sendable, CustomStringConvertible {
    /// What is measured, such as `offsetof(PORT_MESSAGE, MessageId)`.
    let name: String
    /// The value measured in Swift, or nil when it could not be measured.
    let measured: Int?
    /// The reference's x64 value.
    let expected: Int

    var description: String { name }

    static func size<T>(_ type: T.Type, _ name: String, _ expected: Int) -> LayoutCheck {
        LayoutCheck(name: "sizeof(\(name))", measured: MemoryLayout<T>.size, expected: expected)
    }

    static func offset<T>(_ keyPath: PartialKeyPath<T>, _ name: String, _ expected: Int) -> LayoutCheck {
        LayoutCheck(name: "offsetof(\(name))", measured: MemoryLayout<T>.offset(of: keyPath), expected: expected)
    }

    /// The offset of a field that a key path cannot reach (a member of a union, anonymous or
    /// not): `write` stores a value with no zero byte into a zeroed `T`, and the offset is
    /// where the changed bytes start. Nil unless exactly `width` contiguous bytes changed.
    static func probed<T>(
        _ type: T.Type,
        _ name: String,
        _ expected: Int,
        width: Int,
        _ write: (inout T) -> Void
    ) -> LayoutCheck {
        LayoutCheck(name: "offsetof(\(name))", measured: probeOffset(type, width: width, write), expected: expected)
    }
}

/// Where the bytes changed by `write` start in a zeroed `T`, or nil unless exactly `width`
/// contiguous bytes changed.
func probeOffset<T>(_ type: T.Type, width: Int, _ write: (inout T) -> Void) -> Int? {
    let size = MemoryLayout<T>.size
    let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<T>.alignment)
    defer { raw.deallocate() }
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    let typed = raw.bindMemory(to: T.self, capacity: 1)
    write(&typed.pointee)
    let bytes = UnsafeRawBufferPointer(start: raw, count: size)
    guard let first = bytes.firstIndex(where: { $0 != 0 }),
        let last = bytes.lastIndex(where: { $0 != 0 }),
        last - first + 1 == width
    else { return nil }
    return first
}

/// A pointer-sized value with no zero byte, for probing pointer and handle fields.
var probePointer: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: UInt(0x0807_0605_0403_0201)) }
