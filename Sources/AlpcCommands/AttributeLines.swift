import ALPC

#if canImport(Glibc)
import Glibc
#endif

/// The lines `alpc serve` prints for the attributes of a received request, in the order and
/// spirit of the seed's advanced sample: view (and its content, read in place), security,
/// handle, context, token, and the rest. A file's content is read and printed apart, by
/// ``ServeOutput``.
struct AttributeLines {
    let message: AlpcMessage

    init(_ message: AlpcMessage) { self.message = message }

    /// The most bytes shown of a view or a file.
    static let previewLimit = 256

    var lines: [String] {
        var lines: [String] = []
        lines.append("view_is_valid: \(message.isViewValid)")
        if message.isViewValid, let view = message.viewAttribute {
            lines.append("  view attribute: \(view)")
            lines.append("  view content: <\(Self.text(view.bytes.map { UnsafeRawBufferPointer($0) }))>")
        }
        lines.append("security_is_valid: \(message.isSecurityValid)")
        if message.isSecurityValid, let security = message.securityAttribute {
            lines.append("  security attribute: \(security)")
        }
        lines.append("handle_is_valid: \(message.isHandleValid)")
        if message.isHandleValid, let handle = message.handleAttribute {
            lines.append("  handle attribute: \(handle)")
        }
        lines.append("context_is_valid: \(message.isContextValid)")
        if message.isContextValid, let context = message.contextAttribute {
            lines.append("  context attribute: \(context)")
        }
        if message.isTokenValid, let token = message.tokenAttribute {
            lines.append("token attribute: \(token)")
        }
        if message.isWorkOnBehalfValid, let ticket = message.workOnBehalfAttribute {
            lines.append("work_on_behalf attribute: \(ticket)")
        }
        return lines
    }

    /// The text before the first NUL, at most `previewLimit` bytes.
    static func text(_ bytes: UnsafeRawBufferPointer?) -> String {
        guard let bytes else { return "" }
        let limited = UnsafeRawBufferPointer(rebasing: bytes.prefix(previewLimit))
        let end = limited.firstIndex(of: 0) ?? limited.count
        return printable(String(decoding: UnsafeRawBufferPointer(rebasing: limited[0..<end]), as: UTF8.self))
    }

    /// The start of the file `fd`, read from offset 0 without moving its position.
    static func fileText(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: previewLimit)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return "unreadable: errno \(errno)" }
        return printable(String(decoding: buffer[0..<count], as: UTF8.self))
    }
}
