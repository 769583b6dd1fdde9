internal import CALPC
internal import Glibc

/// What a file descriptor sent as a handle attribute is, in Windows terms: an
/// `ALPC_PORFLG_OBJECT_TYPE_*` code and the access mask it grants.
///
/// Both come from the kernel's view of the descriptor (`/proc/self/fd` and `F_GETFL`), never
/// from what a sender claims. The mapping:
///
/// | Descriptor | ObjectType | Access |
/// |---|---|---|
/// | memfd (`/memfd:`) | SECTION 0x80 | read: SECTION_QUERY, SECTION_MAP_READ, READ_CONTROL (0x20005); write: SECTION_MAP_WRITE, READ_CONTROL (0x20002) |
/// | eventfd | EVENT 0x10 | EVENT_QUERY_STATE, EVENT_MODIFY_STATE, SYNCHRONIZE (0x100003) |
/// | pidfd | PROCESS 0x20 | PROCESS_TERMINATE, PROCESS_QUERY_LIMITED_INFORMATION, SYNCHRONIZE (0x101001) |
/// | anything else: files, directories, devices, pipes, sockets, other anonymous inodes | FILE 0x1 | read: FILE_GENERIC_READ (0x120089); write: FILE_GENERIC_WRITE (0x120116); O_PATH: FILE_READ_ATTRIBUTES, SYNCHRONIZE (0x100080) |
///
/// Read and write come from the descriptor's access mode: `O_RDONLY` reads, `O_WRONLY`
/// writes, `O_RDWR` both (so a file opened read-write grants 0x12019F).
struct HandleDescription: Sendable, Equatable {
    /// The `ALPC_PORFLG_OBJECT_TYPE_*` code.
    var objectType: UInt32
    /// The access the descriptor grants, as a Windows access mask.
    var grantedAccess: UInt32

    /// `O_PATH` (GNU-only in glibc's headers; its value is the kernel ABI on x86_64 and aarch64).
    static let openPathFlag: Int32 = 0o1000_0000

    /// Windows access rights used by the mapping.
    enum Access {
        static let fileGenericRead: UInt32 = 0x0012_0089
        static let fileGenericWrite: UInt32 = 0x0012_0116
        static let fileReadAttributes: UInt32 = 0x0000_0080
        static let synchronize: UInt32 = 0x0010_0000
        static let readControl: UInt32 = 0x0002_0000
        static let sectionQuery: UInt32 = 0x0001
        static let sectionMapWrite: UInt32 = 0x0002
        static let sectionMapRead: UInt32 = 0x0004
        static let eventQueryState: UInt32 = 0x0001
        static let eventModifyState: UInt32 = 0x0002
        static let processTerminate: UInt32 = 0x0001
        static let processQueryLimitedInformation: UInt32 = 0x1000
    }

    /// Describes the open descriptor `fd`.
    ///
    /// - Throws: ``NTStatus/invalidHandle`` when `fd` is not open.
    static func of(_ fd: Int32) throws(NTStatus) -> HandleDescription {
        guard fd >= 0 else { throw .invalidHandle }
        let flags = system_fileStatusFlags(fd)
        guard flags >= 0 else { throw .invalidHandle }
        let kind = Kind(fd)
        let isPath = flags & Self.openPathFlag != 0
        let mode = flags & O_ACCMODE
        let reads = !isPath && (mode == O_RDONLY || mode == O_RDWR)
        let writes = !isPath && (mode == O_WRONLY || mode == O_RDWR)
        switch kind {
        case .section:
            var access: UInt32 = 0
            if reads { access |= Access.sectionQuery | Access.sectionMapRead | Access.readControl }
            if writes { access |= Access.sectionMapWrite | Access.readControl }
            return HandleDescription(objectType: ALPC_PORFLG_OBJECT_TYPE_SECTION, grantedAccess: access)
        case .event:
            return HandleDescription(
                objectType: ALPC_PORFLG_OBJECT_TYPE_EVENT,
                grantedAccess: Access.eventQueryState | Access.eventModifyState | Access.synchronize)
        case .process:
            return HandleDescription(
                objectType: ALPC_PORFLG_OBJECT_TYPE_PROCESS,
                grantedAccess: Access.processTerminate | Access.processQueryLimitedInformation | Access.synchronize)
        case .file:
            var access: UInt32 = 0
            if isPath { access = Access.fileReadAttributes | Access.synchronize }
            if reads { access |= Access.fileGenericRead }
            if writes { access |= Access.fileGenericWrite }
            return HandleDescription(objectType: ALPC_PORFLG_OBJECT_TYPE_FILE, grantedAccess: access)
        }
    }

    /// What a descriptor is, from its `/proc/self/fd` link.
    enum Kind: Sendable, Equatable {
        case file, section, event, process

        init(_ fd: Int32) {
            var target = [UInt8](repeating: 0, count: 64)
            let length = target.withUnsafeMutableBytes { buffer in
                "/proc/self/fd/\(fd)".withCString { system_readlink($0, into: buffer) }
            }
            guard length > 0 else {
                self = .file
                return
            }
            let link = target[..<length]
            if link.starts(with: "/memfd:".utf8) {
                self = .section
            } else if link.elementsEqual("anon_inode:[eventfd]".utf8) {
                self = .event
            } else if link.starts(with: "anon_inode:[pidfd]".utf8) || link.starts(with: "pidfd:".utf8) {
                self = .process
            } else {
                self = .file
            }
        }
    }
}
