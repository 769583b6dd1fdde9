internal import ALPC
internal import CALPC

/// Handles are file descriptors: a HANDLE holds the descriptor's number.
extension Optional where Wrapped == UnsafeMutableRawPointer {
    /// The descriptor this handle holds; nil for NULL, the pseudo handles and values that are
    /// no descriptor number.
    var descriptor: Int32? {
        let value = Int(bitPattern: self)
        guard value > 0, value <= Int(Int32.max) else { return nil }
        return Int32(value)
    }

    /// True for NtCurrentProcess() (-1) and NtCurrentThread() (-2).
    var isPseudoHandle: Bool {
        let value = Int(bitPattern: self)
        return value == -1 || value == -2
    }

    /// The handle of descriptor `fd`.
    init(descriptor fd: Int32) {
        self = UnsafeMutableRawPointer(bitPattern: Int(fd))
    }
}

/// What an export returns for an outcome: STATUS_SUCCESS, or the status thrown.
func ntStatus(_ body: () throws(NTStatus) -> Void) -> NTSTATUS {
    do {
        try body()
        return STATUS_SUCCESS
    } catch {
        return error.rawValue
    }
}
