internal import ALPC
public import CALPC
internal import CALPCNTSupport
internal import Glibc

/// NtClose: see ntbase.h.
@c(NtClose)
public func ntClose(_ handle: HANDLE?) -> NTSTATUS {
    if handle.isPseudoHandle { return STATUS_SUCCESS }
    guard let fd = handle.descriptor else { return STATUS_INVALID_HANDLE }
    if let port = PortTable.shared.remove(handle) {
        PortCache.closed(handle)
        port.disconnect()
    }
    return Glibc.close(fd) == 0 ? STATUS_SUCCESS : STATUS_INVALID_HANDLE
}

/// NtWaitForSingleObject: see ntbase.h. Alertable waits are plain waits (there are no APCs).
@c(NtWaitForSingleObject)
public func ntWaitForSingleObject(_ handle: HANDLE?, _ alertable: BOOLEAN, _ timeout: PLARGE_INTEGER?) -> NTSTATUS {
    let wait = NTTimeout.duration(timeout)
    if let port = PortTable.shared.port(handle) {
        guard port.flags & ALPC_PORFLG_WAITABLE_PORT != 0 else { return STATUS_OBJECT_TYPE_MISMATCH }
        do {
            switch port.kind {
            case .connection(let server):
                return try server.waitForMessage(timeout: wait) ? STATUS_WAIT_0 : STATUS_TIMEOUT
            case .client(let clientPort):
                // An asynchronous connect's outcome is itself the message a receive gets.
                let start = ContinuousClock.now
                guard clientPort.waitConnected(timeout: wait) else { return STATUS_TIMEOUT }
                if clientPort.hasOutcome { return STATUS_WAIT_0 }
                let left = wait.map { max(.zero, $0 - (ContinuousClock.now - start)) }
                return try clientPort.client(timeout: .zero).waitForMessage(timeout: left) ? STATUS_WAIT_0 : STATUS_TIMEOUT
            case .communication:
                return STATUS_OBJECT_TYPE_MISMATCH
            }
        } catch {
            return error.rawValue
        }
    }
    guard let fd = handle.descriptor else { return STATUS_INVALID_HANDLE }
    // poll(2) takes an int of milliseconds: wait in slices for longer timeouts.
    let deadline = wait.map { ContinuousClock.now + $0 }
    while true {
        var slice: Int32 = -1
        if let deadline {
            let left = ContinuousClock.now.duration(to: deadline)
            slice = min(NTTimeout.milliseconds(max(left, .zero)), 1_000_000)
        }
        let result = alpcnt_wait_readable(fd, slice)
        if result == 1 { return STATUS_WAIT_0 }
        if result == -EBADF { return STATUS_INVALID_HANDLE }
        if result < 0 && result != -EINTR { return STATUS_UNSUCCESSFUL }
        if result == 0, let deadline, ContinuousClock.now >= deadline { return STATUS_TIMEOUT }
    }
}

/// NtCreateThreadEx: see ntbase.h.
@c(NtCreateThreadEx)
public func ntCreateThreadEx(
    _ threadHandle: PHANDLE?, _ desiredAccess: ACCESS_MASK, _ objectAttributes: POBJECT_ATTRIBUTES?,
    _ processHandle: HANDLE?, _ startRoutine: PUSER_THREAD_START_ROUTINE?, _ argument: PVOID?, _ createFlags: ULONG,
    _ zeroBits: SIZE_T, _ stackSize: SIZE_T, _ maximumStackSize: SIZE_T, _ attributeList: PPS_ATTRIBUTE_LIST?
) -> NTSTATUS {
    guard let threadHandle else { return STATUS_INVALID_PARAMETER_1 }
    guard Int(bitPattern: processHandle) == -1 else { return STATUS_NOT_SUPPORTED }
    guard let startRoutine else { return STATUS_INVALID_PARAMETER_5 }
    guard createFlags & THREAD_CREATE_FLAGS_CREATE_SUSPENDED == 0, attributeList == nil else {
        return STATUS_NOT_SUPPORTED
    }
    // The handle is an eventfd that the thread signals as it ends; the thread holds a copy.
    let handle = alpcnt_eventfd()
    guard handle >= 0 else { return STATUS_INSUFFICIENT_RESOURCES }
    let signal = dup(handle)
    guard signal >= 0 else {
        Glibc.close(handle)
        return STATUS_INSUFFICIENT_RESOURCES
    }
    let start = unsafeBitCast(startRoutine, to: Int.self)
    let context = UInt(bitPattern: argument)
    let started = DetachedThread.start(stackSize: Int(clamping: stackSize)) {
        let routine = unsafeBitCast(start, to: PUSER_THREAD_START_ROUTINE.self)
        _ = routine(UnsafeMutableRawPointer(bitPattern: context))
        alpcnt_eventfd_signal(signal)
        Glibc.close(signal)
    }
    guard started else {
        Glibc.close(signal)
        Glibc.close(handle)
        return STATUS_INSUFFICIENT_RESOURCES
    }
    threadHandle.pointee = .init(descriptor: handle)
    return STATUS_SUCCESS
}

/// RtlInitUnicodeString: see ntbase.h.
@c(RtlInitUnicodeString)
public func rtlInitUnicodeString(_ destination: PUNICODE_STRING?, _ source: PCWSTR?) {
    guard let destination else { return }
    let characters = source.map { wcslen($0) } ?? 0
    let width = MemoryLayout<WCHAR>.stride
    let maxCharacters = (Int(UInt16.max) / width) - 1
    let length = min(characters, maxCharacters) * width
    destination.pointee.Length = USHORT(length)
    destination.pointee.MaximumLength = source == nil ? 0 : USHORT(length + width)
    destination.pointee.Buffer = UnsafeMutablePointer(mutating: source)
}

/// The process heap's handle: any unique address.
private nonisolated(unsafe) let processHeap = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

/// AlpcProcessHeap (RtlProcessHeap): see ntbase.h.
@c(AlpcProcessHeap)
public func alpcProcessHeap() -> PVOID? { processHeap }

/// RtlAllocateHeap: see ntbase.h.
@c(RtlAllocateHeap)
public func rtlAllocateHeap(_ heapHandle: PVOID?, _ flags: ULONG, _ size: SIZE_T) -> PVOID? {
    guard heapHandle == processHeap else { return nil }
    let bytes = Int(clamping: max(size, 1))
    return flags & HEAP_ZERO_MEMORY != 0 ? calloc(1, bytes) : malloc(bytes)
}

/// RtlFreeHeap: see ntbase.h.
@c(RtlFreeHeap)
public func rtlFreeHeap(_ heapHandle: PVOID?, _ flags: ULONG, _ baseAddress: PVOID?) -> BOOLEAN {
    guard heapHandle == processHeap else { return 0 }
    free(baseAddress)
    return 1
}

/// GetCurrentThreadId: see ntbase.h.
@c(GetCurrentThreadId)
public func getCurrentThreadId() -> ULONG { ULONG(bitPattern: alpcnt_gettid()) }

/// GetCurrentProcessId: see ntbase.h.
@c(GetCurrentProcessId)
public func getCurrentProcessId() -> ULONG { ULONG(bitPattern: getpid()) }

/// Sleep: see ntbase.h.
@c(Sleep)
public func sleepMilliseconds(_ milliseconds: ULONG) {
    if milliseconds == 0 {
        sched_yield()
        return
    }
    if milliseconds == 0xFFFF_FFFF {
        while true { pause() }
    }
    var request = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
