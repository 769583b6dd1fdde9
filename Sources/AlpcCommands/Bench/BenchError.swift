import ALPC

#if canImport(Glibc)
import Glibc
#endif

/// Why `alpc bench` stopped; printed as the command's error, which exits non-zero.
enum BenchError: Error, CustomStringConvertible {
    /// A C baseline returned -errno.
    case baseline(what: String, errno: Int32)
    /// An ALPC call failed.
    case alpc(what: String, status: NTStatus)
    /// An ALPC reply did not carry what was sent.
    case wrongReply(what: String, detail: String)
    /// The peer process could not be started or misbehaved.
    case peer(String)
    /// The requested CPU placement is impossible.
    case placement(String)
    /// An ALPC batch made no progress in time; the peer was killed to unblock it.
    case stalled(what: String, seconds: UInt32)
    /// SIGINT.
    case interrupted

    var description: String {
        switch self {
        case .baseline(let what, let errno):
            "\(what) failed: \(ErrnoName.describe(errno))"
        case .alpc(let what, let status):
            "\(what) failed: \(status)"
        case .wrongReply(let what, let detail):
            "\(what): wrong reply: \(detail)"
        case .peer(let message):
            "bench peer: \(message)"
        case .placement(let message):
            "placement: \(message)"
        case .stalled(let what, let seconds):
            "\(what) made no progress for \(seconds) s; the peer was killed"
        case .interrupted:
            "interrupted"
        }
    }
}

/// errno values by name, for messages such as `ETIMEDOUT (110): Connection timed out`.
enum ErrnoName {
    static func describe(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        if let name = name(code) { return "\(name) (\(code)): \(text)" }
        return "errno \(code): \(text)"
    }

    static func name(_ code: Int32) -> String? {
        switch code {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case ESRCH: "ESRCH"
        case EINTR: "EINTR"
        case EIO: "EIO"
        case E2BIG: "E2BIG"
        case EBADF: "EBADF"
        case ECHILD: "ECHILD"
        case EAGAIN: "EAGAIN"
        case ENOMEM: "ENOMEM"
        case EACCES: "EACCES"
        case EFAULT: "EFAULT"
        case EBUSY: "EBUSY"
        case EINVAL: "EINVAL"
        case ENFILE: "ENFILE"
        case EMFILE: "EMFILE"
        case ENOSPC: "ENOSPC"
        case EPIPE: "EPIPE"
        case ENOSYS: "ENOSYS"
        case EMSGSIZE: "EMSGSIZE"
        case ECONNRESET: "ECONNRESET"
        case ETIMEDOUT: "ETIMEDOUT"
        default: nil
        }
    }
}
