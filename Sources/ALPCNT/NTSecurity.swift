internal import ALPC
internal import CALPC

/// The one security descriptor the C API understands: a discretionary ACL that is NULL (present
/// but empty of entries, as `SetSecurityDescriptorDacl(sd, TRUE, NULL, FALSE)` makes it), which
/// lets every user connect. Any other descriptor, or none, keeps the default: the server's own
/// user and root.
enum NTSecurity {
    private static let daclPresent: UInt16 = 0x0004
    private static let selfRelative: UInt16 = 0x8000

    /// Who may connect to a port created with `descriptor`.
    static func accessPolicy(_ descriptor: UnsafeMutableRawPointer?) -> AccessPolicy {
        guard let descriptor else { return .sameUser }
        let revision = descriptor.load(as: UInt8.self)
        let control = descriptor.loadUnaligned(fromByteOffset: 2, as: UInt16.self)
        guard revision == 1, control & daclPresent != 0 else { return .sameUser }
        // Absolute: Owner, Group, Sacl, Dacl pointers at 8, 16, 24, 32. Self-relative: 32-bit
        // offsets at 4, 8, 12, 16.
        let daclIsNull = control & selfRelative != 0
            ? descriptor.loadUnaligned(fromByteOffset: 16, as: UInt32.self) == 0
            : descriptor.loadUnaligned(fromByteOffset: 32, as: UInt64.self) == 0
        return daclIsNull ? .anyUser : .sameUser
    }
}
