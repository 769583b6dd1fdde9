import ALPC

/// The bench process's side of the ALPC measurements, against `alpc bench-peer`.
///
/// One connection carries the blocking round trips and the datagrams, a second one the
/// asynchronous round trips (an `await` makes its connection polled by the process's reactor,
/// which would then tax every blocking call on it); the messages are allocated once per
/// payload size and reused, so the timed loops allocate nothing and measure the transport.
final class AlpcRoundTrips {
    /// How a payload travels in a round trip.
    enum Method {
        /// In the message itself: the data follows the PORT_MESSAGE (at most 65495 bytes).
        case inlineMessage
        /// Zero copy, in a view of a port section created once: each round trip writes an
        /// 8-byte header into the view and sends a small message whose view attribute names it;
        /// the peer reads the view in place and answers with what it read.
        case viewAttribute
    }

    /// The data bytes of the message that carries a view (the view holds the payload).
    static let viewMessageData = 64

    /// The largest payload the bench sends in a view (one section per payload size).
    static let maxViewPayload = 64 << 20

    /// How `payload` bytes travel, or nil when the bench cannot measure ALPC at that size.
    static func method(forPayload payload: Int) -> Method? {
        if payload <= AlpcLimits.maxDataLength { return .inlineMessage }
        if payload <= maxViewPayload { return .viewAttribute }
        return nil
    }

    /// Why ALPC is not measured at `payload` bytes, for the table's footer.
    static func notMeasuredReason(payload: Int) -> String {
        "alpc \(ByteCount(payload)) round trips: not measured: ALPC messages carry at most "
            + "\(AlpcLimits.maxDataLength) data bytes, and the bench sends views of at most \(ByteCount(maxViewPayload))."
    }

    /// How `payload` bytes travel, for the table's footer; nil for inline messages.
    static func methodNote(payload: Int) -> String? {
        guard method(forPayload: payload) == .viewAttribute else { return nil }
        return "alpc \(ByteCount(payload)) round trips: zero copy through a VIEW attribute. One port section and "
            + "view of \(ByteCount(payload)) are created once (not timed); each round trip writes the iteration "
            + "number (first 8 bytes) and a stamp (last byte) into the view and sends a \(viewMessageData)-byte "
            + "message with the view attribute; the peer reads the view in place and replies with the iteration, "
            + "the view size and the stamp (view attribute cleared). The baselines copy the whole payload."
    }

    /// The longest any one ALPC call may wait (the watchdog bounds a whole batch too).
    static let callTimeout: Duration = .seconds(5)

    let portName: String
    let client: AlpcClient
    /// The connection of the asynchronous round trips.
    let asyncClient: AlpcClient
    private(set) var messages: [Int: (request: AlpcMessage, reply: AlpcMessage)] = [:]
    /// Per view payload: its section and view (created once), the request naming the view and
    /// the message the reply is received into.
    private var views: [Int: (section: AlpcSection, view: DataView, request: AlpcMessage, reply: AlpcMessage)] = [:]
    private let doneQuery: AlpcMessage
    private let doneReply: AlpcMessage

    /// Connects to the peer with messages large enough for every inline payload in `payloads`.
    init(portName: String, payloads: [Int]) throws(BenchError) {
        let inline = payloads.filter { Self.method(forPayload: $0) == .inlineMessage }
        let maxMessageLength = PortMessageLayout.headerSize + max(inline.max() ?? 0, 64)
        self.portName = portName
        client = try Self.connect(portName: portName, maxMessageLength: maxMessageLength)
        asyncClient = try Self.connect(portName: portName, maxMessageLength: maxMessageLength)
        do {
            doneQuery = try AlpcMessage(data: PeerProtocol.doneQuery)
        } catch {
            throw .alpc(what: "making the datagram count query", status: error)
        }
        doneReply = AlpcMessage()
        for payload in inline {
            messages[payload] = (Self.message(payload: payload), Self.message(payload: payload))
        }
        for payload in payloads where Self.method(forPayload: payload) == .viewAttribute {
            views[payload] = try Self.viewSetup(client: client, payload: payload)
        }
    }

    /// A connection to the peer carrying messages of `maxMessageLength` bytes.
    private static func connect(portName: String, maxMessageLength: Int) throws(BenchError) -> AlpcClient {
        let client: AlpcClient
        do {
            let connect = AlpcMessage()
            try connect.setData(PeerProtocol.connectData(maxMessageLength: maxMessageLength))
            var attributes = PortAttributes.client
            attributes.maxMessageLength = maxMessageLength
            client = try AlpcClient(
                portName: portName, connectMessage: connect, attributes: attributes, timeout: Self.callTimeout)
        } catch {
            throw .alpc(what: "connecting to the bench peer", status: error)
        }
        guard client.maxMessageLength >= maxMessageLength else {
            throw .peer("the connection carries \(client.maxMessageLength)-byte messages, \(maxMessageLength) needed")
        }
        return client
    }

