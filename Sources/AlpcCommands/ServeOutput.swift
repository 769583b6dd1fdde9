import ALPC
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The output of `alpc serve`: lines printed together, from the serving thread and from the
/// threads that read the start of the files clients send, each file on a thread of its own.
///
/// A client chooses the file: reading it (or closing it) may block for as long as whoever
/// serves the file wants (a FUSE file, a stalled network file system). The serving thread
/// never waits for one, so one such client cannot stall the others; at most
/// ``maxConcurrentReads`` files are read at once, and beyond that a file is not read.
final class ServeOutput: Sendable {
    /// The most files read at once.
    static let maxConcurrentReads = 8

    private let reading = Mutex(0)
    /// Serializes the lines the reading threads print with the serving thread's.
    private let printing = Mutex(())

    /// Takes the file handle of `message` and starts reading it (it is closed once read).
    /// False, with the handle left to the message, when ``maxConcurrentReads`` files are being
    /// read already.
    func startReading(fileOf message: AlpcMessage) -> Bool {
        let admitted = reading.withLock { count in
            guard count < Self.maxConcurrentReads else { return false }
            count += 1
            return true
        }
        guard admitted, let fd = message.takeHandle() else {
            if admitted { reading.withLock { $0 -= 1 } }
            return false
        }
        let messageId = message.port.messageId
        let started = DetachedThread.start(stackSize: 128 * 1024) { [self] in
            let text = AttributeLines.fileText(fd)
            close(fd)
            print(lines: ["file content of message \(messageId): <\(text)>"])
            reading.withLock { $0 -= 1 }
        }
        if !started {
            reading.withLock { $0 -= 1 }
            close(fd)
        }
        return started
    }

    /// Prints `lines` with the "[SERV] " prefix, together, and flushes them.
    func print(lines: [String]) {
        printing.withLock { _ in
            for line in lines { Swift.print("[SERV] \(line)") }
            flushStandardOutput()
        }
    }
}
