internal import Glibc

extension NTStatus {
    /// The statuses a server may refuse a connection with; a refusal that names another
    /// (success, a timeout, anything a malicious server likes) reads as
    /// ``portConnectionRefused``.
    static let refusals: Set<NTStatus> = [.portConnectionRefused, .accessDenied, .insufficientResources, .quotaExceeded]

    /// What a client's connect fails with when the server refuses with `status`.
    init(refusal status: NTStatus) {
        self = Self.refusals.contains(status) ? status : .portConnectionRefused
    }

    /// The status for a failed control-plane system call whose error number has no more
    /// specific meaning where it happened: resource, memory, handle and argument errors keep
    /// their Windows counterparts, and anything else is ``unsuccessful``.
    ///
    /// Callers handle the errors that mean something in their context (`EADDRINUSE` when
    /// listening, `EPIPE` when sending...) before falling back to this.
    init(transportErrno code: Int32) {
        switch code {
        case ENOMEM:
            self = .noMemory
        case EMFILE, ENFILE, ENOBUFS, ENOSPC, ETOOMANYREFS:
            self = .insufficientResources
        case EBADF, ENOTSOCK:
            self = .invalidHandle
        case EINVAL, EMSGSIZE, ENAMETOOLONG, EOPNOTSUPP:
            self = .invalidParameter
        case EACCES, EPERM:
            self = .accessDenied
        case ETIMEDOUT:
            self = .timeout
        default:
            self = .unsuccessful
        }
    }
}
