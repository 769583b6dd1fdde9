extension UnsafeMutableRawPointer {
    /// Reads the little-endian integer stored `offset` bytes from this address.
    ///
    /// Wire fields are little-endian and may sit at any address, so this is an unaligned
    /// load followed by a byte-order conversion (a no-op on little-endian hosts).
    @inlinable
    @inline(__always)
    func loadWire<T: FixedWidthInteger & BitwiseCopyable>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: self.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// Writes `value` as a little-endian integer `offset` bytes from this address.
    @inlinable
    @inline(__always)
    func storeWire<T: FixedWidthInteger & BitwiseCopyable>(_ value: T, at offset: Int) {
        self.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
}
