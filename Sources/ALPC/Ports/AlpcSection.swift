/// A port section: memory shared with the peer, whose views travel in messages without being
/// copied (PythonForWindows' `AlpcSection`: a handle and a size).
///
/// On Linux a section is a sealed memfd. Its descriptor travels to a peer once per connection,
/// the first time a view of it is sent, and the peer maps it once per process.
public struct AlpcSection: Sendable, Hashable {
    /// The section's handle (`ALPC_HANDLE`), known to the port that created it.
    public let handle: UInt64
    /// The section's actual size: the size asked for, rounded up to whole pages.
    public let size: Int

    /// A section with `handle` and `size`, as returned by `createPortSection`.
    public init(handle: UInt64, size: Int) {
        self.handle = handle
        self.size = size
    }
}

/// A view of a port section in this process: what `NtAlpcCreateSectionView` fills in an
/// `ALPC_DATA_VIEW_ATTR` (PythonForWindows' `map_section` result).
///
/// Put it in a message's view attribute with ``DataViewAttribute/set(_:)`` and mark the
/// attribute valid; the receiver finds the same bytes at its own address.
public struct DataView: @unchecked Sendable, Hashable {
    /// The view's `ALPC_VIEWFLG_*` flags (`Flags`).
    public var flags: UInt32
    /// The handle of the section the view belongs to (`SectionHandle`).
    public var sectionHandle: UInt64
    /// The view's address in this process (`ViewBase`).
    public var viewBase: UnsafeMutableRawPointer
    /// The view's size in bytes (`ViewSize`).
    public var viewSize: Int

    /// A view of `viewSize` bytes at `viewBase` in the section `sectionHandle`.
    public init(flags: UInt32 = 0, sectionHandle: UInt64, viewBase: UnsafeMutableRawPointer, viewSize: Int) {
        self.flags = flags
        self.sectionHandle = sectionHandle
        self.viewBase = viewBase
        self.viewSize = viewSize
    }

    /// The view's bytes, read and written in place.
    ///
    /// - Warning: Valid until the view or its section is deleted.
    public var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: viewBase, count: viewSize)
    }
}

extension DataViewAttribute {
    /// Fills the attribute with `view`: its flags, section handle, address and size.
    public func set(_ view: DataView) {
        flags = view.flags
        sectionHandle = view.sectionHandle
        viewBase = UInt64(UInt(bitPattern: view.viewBase))
        viewSize = UInt64(view.viewSize)
    }

    /// The bytes the attribute describes (`ViewSize` bytes at `ViewBase`), read in place; nil
    /// when `ViewBase` is 0.
    ///
    /// - Warning: After a receive, valid while the message holds the view (until it receives
    ///   again or goes away) and the view has not been released.
    public var bytes: UnsafeMutableRawBufferPointer? {
        guard let base = viewBaseAddress, viewSize <= UInt64(Int.max) else { return nil }
        return UnsafeMutableRawBufferPointer(start: base, count: Int(viewSize))
    }
}
