internal import CALPC

/// Which descriptors may cross one connection, in each direction.
///
/// Handles may travel at all only when the server accepted the connection with
/// `ALPC_PORFLG_ALLOW_DUP_OBJECT`, and more than one per message only with
/// `ALPC_PORFLG_ALLOW_MULTIHANDLE_ATTRIBUTE`. The object types a side receives are its own
/// `DupObjectTypes`: the server port's for requests, the client's connect attributes' for
/// replies. A sender checks the peer's types before sending; a receiver checks its own again
/// and treats a peer that ignored them as broken.
struct HandlePolicy: Sendable, Equatable {
    /// The `ALPC_PORFLG_*` flags the server accepted the connection with.
    var connectionFlags: UInt32
    /// The object types the peer accepts (its `DupObjectTypes`).
    var sendTypes: UInt32
    /// The object types this side accepts (its own `DupObjectTypes`).
    var receiveTypes: UInt32

    /// Whether handles may cross the connection at all.
    var allowsHandles: Bool { connectionFlags & ALPC_PORFLG_ALLOW_DUP_OBJECT != 0 }

    /// Whether a message may carry an indirect array of handles.
    var allowsMultipleHandles: Bool { connectionFlags & ALPC_PORFLG_ALLOW_MULTIHANDLE_ATTRIBUTE != 0 }
}
