/// Text that came from a peer, made safe to print on one line: control characters (C0, DEL,
/// C1) and backslashes are escaped (`\n`, `\u{1B}`, `\\`), so a peer cannot forge log lines
/// or send escape sequences to the terminal.
func printable(_ text: String) -> String {
    var result = ""
    result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case "\u{00}"..."\u{1F}", "\u{7F}"..."\u{9F}":
            result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result
}
