/// The sender of a message: its process id and thread id (`CLIENT_ID`).
///
/// On Windows both are `HANDLE`-sized values; here they carry the sender's Linux pid and tid.
public struct ClientID: Hashable, Sendable, CustomStringConvertible {
    /// The process id (`UniqueProcess`).
    public var process: UInt64

    /// The thread id (`UniqueThread`).
    public var thread: UInt64

    /// Creates a client id from a process id and a thread id.
    @inlinable
    public init(process: UInt64, thread: UInt64) {
        self.process = process
        self.thread = thread
    }

    /// The process and thread ids, such as `{UniqueProcess 1234, UniqueThread 1240}`.
    public var description: String {
        "{UniqueProcess \(process), UniqueThread \(thread)}"
    }
}
