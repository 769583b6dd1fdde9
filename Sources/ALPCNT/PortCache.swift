internal import CALPCNTSupport

/// The calling thread's cached ports (see `alpcnt_support.h`): the ports of the few handles it
/// last used for message calls, found again without the handle table's lock or a reference
/// count.
enum PortCache {
    /// The port `handle` names, borrowed for the calling thread's current call (the thread's
    /// cache holds it, and only this thread changes its cache); nil for a handle that names none.
    @inline(__always)
    static func port(_ handle: UnsafeMutableRawPointer?) -> Unmanaged<NTPort>? {
        if let cached = alpcnt_cached_port(handle) { return Unmanaged.fromOpaque(cached) }
        return refresh(handle)
    }

    /// Looks `handle` up in the table and caches what it finds.
    @inline(never)
    private static func refresh(_ handle: UnsafeMutableRawPointer?) -> Unmanaged<NTPort>? {
        // Read before the lookup: a close after it, which may have removed what the lookup
        // found, makes the entry stale.
        let epoch = alpcnt_handle_epoch()
        guard let port = PortTable.shared.port(handle) else { return nil }
        let cached = Unmanaged.passRetained(port)
        alpcnt_cache_port(handle, cached.toOpaque(), epoch, releaseCached)
        return cached
    }

    /// Invalidates every thread's entry for a handle just removed from the table, and drops
    /// the calling thread's own.
    static func closed(_ handle: UnsafeMutableRawPointer?) {
        alpcnt_advance_handle_epoch()
        alpcnt_uncache_port(handle, releaseCached)
    }
}

/// Releases a port a thread's cache held.
private func releaseCached(_ port: UnsafeMutableRawPointer?) {
    guard let port else { return }
    Unmanaged<NTPort>.fromOpaque(port).release()
}
