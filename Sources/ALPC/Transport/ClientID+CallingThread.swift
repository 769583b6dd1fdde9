internal import CALPCSystem

extension ClientID {
    /// The ClientId of a message the calling thread sends: this process and this thread.
    static var callingThread: ClientID {
        let ids = alpc_current_ids()
        return ClientID(process: ids >> 32, thread: ids & 0xFFFF_FFFF)
    }
}
