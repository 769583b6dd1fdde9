internal import CALPC
internal import CALPCSystem

/// A Windows port name, such as `\RPC Control\MyPort`, and the abstract Unix socket address
/// the port listens on.
///
/// The address is `swiftalpc:` followed by the name's UTF-8 bytes, in Linux's abstract socket
/// namespace: it has no file, and it is free again as soon as the listening socket closes,
/// however its process ends. Names compare byte for byte (case-sensitively).
package struct PortName: Hashable, Sendable, CustomStringConvertible {
    /// What every socket address starts with, so our ports never collide with other programs'
    /// abstract sockets.
    package static let socketPrefix = "swiftalpc:"

    /// The longest name in UTF-8 bytes (97): what fits in a socket address after the leading
    /// NUL that marks it abstract and ``socketPrefix``.
    package static let maxNameBytes = Int(ALPC_ABSTRACT_NAME_MAX) - socketPrefix.utf8.count

    /// The name as given, with a leading `\` added when it had none.
    package let windowsName: String

    /// The abstract socket address without its leading NUL: ``socketPrefix`` and the UTF-8
    /// bytes of ``windowsName``.
    package let socketAddress: [UInt8]

    /// Parses a port name, prepending a `\` when it does not start with one (as
    /// PythonForWindows' `create_port` does).
    ///
    /// - Throws: ``NTStatus/objectNameInvalid`` when the name is empty or only `\`, has an
    ///   empty component (`\\`, or a trailing `\`), contains a NUL character, or is longer
    ///   than ``maxNameBytes`` UTF-8 bytes once normalized.
    package init(_ name: String) throws(NTStatus) {
        let backslash = UInt8(ascii: "\\")
        var bytes = Array(name.utf8)
        if bytes.first != backslash {
            bytes.insert(backslash, at: 0)
        }
        guard bytes.count <= Self.maxNameBytes, !bytes.contains(0) else {
            throw .objectNameInvalid
        }
        // After the leading `\`, every component between separators must be non-empty; this
        // also rejects a name that is only `\`.
        let components = bytes.dropFirst().split(separator: backslash, omittingEmptySubsequences: false)
        guard !components.contains(where: \.isEmpty) else {
            throw .objectNameInvalid
        }
        windowsName = String(decoding: bytes, as: UTF8.self)
        socketAddress = Array(Self.socketPrefix.utf8) + bytes
    }

    /// The Windows name.
    package var description: String { windowsName }
}
