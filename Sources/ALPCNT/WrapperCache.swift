internal import ALPC
internal import CALPC
internal import Synchronization

/// The last message wrapper of a port's sends, or of its receives, kept for the next call: C
/// programs send from and receive into the same buffers call after call, and a wrapper that
/// fits (same buffer, size and attribute buffer) saves two allocations per call.
///
/// One slot, taken with an atomic exchange: a call that finds it empty, or holding another
/// buffer's wrapper, makes a new one; whichever call finishes first puts its wrapper back.
final class WrapperCache: Sendable {
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

        func fits(
            _ buffer: UnsafeMutableRawPointer, size: Int, attributes: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?
        ) -> Bool {
            message.port.start == buffer && message.bufferSize == size && attributesBuffer == attributes
                && allocated == (attributes?.pointee.AllocatedAttributes ?? 0)
        }
    }

    /// An `Unmanaged<Entry>`'s bits, or 0.
    private let slot = Atomic<UInt>(0)

    deinit {
        let bits = slot.exchange(0, ordering: .acquiring)
        if bits != 0 { Unmanaged<Entry>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!).release() }
    }

    /// Runs `body` with a wrapper of `size` bytes at `buffer` and the attribute buffer
    /// `attributes` (nil: an empty one of our own). `body` returns whether the wrapper may be
    /// used again (false when something it received must stay with it).
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
        let bits = slot.exchange(0, ordering: .acquiring)
        guard bits != 0 else { return nil }
        let entry = Unmanaged<Entry>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!)
        if entry._withUnsafeGuaranteedRef({ $0.fits(buffer, size: size, attributes: attributes) }) { return entry }
        entry.release()
        return nil
    }

    /// Keeps `entry` (an owned reference) for the next call, or releases it when another call
    /// kept one first.
    private func put(_ entry: Unmanaged<Entry>) {
        let bits = UInt(bitPattern: entry.toOpaque())
        if !slot.compareExchange(expected: 0, desired: bits, ordering: .releasing).exchanged {
            entry.release()
        }
    }
}
