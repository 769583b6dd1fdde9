import ALPC
import Glibc
import Synchronization
import Testing

extension PortsTests {
    /// How connections end across processes: disconnects and deaths on either side.
    @Suite("Lifecycle", .sharedPeers)
    struct LifecycleTests {
        @Test("A client's disconnect gives the server LPC_PORT_CLOSED carrying the connection's port context")
        func clientDisconnect() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name, ["--requests", "1", "--after", "disconnect-sleep"])
            let portContext: UInt64 = 0xFEED_0000_C0DE_1234
            try server.acceptConnection(try server.receive(timeout: .seconds(10)), portContext: portContext)
            #expect(server.connectionCount == 1)

            let request = try server.receive(timeout: .seconds(10))
            #expect(request.messageType.kind == .request)
            let requestContext = try #require(request.contextAttribute)
            #expect(request.isContextValid)
            #expect(requestContext.portContext == portContext)
            let requestSequence = requestContext.sequence
            try request.setData(standardReply(to: request.string))
            try server.send(request)

            let closed = try server.receive(timeout: .seconds(10))
            #expect(closed.type == 5)
            #expect(closed.messageType.kind == .portClosed)
            #expect(closed.clientId.process == UInt64(peer.pid))
            #expect(closed.dataLength == 0)
            #expect(closed.messageId != 0)
            #expect(closed.isContextValid)
            let context = try #require(closed.contextAttribute)
            #expect(context.portContext == portContext)
            #expect(context.sequence > requestSequence)
            #expect(server.connectionCount == 0)
            try expectLine(peer, "DISCONNECTED")
            // The peer is still alive: the message came from its disconnect, not its death.
            #expect(kill(peer.pid, 0) == 0)
            #expect(throws: NTStatus.timeout) { try server.receive(timeout: .milliseconds(100)) }
        }

        @Test("A client that disconnects and then exits is closed, not dead")
        func disconnectThenExit() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name, ["--after", "disconnect"])
            try server.acceptConnection(try server.receive(timeout: .seconds(10)))
            #expect(peer.exitedCleanly())
            let closed = try server.receive(timeout: .seconds(10))
            #expect(closed.messageType.kind == .portClosed)
            #expect(closed.clientId.process == UInt64(peer.pid))
        }

        @Test("A server-side disconnect releases a peer client waiting in sendReceive with STATUS_PORT_DISCONNECTED, for good")
        func serverDisconnectsPeerClient() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name, ["--after", "hang"])
            let connection = try server.acceptConnection(try server.receive(timeout: .seconds(10)))
            let request = try server.receive(timeout: .seconds(10))
            #expect(request.string == "hang")
            connection.disconnect()
            #expect(server.connectionCount == 0)
            try expectLine(peer, "STATUS STATUS_PORT_DISCONNECTED (0xC0000037)")
            try expectLine(peer, "AGAIN STATUS_PORT_DISCONNECTED (0xC0000037)")
            // The request died with its connection.
            try request.setData("too late")
            #expect(throws: NTStatus.invalidMessage) { try server.send(request) }
            // The closed connection costs the server nothing: a receive sleeps until its timeout.
            #expect(peer.waitForExit() != nil)
            let cpuBefore = threadCPUTime()
            #expect(throws: NTStatus.timeout) { try server.receive(timeout: .milliseconds(300)) }
            let cpu = milliseconds(threadCPUTime() - cpuBefore)
            report("CPU time of a 300 ms receive after a server-side disconnect: \(cpu) ms")
            #expect(cpu < 50, "the receive spun for \(cpu) ms of CPU")
        }

        @Test("Once a peer server closes its port, its name is unknown: connecting fails with objectNameNotFound")
        func closedPortName() throws {
            let name = uniquePortName()
            let peer = try startServer(name, ["--disconnect", "port"])
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            #expect(throws: NTStatus.portDisconnected) { try client.sendReceive("close it", timeout: .seconds(5)) }
            try expectLine(peer, "DISCONNECTED")
            #expect(throws: NTStatus.objectNameNotFound) { _ = try AlpcClient(portName: name, timeout: .seconds(1)) }
            // The name is free again, even though the peer's process lives on.
            let server = try AlpcServer(portName: name)
            #expect(server.portName == name)
            #expect(kill(peer.pid, 0) == 0)
        }

        @Test("A peer server that exits normally releases an in-process client with portDisconnected")
        func peerServerEnds() throws {
            let name = uniquePortName()
            let peer = try startServer(name, ["--seconds", "1"])
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            #expect(try client.sendReceive("before", timeout: .seconds(5)).string == standardReply(to: "before"))
            // The peer's alarm ends it after a second.
            #expect(throws: NTStatus.portDisconnected) { try client.receive(timeout: .seconds(10)) }
            #expect(throws: NTStatus.portDisconnected) { try client.sendReceive("after", timeout: .seconds(1)) }
            withExtendedLifetime(peer) {}
        }
    }

    /// Lifecycle latencies; alone among the multi-process tests.
    @Suite("Lifecycle timing", .serialized, .exclusivePeers)
    struct LifecycleTimingTests {
        static let bound = 100.0

        @Test("A client's disconnect reaches a sleeping server as LPC_PORT_CLOSED at once")
        func disconnectLatency() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name, ["--delay-ms", "300", "--after", "disconnect-sleep"])
            try server.acceptConnection(try server.receive(timeout: .seconds(10)))
            let closed = try server.receive(timeout: .seconds(10))
            let received = now()
            #expect(closed.messageType.kind == .portClosed)
            let sent = try #require(number("now", in: try expectLine(peer, "DISCONNECTING")))
            let latency = milliseconds(from: sent, to: received)
            report("disconnect -> LPC_PORT_CLOSED: \(latency) ms")
            #expect(latency < Self.bound, "took \(latency) ms")
        }

        @Test("A client killed with SIGKILL gives LPC_CLIENT_DIED within 100 ms; the server keeps serving the others")
        func clientDied() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let victim = try startClient(name, ["--after", "sleep"])
            let survivor = try startClient(name, ["--delay-ms", "500", "--requests", "5", "--after", "disconnect-sleep"])
            var accepted: [Int32] = []
            while accepted.count < 2 {
                let request = try server.receive(timeout: .seconds(10))
                try #require(request.messageType.kind == .connectionRequest)
                accepted.append(try server.acceptConnection(request, portContext: request.clientId.process).clientProcessId)
            }
            #expect(Set(accepted) == [victim.pid, survivor.pid])
            try expectLine(victim, "SLEEPING")

            let killed = now()
            kill(victim.pid, SIGKILL)
            let died = try server.receive(timeout: .seconds(5))
            let latency = milliseconds(now() - killed)
            report("SIGKILL -> LPC_CLIENT_DIED: \(latency) ms")
            #expect(died.type == 6)
            #expect(died.messageType.kind == .clientDied)
            #expect(died.clientId.process == UInt64(victim.pid))
            #expect(died.contextAttribute?.portContext == UInt64(victim.pid))
            #expect(latency < Self.bound, "took \(latency) ms")
            #expect(server.connectionCount == 1)
            victim.waitForExit()

            // The survivor, and a client that comes after the death, are served as usual.
            let late = try startClient(name, ["--requests", "5", "--after", "disconnect-sleep"])
            let log = Locked(ServeLog())
            serve(server, log: log, timeout: .seconds(30)) { $0.closed.count == 2 || !$0.errors.isEmpty }
            let seen = log.snapshot
            #expect(seen.errors.isEmpty, "\(seen.errors)")
            #expect(seen.answered.count == 10)
            #expect(Set(seen.closed) == [UInt64(survivor.pid), UInt64(late.pid)])
            #expect(seen.died.isEmpty)
            try expectLine(survivor, "REPLIES 5")
            try expectLine(late, "REPLIES 5")
        }

        /// Runs `sendReceive` on another thread; returns the status it ended with and when.
        static func waitingRequest(_ client: AlpcClient) -> (TestThread, Locked<(NTStatus?, UInt64)>) {
            let outcome = Locked<(NTStatus?, UInt64)>((nil, 0))
            let thread = TestThread {
                var status = NTStatus.success
                do throws(NTStatus) { _ = try client.sendReceive("hang", timeout: .seconds(5)) } catch { status = error }
                let ended = PortsTests.now()
                outcome.withLock { $0 = (status, ended) }
            }
            return (thread, outcome)
        }

        /// Checks that every later call of `client` fails with portDisconnected.
        static func expectDisconnectedForGood(_ client: AlpcClient) throws {
            #expect(throws: NTStatus.portDisconnected) { try client.sendReceive("later", timeout: .seconds(1)) }
            #expect(throws: NTStatus.portDisconnected) { try client.send(try AlpcMessage(string: "later"), flags: []) }
            #expect(throws: NTStatus.portDisconnected) { try client.send(try AlpcMessage(string: "later"), flags: .releaseMessage) }
            #expect(throws: NTStatus.portDisconnected) { try client.receive(timeout: .seconds(1)) }
        }

        @Test("A server killed with SIGKILL releases a client waiting in sendReceive with portDisconnected within 100 ms")
        func serverKilled() throws {
            let name = uniquePortName()
            let peer = try startServer(name, ["--no-reply"])
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            let (thread, outcome) = Self.waitingRequest(client)
            try expectLine(peer, "RECV type=0x2001")
            usleep(30_000)  // let the client go to sleep in its wait
            let killed = now()
            kill(peer.pid, SIGKILL)
            thread.join()
            let (status, ended) = outcome.snapshot
            let latency = milliseconds(from: killed, to: ended)
            report("server SIGKILL -> client released: \(latency) ms")
            #expect(status == .portDisconnected)
            #expect(latency < Self.bound, "took \(latency) ms")
            try Self.expectDisconnectedForGood(client)
        }

        @Test("A server's own disconnect ends a receive waiting in another thread with portDisconnected within 100 ms")
        func serverClosesWhileReceiving() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name, ["--after", "sleep"])
            try server.acceptConnection(try server.receive(timeout: .seconds(10)))
            try expectLine(peer, "SLEEPING")
            let outcome = Locked<(NTStatus?, UInt64)>((nil, 0))
            let receiver = TestThread {
                var status = NTStatus.success
                do throws(NTStatus) { _ = try server.receive(timeout: .seconds(5)) } catch { status = error }
                let ended = PortsTests.now()
                outcome.withLock { $0 = (status, ended) }
            }
            usleep(50_000)  // let the receive go to sleep
            let closed = now()
            server.disconnect()
            receiver.join()
            let (status, ended) = outcome.snapshot
            let latency = milliseconds(from: closed, to: ended)
            report("server disconnect -> its own receive released: \(latency) ms")
            #expect(status == .portDisconnected)
            #expect(latency < Self.bound, "took \(latency) ms")
            #expect(throws: NTStatus.portDisconnected) { try server.receive(timeout: .seconds(1)) }
            #expect(server.connectionCount == 0)
        }

        @Test("A client's disconnect from another thread releases its sendReceive with portDisconnected within 100 ms")
        func clientClosesWhileWaiting() throws {
            let name = uniquePortName()
            let peer = try startServer(name, ["--no-reply"])
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            let (thread, outcome) = Self.waitingRequest(client)
            try expectLine(peer, "RECV type=0x2001")
            usleep(30_000)
            let closed = now()
            client.disconnect()
            thread.join()
            let (status, ended) = outcome.snapshot
            let latency = milliseconds(from: closed, to: ended)
            report("client disconnect -> its own sendReceive released: \(latency) ms")
            #expect(status == .portDisconnected)
            #expect(latency < Self.bound, "took \(latency) ms")
            try Self.expectDisconnectedForGood(client)
            // The server sees the connection closed, not dead.
            try expectLine(peer, "RECV type=0x5 ")
        }

        @Test("A server that disconnects releases a client waiting in sendReceive with portDisconnected within 100 ms",
              arguments: ["connection", "port"])
        func serverDisconnects(scope: String) throws {
            let name = uniquePortName()
            let peer = try startServer(name, ["--disconnect", scope])
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            let (thread, outcome) = Self.waitingRequest(client)
            let disconnecting = try expectLine(peer, "DISCONNECTING")
            thread.join()
            let (status, ended) = outcome.snapshot
            let start = try #require(number("now", in: disconnecting))
            let latency = milliseconds(from: start, to: ended)
            report("server \(scope) disconnect -> client released: \(latency) ms")
            #expect(status == .portDisconnected)
            #expect(latency < Self.bound, "took \(latency) ms")
            try Self.expectDisconnectedForGood(client)
            // The peer is alive: the disconnect released the client, not the process's end.
            try expectLine(peer, "DISCONNECTED")
            #expect(kill(peer.pid, 0) == 0)
        }
    }
}
