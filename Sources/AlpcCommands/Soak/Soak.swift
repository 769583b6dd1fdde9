import ALPC
import ArgumentParser
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension AlpcCommand {
    /// `alpc soak`: honest load, killed clients, restarted servers and hostile clients at once,
    /// then a check that every request got its reply or a status and nothing was left behind.
    struct Soak: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run honest load, kill -9 clients and servers, add hostile clients; check that nothing is lost or left over.",
            discussion: """
                The server is an `alpc bench-peer` echo process, killed with SIGKILL and restarted \
                under the same name every --restart-every seconds. Client threads in this process \
                send requests and check each echo, reconnecting as needed; client processes \
                (`alpc soak-client`) are killed with SIGKILL at random and replaced; a hostile \
                thread fills the server's queues, sends sections over its limits and connects and \
                leaves. At the end, every request must have had its reply or an error status (no \
                call outlives its timeout), no reply may be wrong, the last server and this process \
                must hold no more descriptors or shared-memory mappings than before and no more than \
                64 MiB more resident memory, and nothing may be left in /dev/shm. Exits non-zero \
                otherwise.
                """
        )

        @Option(help: "How long to run, in seconds.")
        var seconds: Int = 60

        @Option(help: "Client threads in this process.")
        var threads: Int = 4

        @Option(help: "Client processes, killed at random and replaced.")
        var processes: Int = 3

        @Option(help: "Seconds between server restarts (SIGKILL, then a new server).")
        var restartEvery: Int = 5

        @Option(help: "Milliseconds between client kills.")
        var killEvery: Int = 300

        func run() throws {
            let name = #"\RPC Control\soak-"# + String(getpid())
            let before = ProcessResources()
            let statistics = SoakStatistics()
            let load = SoakLoad(name: name, statistics: statistics)
            var server = try startServer(name)
            // What an idle server holds once warmed up: every server returns to it when its clients are gone.
            let serverBaseline = settledServerResources(server, name: name)
            var restarts = 0
            var clientKills = 0

            for index in 0..<threads {
                load.start { load.runHonestClient(index) }
            }
            load.start { load.runHostileClient() }
            var clients: [PeerProcess] = []
            for _ in 0..<processes { clients.append(try startClient(name)) }

            let start = BenchClock.now()
            let end = start &+ UInt64(seconds) * 1_000_000_000
            var nextRestart = start &+ UInt64(restartEvery) * 1_000_000_000
            var failures: [String] = []
            while BenchClock.now() < end {
                BenchClock.sleep(nanoseconds: UInt64(killEvery) * 1_000_000)
                let victim = Int.random(in: 0..<max(1, clients.count))
                if !clients.isEmpty {
                    clients[victim].killNow()
                    clients[victim] = try startClient(name)
                    clientKills += 1
                }
                if let ended = server.exitStatus() {
                    failures.append("the server ended by itself: \(ended)")
                    server = try startServer(name)
                }
                if BenchClock.now() >= nextRestart {
                    server.killNow()
                    server = try startServer(name)
                    restarts += 1
                    nextRestart = BenchClock.now() &+ UInt64(restartEvery) * 1_000_000_000
                }
            }
            for client in clients { client.killNow() }
            let stillRunning = load.stopAndWait(timeoutNanos: 30_000_000_000)
            if stillRunning > 0 { failures.append("\(stillRunning) threads did not stop") }
            if let ended = server.exitStatus() { failures.append("the server ended by itself: \(ended)") }

            // What the load held is released: by the server once every client is gone, and here.
            let serverAfter = settle(expected: serverBaseline) { ProcessResources(of: server.pid) }
            server.terminate()
            let after = settle(expected: before) { ProcessResources() }
            if serverAfter.descriptors > serverBaseline.descriptors {
                failures.append("""
                    the server holds \(serverAfter.descriptors) descriptors, \(serverBaseline.descriptors) before; \
                    added: \(serverAfter.descriptorsAdded(since: serverBaseline))
                    """)
            }
            if after.descriptors > before.descriptors || after.mappings > before.mappings {
                failures.append("this process went from \(before) to \(after); descriptors added: \(after.descriptorsAdded(since: before))")
            }
            // Memory: allocators keep some of what was freed, so only growth beyond that is a failure.
            let allowedGrowthKiB = 64 * 1024
            if after.residentKiB - before.residentKiB > allowedGrowthKiB {
                failures.append("this process's resident memory grew from \(before.residentKiB) to \(after.residentKiB) KiB")
            }
            if serverAfter.residentKiB - serverBaseline.residentKiB > allowedGrowthKiB {
                failures.append("the server's resident memory grew from \(serverBaseline.residentKiB) to \(serverAfter.residentKiB) KiB")
            }
            if statistics.wrongReplies > 0 { failures.append("\(statistics.wrongReplies) wrong replies") }
            if statistics.hungCalls > 0 { failures.append("\(statistics.hungCalls) calls outlived their timeout") }
            if statistics.replies == 0 { failures.append("no request was answered") }
            let leftovers = Self.sharedMemoryLeftovers()
            if !leftovers.isEmpty { failures.append("left in /dev/shm: \(leftovers)") }

            print("""
                soak: \(seconds) s, \(threads) client threads, \(processes) client processes, \
                \(statistics.connections) connections, \(clientKills) client kills, \(restarts) server restarts, \
                \(statistics.attacks) hostile attacks
                requests: \(statistics.replies) replies, statuses: \(statistics.statusSummary), \
                wrong replies: \(statistics.wrongReplies), calls past their timeout: \(statistics.hungCalls)
                this process: \(before) -> \(after)
                last server: \(serverAfter) (an idle server: \(serverBaseline))
                """)
            if failures.isEmpty {
                print("soak: PASS")
            } else {
                for failure in failures { print("soak: FAIL: \(failure)") }
                throw ExitCode(1)
            }
        }

        private func startServer(_ name: String) throws -> PeerProcess {
            do {
                return try PeerProcess.spawn(arguments: ["bench-peer", name], readyTimeoutNanos: 10_000_000_000)
            } catch {
                throw ValidationFailure(message: "could not start the server: \(error)")
            }
        }

        private func startClient(_ name: String) throws -> PeerProcess {
            do {
                return try PeerProcess.spawn(arguments: ["soak-client", name], readyTimeoutNanos: 10_000_000_000)
            } catch {
                throw ValidationFailure(message: "could not start a client: \(error)")
            }
        }

        /// The server's resources once a round trip warmed it up and they stop changing.
        private func settledServerResources(_ server: PeerProcess, name: String) -> ProcessResources {
            if let client = try? AlpcClient(portName: name, timeout: .seconds(5)) {
                _ = try? client.sendReceive("warm-up", timeout: .seconds(5))
                client.disconnect()
            }
            var last = ProcessResources(of: server.pid)
            for _ in 0..<20 {
                BenchClock.sleep(nanoseconds: 50_000_000)
                let now = ProcessResources(of: server.pid)
                if now.descriptors == last.descriptors { return now }
                last = now
            }
            return last
        }

        /// What `measure` says once its descriptors and mappings are back to `expected`, or after 5 s.
        private func settle(expected: ProcessResources, _ measure: () -> ProcessResources) -> ProcessResources {
            let deadline = BenchClock.now() &+ 5_000_000_000
            var now = measure()
            while (now.descriptors > expected.descriptors || now.mappings > expected.mappings) && BenchClock.now() < deadline {
                BenchClock.sleep(nanoseconds: 50_000_000)
                now = measure()
            }
            return now
        }

        private static func sharedMemoryLeftovers() -> [String] {
            guard let directory = opendir("/dev/shm") else { return [] }
            defer { closedir(directory) }
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name.lowercased().contains("swiftalpc") { names.append(name) }
            }
            return names
        }
    }
}

