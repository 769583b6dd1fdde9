/// Who sent a message, as the kernel knows the sender: the credentials `SO_PEERCRED` recorded
/// when its connection was made, never anything the sender wrote.
public struct SenderCredentials: Sendable, Hashable {
    /// The sender's process id.
    public let processId: Int32
    /// The sender's user id.
    public let userId: UInt32
    /// The sender's group id.
    public let groupId: UInt32
    /// Whether the sender lets the receiver impersonate it: the security QoS of its connect
    /// attributes has an impersonation level of `SecurityImpersonation` or above (as
    /// ``PortAttributes/client`` has). Known for a server's clients; false otherwise.
    public let allowsImpersonation: Bool

    /// Credentials with the given ids.
    public init(processId: Int32, userId: UInt32, groupId: UInt32, allowsImpersonation: Bool = false) {
        self.processId = processId
        self.userId = userId
        self.groupId = groupId
        self.allowsImpersonation = allowsImpersonation
    }
}
