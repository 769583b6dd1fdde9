import ALPC
import CBaselines

/// The bench process's "alpc-c" measurements: a C client of the same peer that goes through
/// the NT API (`NtAlpcSendWaitReceivePort`), as a C program linked with libalpc does, next to
/// the Swift client's "alpc" rows.
final class AlpcCRoundTrips {
    /// The NT port handle (a descriptor) of the C client's connection.
    private let port: UnsafeMutableRawPointer

    /// Connects to the peer as `AlpcRoundTrips` does, through NtAlpcConnectPort.
    init(portName: String, maxMessageLength: Int) throws(BenchError) {
        let data = PeerProtocol.connectData(maxMessageLength: maxMessageLength)
        var handle: UnsafeMutableRawPointer?
        let status = data.withUnsafeBytes { bytes in
            bl_alpc_c_connect(portName, bytes.baseAddress, bytes.count, UInt64(maxMessageLength), &handle)
        }
        guard status == 0, let handle else {
            throw .alpc(what: "connecting the C client (NtAlpcConnectPort)", status: NTStatus(rawValue: status))
        }
        port = handle
    }

    deinit {
        bl_alpc_c_close(port)
    }

    /// Runs `warmup` untimed and up to `samples.count` timed round trips of `payload` bytes in
    /// C, as ``AlpcRoundTrips/roundTrips(payload:warmup:idleGapNanos:deadline:into:)`` does
    /// in Swift; returns the number of samples written.
    func roundTrips(
        payload: Int, warmup: Int, idleGapNanos: UInt64, deadline: UInt64, into samples: UnsafeMutableBufferPointer<UInt64>
    ) throws(BenchError) -> Int {
        var status: Int32 = 0
        let done = bl_alpc_c_round_trips(
            port, payload, UInt64(warmup), UInt64(samples.count), idleGapNanos, deadline, samples.baseAddress, &status)
        guard done >= 0 else {
            throw .alpc(what: "alpc-c \(ByteCount(payload)) round trip", status: NTStatus(rawValue: status))
        }
        return Int(done)
    }
}
