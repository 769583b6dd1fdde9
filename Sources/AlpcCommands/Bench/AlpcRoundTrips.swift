import ALPC

/// The bench process's side of the ALPC measurements, against `alpc bench-peer`.
///
/// One connection carries the round trips and the datagrams; its messages are allocated once
/// per payload size and reused, so the timed loops allocate nothing and measure the transport.
final class AlpcRoundTrips {
    /// How a payload travels in a round trip.
    enum Method {
        /// In the message itself: the data follows the PORT_MESSAGE (at most 65495 bytes).
        case inlineMessage
        // To measure payloads above 64 KiB, add `case viewAttribute` (the data in a section
        // view, the peer echoing the view), return it from `method(forPayload:)`, and write
        // `viewRoundTrips` beside `inlineRoundTrips`.
    }

    /// How `payload` bytes travel, or nil when the bench cannot measure ALPC at that size yet.
    static func method(forPayload payload: Int) -> Method? {
        if payload <= AlpcLimits.maxDataLength { return .inlineMessage }
        return nil
    }

    /// Why ALPC is not measured at `payload` bytes, for the table's footer.
    static func notMeasuredReason(payload: Int) -> String {
        "alpc \(ByteCount(payload)) round trips: not measured: ALPC messages carry at most "
            + "\(AlpcLimits.maxDataLength) data bytes, and the view-attribute path is not built yet."
    }

    /// The longest any one ALPC call may wait (the watchdog bounds a whole batch too).
    static let callTimeout: Duration = .seconds(5)

    let portName: String
    let client: AlpcClient
    private var messages: [Int: (request: AlpcMessage, reply: AlpcMessage)] = [:]
    private let doneQuery: AlpcMessage
    private let doneReply: AlpcMessage

    /// Connects to the peer with messages large enough for every inline payload in `payloads`.
    init(portName: String, payloads: [Int]) throws(BenchError) {
        let inline = payloads.filter { Self.method(forPayload: $0) == .inlineMessage }
        let maxMessageLength = PortMessageLayout.headerSize + max(inline.max() ?? 0, 64)
        self.portName = portName
        do {
            let connect = AlpcMessage()
            try connect.setData(PeerProtocol.connectData(maxMessageLength: maxMessageLength))
            var attributes = PortAttributes.client
            attributes.maxMessageLength = maxMessageLength
            client = try AlpcClient(
                portName: portName, connectMessage: connect, attributes: attributes, timeout: Self.callTimeout)
            doneQuery = try AlpcMessage(data: PeerProtocol.doneQuery)
        } catch {
            throw .alpc(what: "connecting to the bench peer", status: error)
        }
        doneReply = AlpcMessage()
        guard client.maxMessageLength >= maxMessageLength else {
            throw .peer("the connection carries \(client.maxMessageLength)-byte messages, \(maxMessageLength) needed")
        }
        for payload in inline {
            messages[payload] = (Self.message(payload: payload), Self.message(payload: payload))
        }
    }

    /// A message of `payload` data bytes with a recognisable pattern.
    private static func message(payload: Int) -> AlpcMessage {
        let message = AlpcMessage(size: PortMessageLayout.headerSize + payload)
        try! message.setDataLength(payload)  // fits by construction
        let data = message.port.data
        for index in 0..<payload { data[index] = UInt8(truncatingIfNeeded: index &* 37 &+ 11) }
        return message
    }

    /// Runs `warmup` untimed and up to `samples.count` timed round trips of `payload` bytes each
    /// way and writes each round trip's nanoseconds into `samples`. Stops early once
    /// CLOCK_MONOTONIC passes `deadline`; returns the number of samples written.
    func roundTrips(
        payload: Int, warmup: Int, idleGapNanos: UInt64, deadline: UInt64, into samples: UnsafeMutableBufferPointer<UInt64>
    ) throws(BenchError) -> Int {
        guard let method = Self.method(forPayload: payload) else {
            preconditionFailure(Self.notMeasuredReason(payload: payload))
        }
        switch method {
        case .inlineMessage:
            return try inlineRoundTrips(
                payload: payload, warmup: warmup, idleGapNanos: idleGapNanos, deadline: deadline, into: samples)
        }
    }

