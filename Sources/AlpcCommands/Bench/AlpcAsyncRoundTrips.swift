import ALPC
import Dispatch

extension AlpcRoundTrips {
    /// Round trips with the data inside the message, as ``roundTrips(payload:warmup:idleGapNanos:deadline:into:)``
    /// times them, through the async `sendReceive` on a task of the cooperative pool (the
    /// calling thread waits for the task). Returns how many samples were taken.
    func asyncRoundTrips(
        payload: Int, warmup: Int, idleGapNanos: UInt64, deadline: UInt64, into samples: UnsafeMutableBufferPointer<UInt64>
    ) throws(BenchError) -> Int {
        guard let (request, reply) = messages[payload] else {
            preconditionFailure("no messages for \(payload) bytes")
        }
        // The task is the only user of these while the caller waits for it.
        nonisolated(unsafe) let loop = AsyncLoop(
            client: asyncClient, request: request, reply: reply, payload: payload, warmup: warmup,
            idleGapNanos: idleGapNanos, deadline: deadline, samples: samples)
        let finished = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<Int, BenchError> = .success(0)
        Task {
            outcome = await loop.run()
            finished.signal()
        }
        finished.wait()
        return try outcome.get()
    }
}

/// The timed loop of ``AlpcRoundTrips/asyncRoundTrips(payload:warmup:idleGapNanos:deadline:into:)``.
private struct AsyncLoop {
    let client: AlpcClient
    let request: AlpcMessage
    let reply: AlpcMessage
    let payload: Int
    let warmup: Int
    let idleGapNanos: UInt64
    let deadline: UInt64
    let samples: UnsafeMutableBufferPointer<UInt64>

    func run() async -> Result<Int, BenchError> {
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
                try await client.sendReceive(request, receiveInto: reply, timeout: AlpcRoundTrips.callTimeout)
            } catch {
                return .failure(.alpc(what: "alpc-async \(ByteCount(payload)) round trip", status: error))
            }
            let end = BenchClock.now()
            if index >= warmup { samples[index - warmup] = end &- start }
            if let detail = AlpcRoundTrips.inlineReplyProblem(reply, payload: payload, stamp: stamp) {
                return .failure(.wrongReply(what: "alpc-async \(ByteCount(payload)) round trip", detail: detail))
            }
            index &+= 1
            if index & 255 == 0 && BenchClock.now() > deadline { break }
        }
        return .success(max(0, index - warmup))
    }
}
