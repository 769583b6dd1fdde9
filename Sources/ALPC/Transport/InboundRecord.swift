/// The reading half of the record path, the same for a client reading replies and a server
/// reading requests.
///
/// Reading a record checks its header against the connection's slot and message sizes, takes the attachment
/// it announces (descriptors and sections sent ahead of it on the control socket), and decodes
/// its attributes under the connection's handle policy. The peer may rewrite the slot at any
/// moment: everything decided here is read once, into the values returned, and the caller
/// uses only those (see <doc:RecordPath>).
enum InboundRecord {
    /// Reads the record in `slot`: returns its checked header, and puts its decoded attributes
    /// in `attributes` (left empty when none travel).
    ///
    /// - Throws: a status for a record that breaks the protocol (a header out of bounds, an
    ///   announced attachment that is not on `control`, attributes that do not decode): nothing
    ///   of it is taken, and the connection cannot be trusted any more.
    @inline(__always)
    static func read(
        _ slot: UnsafeMutableRawPointer, maxRecordLength: Int, maxMessageLength: Int, peer: PeerResources,
        control: borrowing ControlSocket, policy: HandlePolicy, attributes: inout InboundAttributesHold
    ) throws(NTStatus) -> SlotRecord.Inbound {
        let record = try SlotRecord.inspect(
            slot, maxRecordLength: maxRecordLength, maxMessageLength: maxMessageLength)
        // Most records carry neither: no call into the decoder for them.
        guard record.hasAttachment || record.attributeLength != 0 else { return record }
        var attachment: Attachment?
        if record.hasAttachment {
            attachment = peer.firstAttachment(reading: control)
            guard attachment != nil else { throw .invalidMessage }
        }
        attributes = InboundAttributesHold(
            try InboundAttributes.decode(
                area: record.attributeArea, length: record.attributeLength, attachment: attachment,
                peer: peer, policy: policy))
        return record
    }

    /// Forgets the attachment `record` took, once it is delivered or dropped.
    @inline(__always)
    static func release(_ record: SlotRecord.Inbound, from peer: PeerResources) {
        if record.hasAttachment { peer.removeFirstAttachment() }
    }
}
