/// The sole owner of one open file descriptor, which it closes when it goes away.
///
/// Being `~Copyable`, an owner cannot be duplicated, so a descriptor is closed exactly once:
/// by ``close()``, by the end of the owner's lifetime, or by whoever receives it from
/// ``take()``.
package struct OwnedDescriptor: ~Copyable, Sendable {
    /// The descriptor number.
    package let rawValue: Int32

    /// Takes ownership of an open descriptor.
    package init(adopting rawValue: Int32) {
        precondition(rawValue >= 0, "not a file descriptor: \(rawValue)")
        self.rawValue = rawValue
    }

    deinit {
        _ = system_close(rawValue)
    }

    /// Closes the descriptor now. Errors are ignored: on Linux the descriptor is released
    /// whatever `close(2)` reports.
    package consuming func close() {
        _ = system_close(rawValue)
        discard self
    }

    /// Gives up ownership without closing, and returns the descriptor for its new owner.
    package consuming func take() -> Int32 {
        let rawValue = self.rawValue
        discard self
        return rawValue
    }
}