    /// Creates a section and a view of `payload` bytes, fills the view with a pattern (so its
    /// pages are present before timing), and builds the request that carries the view.
    private static func viewSetup(
        client: AlpcClient, payload: Int
    ) throws(BenchError) -> (section: AlpcSection, view: DataView, request: AlpcMessage, reply: AlpcMessage) {
        let section: AlpcSection
        let view: DataView
        do {
            section = try client.createPortSection(size: payload)
            view = try client.createSectionView(section, size: payload)
        } catch {
            throw .alpc(what: "creating a \(ByteCount(payload)) port section and view", status: error)
        }
        let bytes = view.bytes
        guard bytes.count == payload, bytes.baseAddress != nil else {
            throw .peer("the \(ByteCount(payload)) view has \(bytes.count) bytes")
        }
        for index in 0..<bytes.count { bytes[index] = UInt8(truncatingIfNeeded: index &* 37 &+ 11) }
        let request = message(payload: viewMessageData)
        guard let attribute = request.viewAttribute else {
            throw .peer("the request message has no view attribute blob")
        }
        attribute.set(view)
        request.validAttributes = .view
        let reply = AlpcMessage(size: PortMessageLayout.headerSize + viewMessageData)
        return (section, view, request, reply)
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
        case .viewAttribute:
            return try viewRoundTrips(
                payload: payload, warmup: warmup, idleGapNanos: idleGapNanos, deadline: deadline, into: samples)
        }
    }

    /// Round trips with the data in a section view: the request carries only the view
    /// attribute and `viewMessageData` bytes; the peer reads the view in place and replies
    /// with the iteration number it read, the view's size and its last byte.
    private func viewRoundTrips(
        payload: Int, warmup: Int, idleGapNanos: UInt64, deadline: UInt64, into samples: UnsafeMutableBufferPointer<UInt64>
    ) throws(BenchError) -> Int {
        guard let (_, view, request, reply) = views[payload], let base = view.bytes.baseAddress else {
            preconditionFailure("no view for \(payload) bytes")
        }
        let client = self.client
        let timeout = Self.callTimeout
        let lastOffset = view.viewSize - 1
        let total = warmup + samples.count
        var index = 0
        while index < total {
            // The header: the iteration number in the first 8 bytes and a stamp in the last
            // byte. The rest of the payload is not touched: ALPC does not copy it.
            let iteration = UInt64(index)
            let stamp = UInt8(truncatingIfNeeded: index &* 131 &+ 7)
            base.storeBytes(of: iteration.littleEndian, as: UInt64.self)
            base.storeBytes(of: stamp, toByteOffset: lastOffset, as: UInt8.self)
            request.validAttributes = .view
            if index >= warmup && idleGapNanos > 0 { BenchClock.sleep(nanoseconds: idleGapNanos) }
            let start = BenchClock.now()
            do {
                try client.sendReceive(request, receiveInto: reply, timeout: timeout)
            } catch {
                throw .alpc(what: "alpc \(ByteCount(payload)) view round trip", status: error)
            }
            let end = BenchClock.now()
            if index >= warmup { samples[index - warmup] = end &- start }
            let data = reply.port.data
            guard data.count >= PeerProtocol.viewReplyLength else {
                throw .wrongReply(
                    what: "alpc \(ByteCount(payload)) view round trip",
                    detail: "\(data.count) reply bytes, at least \(PeerProtocol.viewReplyLength) expected")
            }
            let seen = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
            let seenSize = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            let seenStamp = data[16]
            guard seen == iteration, seenSize == UInt64(payload), seenStamp == stamp else {
                throw .wrongReply(
                    what: "alpc \(ByteCount(payload)) view round trip",
                    detail: "the peer read iteration \(seen), \(seenSize) bytes, last byte \(seenStamp); "
                        + "expected \(iteration), \(payload), \(stamp)")
            }
            index &+= 1
            if index & 255 == 0 && BenchClock.now() > deadline { break }
        }
        return max(0, index - warmup)
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
            if let detail = Self.inlineReplyProblem(reply, payload: payload, stamp: stamp) {
                throw .wrongReply(what: "alpc \(ByteCount(payload)) round trip", detail: detail)
            }
            index &+= 1
            if index & 255 == 0 && BenchClock.now() > deadline { break }
        }
        return max(0, index - warmup)
    }

    /// What is wrong with the reply to an inline round trip of `payload` bytes whose first byte
    /// was `stamp` (the peer sends the request back), or nil when it is right.
    static func inlineReplyProblem(_ reply: AlpcMessage, payload: Int, stamp: UInt8) -> String? {
        let port = reply.port
        guard Int(port.dataLength) != payload || port.data[0] != stamp else { return nil }
        return "\(port.dataLength) bytes starting with \(port.data.first ?? 0), expected \(payload) starting with \(stamp)"
    }

    /// Sends up to `count` datagrams of `payload` bytes (send with ALPC_MSGFLG_RELEASE_MESSAGE,
    /// or with `grouped` sendDatagrams in groups of up to ``datagramGroup``), fewer when
    /// CLOCK_MONOTONIC passes `deadline`, then asks the peer how many arrived. Returns the
    /// number sent and the nanoseconds from the first send to the answer; throws when the peer
    /// counted another number.
    func datagrams(payload: Int, count: Int, grouped: Bool, deadline: UInt64) throws(BenchError) -> (sent: Int, elapsed: UInt64) {
        guard let (message, _) = messages[payload] else {
            preconditionFailure("no messages for \(payload) bytes")
        }
        let client = self.client
        var sent = 0
        let start = BenchClock.now()
        do {
            if grouped {
                let pattern = message.data
                while sent < count {
                    let group = min(Self.datagramGroup, count - sent)
                    try client.sendDatagrams(count: group, dataLength: payload) { _, data in data.copyBytes(from: pattern) }
                    sent &+= group
                    if sent & 1023 < group && BenchClock.now() > deadline { break }
                }
            }
            while !grouped && sent < count {
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

    /// The most datagrams one sendDatagrams call of the grouped measurement sends.
    static let datagramGroup = 256

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
