internal import CALPC

/// Windows security identifiers for Linux users: S-1-5-18 (LocalSystem) for root, and Samba's
/// "Unix User" form S-1-22-1-uid for every other user.
enum NTIdentity {
    /// The binary SID of user `uid`.
    static func sid(uid: UInt32) -> [UInt8] {
        let (authority, subAuthorities): (UInt8, [UInt32]) = uid == 0 ? (5, [18]) : (22, [1, uid])
        var bytes: [UInt8] = [1, UInt8(subAuthorities.count), 0, 0, 0, 0, 0, authority]
        for sub in subAuthorities {
            withUnsafeBytes(of: sub.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// The user a binary SID names, or nil when it names no Linux user this way.
    static func uid(sid: UnsafeRawPointer) -> UInt32? {
        let revision = sid.load(as: UInt8.self)
        let count = Int(sid.load(fromByteOffset: 1, as: UInt8.self))
        guard revision == 1, count <= 15 else { return nil }
        for index in 2..<7 where sid.load(fromByteOffset: index, as: UInt8.self) != 0 { return nil }
        let authority = sid.load(fromByteOffset: 7, as: UInt8.self)
        let subs = (0..<count).map { UInt32(littleEndian: sid.loadUnaligned(fromByteOffset: 8 + 4 * $0, as: UInt32.self)) }
        if authority == 5, subs == [18] { return 0 }
        if authority == 22, subs.count == 2, subs[0] == 1 { return subs[1] }
        return nil
    }
}

/// Counted wide strings.
enum NTString {
    /// The characters of `string` (Length is in bytes), or nil for a malformed string.
    static func decode(_ string: UnsafePointer<UNICODE_STRING>?) -> String? {
        guard let string, let buffer = string.pointee.Buffer else { return nil }
        let count = Int(string.pointee.Length) / MemoryLayout<WCHAR>.stride
        var scalars = String.UnicodeScalarView()
        for index in 0..<count {
            guard let scalar = Unicode.Scalar(UInt32(bitPattern: Int32(buffer[index]))) else { return nil }
            scalars.append(scalar)
        }
        return String(scalars)
    }
}
