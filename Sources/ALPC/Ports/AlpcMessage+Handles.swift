extension AlpcMessage {
    /// Takes the descriptor the last receive delivered in the handle attribute (direct form):
    /// it is the caller's to close from now on. Nil when none was delivered or it was taken.
    ///
    /// A descriptor nobody takes is closed when the message receives again or goes away (on the
    /// library's closing thread: a peer's file may take long to close).
    public func takeHandle() -> Int32? {
        guard let resources = receivedResources, !resources.isIndirect else { return nil }
        return resources.take(at: 0)
    }

    /// Takes every descriptor the last receive delivered in the handle attribute (direct or
    /// indirect form), in attribute order: they are the caller's to close from now on.
    public func takeHandles() -> [Int32] {
        receivedResources?.takeAll() ?? []
    }

    /// The number of received descriptors the message still owns (and will close).
    public var ownedHandleCount: Int {
        receivedResources?.ownedCount ?? 0
    }
}
