extension Unmanaged {
    /// Runs `body` with the object, borrowed without a reference count of its own: whoever
    /// made this `Unmanaged` keeps the object alive for the whole call. (The standard library's
    /// `_withUnsafeGuaranteedRef` rethrows untyped errors; this carries `NTStatus` through.)
    @inlinable @inline(__always)
    package func withBorrowed<Result>(_ body: (Instance) throws(NTStatus) -> Result) throws(NTStatus) -> Result {
        let outcome = _withUnsafeGuaranteedRef { instance in
            Swift.Result { () throws(NTStatus) in try body(instance) }
        }
        return try outcome.get()
    }
}
