internal import CALPC
internal import CALPCSystem
internal import Synchronization

extension ClientChannel {
    /// Connects to the server port `name`: sends the CONNECT packet (the client's thread,
    /// `flags`, `attributes` and the connection message `request`, header and data, or
    /// nothing), then waits up to `timeout` for the answer.
    ///
    /// - Returns: the connection and the server's connection reply (header and data, or empty).
    /// - Throws: the refusal's status (only refusal statuses: see `NTStatus(refusal:)`),
    ///   `.objectNameNotFound` when nobody serves the name, `.timeout`, `.portDisconnected`
    ///   when the server goes away, `.invalidHandle` or `.invalidPortAttributes` for a segment
    ///   or doorbell that is not what it must be, `.invalidMessage` for any other answer.
    static func connect(
        to name: PortName, request: [UInt8], attributes: PortAttributes, flags: UInt32, timeout: Duration?,
        quota: PortQuota, telemetry: ClientTelemetry
    ) throws(NTStatus) -> (channel: ClientChannel, reply: [UInt8]) {
        let socket = try ControlSocket.connect(to: name)
        do throws(NTStatus) {
            try socket.send(.connect(.init(threadId: alpc_gettid(), flags: flags, attributes: attributes.raw, message: request)))
        } catch {
            // A server short of descriptors refuses and closes before reading: its refusal is
            // still there to read.
            guard error == .portDisconnected else { throw error }
        }
        // A server that is receiving answers within about one wake-up of its thread: poll for
        // the answer that long before sleeping in the socket, as a blocking call spins for a reply.
        let spinEnd = alpc_now_ns() &+ AdaptiveWait.spinBudgetNanos
        while alpc_now_ns() < spinEnd, (try? socket.poll(for: .readable, timeout: .zero))?.isEmpty == true {
            alpc_cpu_relax()
        }
        let (packet, fds) = try socket.receivePacket(maxFDs: 2, timeout: timeout)
        // Received descriptors are closed here unless something takes them.
        var unclaimed = fds
        defer { PeerDescriptorCloser.shared.close(unclaimed) }
        switch packet {
        case .refuse(let status, _):
            throw NTStatus(refusal: status)
        case .accept(_, let reply, let connectionFlags, let serverTypes):
            guard unclaimed.count == 2 else { throw .invalidHandle }
            let segment = try ConnectionSegment.attach(fd: unclaimed[0])
            // A sealed memfd, now mapped: its close cannot block, so it needs no closing thread
            // (waking or starting one cost a connect tens of microseconds).
            _ = system_close(unclaimed.removeFirst())
            let doorbell = try Doorbell(adopting: OwnedDescriptor(adopting: unclaimed.removeLast()))
            let credentials = (try? socket.peerCredentials()).map {
                PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid)
            } ?? PeerCredentials(pid: 0, uid: 0, gid: 0)
            let policy = HandlePolicy(
                connectionFlags: connectionFlags, sendTypes: serverTypes, receiveTypes: attributes.dupObjectTypes)
            let channel = ClientChannel(
                control: socket, segment: segment, doorbell: doorbell, serverCredentials: credentials, policy: policy,
                quota: quota, telemetry: telemetry)
            telemetry.connected(server: credentials)
            return (channel, reply)
        default:
            throw .invalidMessage
        }
    }
}
