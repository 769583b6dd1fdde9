internal import CALPCNTSupport

/// The calling thread's cached ports (see `alpcnt_support.h`): the ports of the few handles it
/// last used for message calls, and the message wrappers of its last send and receive on each,
/// found again without a lock, a reference count or any other atomic instruction.
enum PortCache {
    /// The calling thread's entry for one handle, valid for its current call: the thread's
    /// cache holds what it names, and only this thread changes its cache.
    struct Entry {
        /// The port, borrowed.
        let port: Unmanaged<NTPort>
        /// Its place in the thread's cache, where its wrappers are kept.
        let index: Int32

        /// The wrappers of this thread's sends on the handle.
        var sendWrappers: WrapperCache { WrapperCache(slot: alpcnt_cached_wrapper(index, ALPCNT_SEND_WRAPPER)) }
        /// The wrappers of this thread's receives on the handle.
        var receiveWrappers: WrapperCache { WrapperCache(slot: alpcnt_cached_wrapper(index, ALPCNT_RECEIVE_WRAPPER)) }
    }

    /// The calling thread's entry for the port `handle` names; nil for a handle that names none.
    @inline(__always)
    static func entry(_ handle: UnsafeMutableRawPointer?) -> Entry? {
        let index = alpcnt_cached_port_index(handle)
        if index >= 0 { return Entry(port: .fromOpaque(alpcnt_cached_port_at(index)), index: index) }
        return refresh(handle)
    }

    /// Looks `handle` up in the table and caches what it finds.
    @inline(never)
    private static func refresh(_ handle: UnsafeMutableRawPointer?) -> Entry? {
        // Read before the lookup: a close after it, which may have removed what the lookup
        // found, makes the entry stale.
        let epoch = alpcnt_handle_epoch()
        guard let port = PortTable.shared.port(handle) else { return nil }
        let cached = Unmanaged.passRetained(port)
        let index = alpcnt_cache_port(handle, cached.toOpaque(), epoch, releaseCached)
        return Entry(port: cached, index: index)
    }

    /// Invalidates every thread's entry for a handle just removed from the table, and drops
    /// the calling thread's own.
    static func closed(_ handle: UnsafeMutableRawPointer?) {
        alpcnt_advance_handle_epoch()
        alpcnt_uncache_port(handle, releaseCached)
    }
}

/// Releases an object a thread's cache held (a port or a wrapper).
private func releaseCached(_ object: UnsafeMutableRawPointer?) {
    guard let object else { return }
    Unmanaged<AnyObject>.fromOpaque(object).release()
}