    /// Round trips with the data inside the message; the peer sends the request back.
    private func inlineRoundTrips(
        payload: Int, warmup: Int, idleGapNanos: UInt64, deadline: UInt64, into samples: UnsafeMutableBufferPointer<UInt64>
    ) throws(BenchError) -> Int {
        guard let (request, reply) = messages[payload] else {
            preconditionFailure("no messages for \(payload) bytes")
        }
        let client = self.client
        let timeout = Self.callTimeout
        let requestData = request.port.data
        let total = warmup + samples.count
        var index = 0
        while index < total {
            // Mark the request so that a stale or foreign reply shows.
            let stamp = UInt8(truncatingIfNeeded: index)
            requestData[0] = stamp
            if index >= warmup && idleGapNanos > 0 { BenchClock.sleep(nanoseconds: idleGapNanos) }
            let start = BenchClock.now()
            do {
                try client.sendReceive(request, receiveInto: reply, timeout: timeout)
            } catch {
                throw .alpc(what: "alpc \(ByteCount(payload)) round trip", status: error)
            }
            let end = BenchClock.now()
            if index >= warmup { samples[index - warmup] = end &- start }
            let replyPort = reply.port
            guard Int(replyPort.dataLength) == payload, replyPort.data[0] == stamp else {
                throw .wrongReply(
                    what: "alpc \(ByteCount(payload)) round trip",
                    detail: "\(replyPort.dataLength) bytes starting with \(replyPort.data.first ?? 0), expected \(payload) starting with \(stamp)")
            }
            index &+= 1
            if index & 255 == 0 && BenchClock.now() > deadline { break }
        }
        return max(0, index - warmup)
    }

    /// Sends up to `count` datagrams of `payload` bytes (send with ALPC_MSGFLG_RELEASE_MESSAGE),
    /// fewer when CLOCK_MONOTONIC passes `deadline`, then asks the peer how many arrived.
    /// Returns the number sent and the nanoseconds from the first send to the answer; throws
    /// when the peer counted another number.
    func datagrams(payload: Int, count: Int, deadline: UInt64) throws(BenchError) -> (sent: Int, elapsed: UInt64) {
        guard let (message, _) = messages[payload] else {
            preconditionFailure("no messages for \(payload) bytes")
        }
        let client = self.client
        var sent = 0
        let start = BenchClock.now()
        do {
            while sent < count {
                try client.send(message, flags: .releaseMessage)
                sent &+= 1
                if sent & 1023 == 0 && BenchClock.now() > deadline { break }
            }
            try client.sendReceive(doneQuery, receiveInto: doneReply, timeout: Self.callTimeout)
        } catch {
            throw .alpc(what: "alpc \(ByteCount(payload)) datagrams", status: error)
        }
        let end = BenchClock.now()
        let counted = doneReply.string
        guard counted == String(sent) else {
            throw .wrongReply(what: "alpc datagrams", detail: "the peer counted \(counted), \(sent) were sent")
        }
        return (sent, end &- start)
    }

    /// Connects anew, sends one request of `payload` bytes and takes its reply, then
    /// disconnects, `warmup` + `samples.count` times; each sample is connect to reply.
    func connects(payload: Int, warmup: Int, into samples: UnsafeMutableBufferPointer<UInt64>) throws(BenchError) {
        guard let (request, reply) = messages[payload] else {
            preconditionFailure("no messages for \(payload) bytes")
        }
        let portName = self.portName
        let total = warmup + samples.count
        for index in 0..<total {
            let start = BenchClock.now()
            let connection: AlpcClient
            do {
                connection = try AlpcClient(portName: portName, timeout: Self.callTimeout)
            } catch {
                throw .alpc(what: "alpc connect", status: error)
            }
            do {
                try connection.sendReceive(request, receiveInto: reply, timeout: Self.callTimeout)
            } catch {
                throw .alpc(what: "alpc first request on a new connection", status: error)
            }
            let end = BenchClock.now()
            connection.disconnect()
            if index >= warmup { samples[index - warmup] = end &- start }
            guard Int(reply.port.dataLength) == payload else {
                throw .wrongReply(what: "alpc first request", detail: "\(reply.port.dataLength) bytes, expected \(payload)")
            }
        }
    }
}
