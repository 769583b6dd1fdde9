/// Who may connect to a server port, decided from the kernel's peer credentials.
public struct AccessPolicy: Sendable, Hashable {
    private enum Rule: Hashable, Sendable {
        case sameUser
        case anyUser
        case users(Set<UInt32>)
    }

    private let rule: Rule

    /// The server's own user, and root (the default).
    public static let sameUser = AccessPolicy(rule: .sameUser)
    /// Every user.
    public static let anyUser = AccessPolicy(rule: .anyUser)
    /// The server's own user, root, and the users listed.
    public static func users(_ uids: Set<UInt32>) -> AccessPolicy { AccessPolicy(rule: .users(uids)) }

    /// True when a peer running as `uid` may connect to a server running as `serverUid`.
    func allows(uid: UInt32, serverUid: UInt32) -> Bool {
        if uid == serverUid || uid == 0 { return true }
        switch rule {
        case .sameUser: return false
        case .anyUser: return true
        case .users(let allowed): return allowed.contains(uid)
        }
    }
}
