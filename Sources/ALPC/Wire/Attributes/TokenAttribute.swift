/// A view of the token attribute blob (`ALPC_TOKEN_ATTR`, 0x18 bytes).
///
/// On receipt it identifies the sender's token. The view does not own the blob: it is valid
/// while the ``MessageAttributes`` it came from is alive.
public struct TokenAttribute: CustomStringConvertible {
    /// The address of the blob.
    public let start: UnsafeMutableRawPointer

    /// Creates a view of the token blob at `unsafeStart`, which must hold ``size`` bytes.
    @inlinable
    public init(unsafeStart: UnsafeMutableRawPointer) {
        self.start = unsafeStart
    }

    /// The size of the blob in bytes: 0x18.
    @inlinable
    public static var size: Int { WireLayout.TokenAttr.size }

    /// The token's identifier (`TokenId`, a LUID).
    @inlinable
    public var tokenId: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.TokenAttr.tokenId) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.TokenAttr.tokenId) }
    }

    /// The logon session's identifier (`AuthenticationId`, a LUID).
    @inlinable
    public var authenticationId: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.TokenAttr.authenticationId) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.TokenAttr.authenticationId) }
    }

    /// The identifier of the token's last modification (`ModifiedId`, a LUID).
    @inlinable
    public var modifiedId: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.TokenAttr.modifiedId) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.TokenAttr.modifiedId) }
    }

    /// The fields, such as `{TokenId 0x5c3d1, AuthenticationId 0x3e7, ModifiedId 0x5c3d0}`.
    public var description: String {
        FieldFormatting.record([
            "TokenId": FieldFormatting.hex(tokenId),
            "AuthenticationId": FieldFormatting.hex(authenticationId),
            "ModifiedId": FieldFormatting.hex(modifiedId),
        ])
    }
}
