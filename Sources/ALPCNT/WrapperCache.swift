internal import ALPC
internal import CALPC

/// The last message wrapper of a thread's sends, or of its receives, on one port handle, kept
/// for the next call: C programs send from and receive into the same buffers call after call,
/// and a wrapper that fits (same buffer, size and attribute buffer) saves two allocations per
/// call.
///
/// The slot is in the calling thread's port cache (``PortCache/Entry``), so taking the wrapper
/// and keeping it again are a load and a store: no other thread uses it.
struct WrapperCache {
    /// A wrapper and what it wraps.
    private final class Entry {
        let message: AlpcMessage
        let attributesBuffer: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?
        let allocated: UInt32

        init(message: AlpcMessage, attributesBuffer: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?) {
            self.message = message
            self.attributesBuffer = attributesBuffer
            self.allocated = attributesBuffer?.pointee.AllocatedAttributes ?? 0
        }

        @inline(__always)
        func fits(
            _ buffer: UnsafeMutableRawPointer, size: Int, attributes: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?
        ) -> Bool {
            message.port.start == buffer && message.bufferSize == size && attributesBuffer == attributes
                && allocated == (attributes?.pointee.AllocatedAttributes ?? 0)
        }
    }

    /// Where the calling thread keeps the wrapper: an `Unmanaged<Entry>`, retained, or nil.
    let slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    /// Runs `body` with a wrapper of `size` bytes at `buffer` and the attribute buffer
    /// `attributes` (nil: an empty one of our own). `body` returns whether the wrapper may be
    /// used again (false when something it received must stay with it).
    @inline(__always)
    func withMessage<Result>(
        _ buffer: UnsafeMutableRawPointer, size: Int, attributes: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?,
        _ body: (AlpcMessage) throws(NTStatus) -> (result: Result, reusable: Bool)
    ) throws(NTStatus) -> Result {
        // The kept wrapper is used through the reference the slot owned, handed back as it is:
        // no reference count changes on the path a C program takes call after call.
        if let kept = take(fitting: buffer, size: size, attributes: attributes) {
            let result: Result
            let reusable: Bool
            do throws(NTStatus) {
                (result, reusable) = try kept.withBorrowed { (entry) throws(NTStatus) in try body(entry.message) }
            } catch {
                kept.release()
                throw error
            }
            if reusable { put(kept) } else { kept.release() }
            return result
        }
        let entry = Entry(
            message: AlpcMessage(
                unsafeBuffer: buffer, size: size,
                attributes: attributes.map { MessageAttributes(unsafeBuffer: $0) } ?? MessageAttributes(flags: [])),
            attributesBuffer: attributes)
        let (result, reusable) = try body(entry.message)
        if reusable { put(.passRetained(entry)) }
        return result
    }

    /// The kept wrapper, owned (the slot's reference), when it fits; a kept one that does not
    /// is released.
    private func take(
        fitting buffer: UnsafeMutableRawPointer, size: Int, attributes: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?
    ) -> Unmanaged<Entry>? {
        guard let kept = slot.pointee else { return nil }
        slot.pointee = nil
        let entry = Unmanaged<Entry>.fromOpaque(kept)
        if entry._withUnsafeGuaranteedRef({ $0.fits(buffer, size: size, attributes: attributes) }) { return entry }
        entry.release()
        return nil
    }

    /// Keeps `entry` (an owned reference) for the next call.
    private func put(_ entry: Unmanaged<Entry>) {
        // (Empty: this thread took what it held; a call on this thread in between, which
        // could have kept another, is not possible.)
        if let kept = slot.pointee { Unmanaged<Entry>.fromOpaque(kept).release() }
        slot.pointee = entry.toOpaque()
    }
}
