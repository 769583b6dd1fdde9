internal import Glibc

extension NTStatus {
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
