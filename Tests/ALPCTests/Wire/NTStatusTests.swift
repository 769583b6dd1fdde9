import ALPC
import Testing

/// `NTStatus`: values, names, descriptions, severity, and pattern matching.
@Suite("NTStatus")
struct NTStatusTests {
    /// Every status of reference section 2.12: the static member, the Windows name and the
    /// Windows hex value (the Swift side of ntalpc.h's ALPC_ASSERT_STATUS checks).
    static let table: [(status: NTStatus, name: String, hex: UInt32)] = [
        (.success, "STATUS_SUCCESS", 0x0000_0000),
        (.userAPC, "STATUS_USER_APC", 0x0000_00C0),
        (.alerted, "STATUS_ALERTED", 0x0000_0101),
        (.timeout, "STATUS_TIMEOUT", 0x0000_0102),
        (.pending, "STATUS_PENDING", 0x0000_0103),
        (.objectNameExists, "STATUS_OBJECT_NAME_EXISTS", 0x4000_0000),
        (.messageRetrieved, "STATUS_MESSAGE_RETRIEVED", 0x4000_002E),
        (.alpcCheckCompletionList, "STATUS_ALPC_CHECK_COMPLETION_LIST", 0x4000_0030),
        (.bufferOverflow, "STATUS_BUFFER_OVERFLOW", 0x8000_0005),
        (.unsuccessful, "STATUS_UNSUCCESSFUL", 0xC000_0001),
        (.notImplemented, "STATUS_NOT_IMPLEMENTED", 0xC000_0002),
        (.invalidInfoClass, "STATUS_INVALID_INFO_CLASS", 0xC000_0003),
        (.infoLengthMismatch, "STATUS_INFO_LENGTH_MISMATCH", 0xC000_0004),
        (.invalidHandle, "STATUS_INVALID_HANDLE", 0xC000_0008),
        (.invalidCID, "STATUS_INVALID_CID", 0xC000_000B),
        (.invalidParameter, "STATUS_INVALID_PARAMETER", 0xC000_000D),
        (.noMemory, "STATUS_NO_MEMORY", 0xC000_0017),
        (.invalidViewSize, "STATUS_INVALID_VIEW_SIZE", 0xC000_001F),
        (.accessDenied, "STATUS_ACCESS_DENIED", 0xC000_0022),
        (.bufferTooSmall, "STATUS_BUFFER_TOO_SMALL", 0xC000_0023),
        (.objectTypeMismatch, "STATUS_OBJECT_TYPE_MISMATCH", 0xC000_0024),
        (.invalidPortAttributes, "STATUS_INVALID_PORT_ATTRIBUTES", 0xC000_002E),
        (.portMessageTooLong, "STATUS_PORT_MESSAGE_TOO_LONG", 0xC000_002F),
        (.invalidParameterMix, "STATUS_INVALID_PARAMETER_MIX", 0xC000_0030),
        (.objectNameInvalid, "STATUS_OBJECT_NAME_INVALID", 0xC000_0033),
        (.objectNameNotFound, "STATUS_OBJECT_NAME_NOT_FOUND", 0xC000_0034),
        (.objectNameCollision, "STATUS_OBJECT_NAME_COLLISION", 0xC000_0035),
        (.portDisconnected, "STATUS_PORT_DISCONNECTED", 0xC000_0037),
        (.objectPathInvalid, "STATUS_OBJECT_PATH_INVALID", 0xC000_0039),
        (.objectPathNotFound, "STATUS_OBJECT_PATH_NOT_FOUND", 0xC000_003A),
        (.objectPathSyntaxBad, "STATUS_OBJECT_PATH_SYNTAX_BAD", 0xC000_003B),
        (.sectionTooBig, "STATUS_SECTION_TOO_BIG", 0xC000_0040),
        (.portConnectionRefused, "STATUS_PORT_CONNECTION_REFUSED", 0xC000_0041),
        (.invalidPortHandle, "STATUS_INVALID_PORT_HANDLE", 0xC000_0042),
        (.quotaExceeded, "STATUS_QUOTA_EXCEEDED", 0xC000_0044),
        (.portAlreadySet, "STATUS_PORT_ALREADY_SET", 0xC000_0048),
        (.threadIsTerminating, "STATUS_THREAD_IS_TERMINATING", 0xC000_004B),
        (.privilegeNotHeld, "STATUS_PRIVILEGE_NOT_HELD", 0xC000_0061),
        (.insufficientResources, "STATUS_INSUFFICIENT_RESOURCES", 0xC000_009A),
        (.badImpersonationLevel, "STATUS_BAD_IMPERSONATION_LEVEL", 0xC000_00A5),
        (.notSupported, "STATUS_NOT_SUPPORTED", 0xC000_00BB),
        (.invalidParameter1, "STATUS_INVALID_PARAMETER_1", 0xC000_00EF),
        (.invalidParameter2, "STATUS_INVALID_PARAMETER_2", 0xC000_00F0),
        (.invalidParameter3, "STATUS_INVALID_PARAMETER_3", 0xC000_00F1),
        (.invalidParameter4, "STATUS_INVALID_PARAMETER_4", 0xC000_00F2),
        (.invalidParameter5, "STATUS_INVALID_PARAMETER_5", 0xC000_00F3),
        (.invalidParameter6, "STATUS_INVALID_PARAMETER_6", 0xC000_00F4),
        (.invalidParameter7, "STATUS_INVALID_PARAMETER_7", 0xC000_00F5),
        (.invalidParameter8, "STATUS_INVALID_PARAMETER_8", 0xC000_00F6),
        (.invalidParameter9, "STATUS_INVALID_PARAMETER_9", 0xC000_00F7),
        (.invalidParameter10, "STATUS_INVALID_PARAMETER_10", 0xC000_00F8),
        (.invalidParameter11, "STATUS_INVALID_PARAMETER_11", 0xC000_00F9),
        (.invalidParameter12, "STATUS_INVALID_PARAMETER_12", 0xC000_00FA),
        (.messageNotFound, "STATUS_MESSAGE_NOT_FOUND", 0xC000_0109),
        (.processIsTerminating, "STATUS_PROCESS_IS_TERMINATING", 0xC000_010A),
        (.cannotImpersonate, "STATUS_CANNOT_IMPERSONATE", 0xC000_010D),
        (.cancelled, "STATUS_CANCELLED", 0xC000_0120),
        (.replyMessageMismatch, "STATUS_REPLY_MESSAGE_MISMATCH", 0xC000_021F),
        (.lpcReplyLost, "STATUS_LPC_REPLY_LOST", 0xC000_0253),
        (.noCallbackActive, "STATUS_NO_CALLBACK_ACTIVE", 0xC000_0258),
        (.serverSIDMismatch, "STATUS_SERVER_SID_MISMATCH", 0xC000_02A0),
        (.portClosed, "STATUS_PORT_CLOSED", 0xC000_0700),
        (.messageLost, "STATUS_MESSAGE_LOST", 0xC000_0701),
        (.invalidMessage, "STATUS_INVALID_MESSAGE", 0xC000_0702),
        (.requestCanceled, "STATUS_REQUEST_CANCELED", 0xC000_0703),
        (.recursiveDispatch, "STATUS_RECURSIVE_DISPATCH", 0xC000_0704),
        (.lpcReceiveBufferExpected, "STATUS_LPC_RECEIVE_BUFFER_EXPECTED", 0xC000_0705),
        (.lpcInvalidConnectionUsage, "STATUS_LPC_INVALID_CONNECTION_USAGE", 0xC000_0706),
        (.lpcRequestsNotAllowed, "STATUS_LPC_REQUESTS_NOT_ALLOWED", 0xC000_0707),
        (.resourceInUse, "STATUS_RESOURCE_IN_USE", 0xC000_0708),
        (.portAlreadyHasCompletionList, "STATUS_PORT_ALREADY_HAS_COMPLETION_LIST", 0xC000_071A),
        (.lpcHandleCountExceeded, "STATUS_LPC_HANDLE_COUNT_EXCEEDED", 0xC000_0722),
    ]

    @Test("every status has its Windows value and name", arguments: 0..<table.count)
    func value(index: Int) {
        let (status, name, hex) = Self.table[index]
        #expect(status.hexValue == hex, "\(name)")
        #expect(status.rawValue == Int32(bitPattern: hex), "\(name)")
        #expect(status.name == name)
        #expect(NTStatus(hex) == status)
        #expect(status.description == "\(name) (0x\(String(hex, radix: 16, uppercase: true).leftPadded(to: 8)))")
    }

    @Test("the table covers 72 distinct statuses")
    func tableIsComplete() {
        #expect(Self.table.count == 72)
        #expect(Set(Self.table.map(\.status)).count == 72)
        #expect(Set(Self.table.map(\.name)).count == 72)
    }

    @Test("description and name")
    func description() {
        #expect(NTStatus.portDisconnected.description == "STATUS_PORT_DISCONNECTED (0xC0000037)")
        #expect(NTStatus.success.description == "STATUS_SUCCESS (0x00000000)")
        #expect(NTStatus.timeout.description == "STATUS_TIMEOUT (0x00000102)")
        #expect(NTStatus(0x1234_5678).description == "NTSTATUS 0x12345678")
        #expect(NTStatus(0x1234_5678).name == nil)
        #expect(NTStatus(0xC000_0001).name == "STATUS_UNSUCCESSFUL")
        #expect(String(describing: NTStatus.bufferTooSmall) == "STATUS_BUFFER_TOO_SMALL (0xC0000023)")
    }

    @Test("raw value and bit pattern")
    func rawValue() {
        #expect(NTStatus(0xC000_0037) == .portDisconnected)
        #expect(NTStatus.portDisconnected.rawValue == -1_073_741_769)
        #expect(NTStatus(rawValue: -1_073_741_789) == .bufferTooSmall)
        #expect(NTStatus.bufferTooSmall.hexValue == 0xC000_0023)
        #expect(NTStatus.invalidParameter2.hexValue == 0xC000_00F0)
    }

    @Test("severity follows NT_SUCCESS and the top two bits")
    func severity() {
        #expect(NTStatus.success.isSuccess)
        #expect(NTStatus.timeout.isSuccess)  // informational in meaning, success-class in value
        #expect(NTStatus.pending.isSuccess)
        #expect(!NTStatus.timeout.isError && !NTStatus.timeout.isWarning && !NTStatus.timeout.isInformational)
        #expect(NTStatus.objectNameExists.isSuccess && NTStatus.objectNameExists.isInformational)
        #expect(NTStatus.alpcCheckCompletionList.isInformational)
        #expect(!NTStatus.bufferOverflow.isSuccess && NTStatus.bufferOverflow.isWarning)
        #expect(!NTStatus.portDisconnected.isSuccess && NTStatus.portDisconnected.isError)
        #expect(!NTStatus.portDisconnected.isWarning && !NTStatus.portDisconnected.isInformational)
        #expect(!NTStatus.success.isInformational && !NTStatus.success.isError)
    }

    static func throwUntyped(_ status: NTStatus) throws {
        throw status
    }

    static func throwTyped(_ status: NTStatus) throws(NTStatus) {
        throw status
    }

    struct OtherError: Error {}

    @Test("statuses match as patterns in catch clauses and switches")
    func patterns() {
        var caught = ""
        do {
            try Self.throwUntyped(.timeout)
        } catch NTStatus.portDisconnected {
            caught = "disconnected"
        } catch NTStatus.timeout {
            caught = "timeout"
        } catch {
            caught = "other"
        }
        #expect(caught == "timeout")

        do {
            try Self.throwTyped(.bufferTooSmall)
        } catch .timeout {
            caught = "timeout"
        } catch .bufferTooSmall {
            caught = "too small"
        } catch {
            caught = "other"
        }
        #expect(caught == "too small")

        do {
            try Self.throwUntyped(.accessDenied)
        } catch NTStatus.timeout {
            caught = "timeout"
        } catch {
            caught = "other"
        }
        #expect(caught == "other")

        switch NTStatus(0x0000_0102) {
        case .success: caught = "success"
        case .timeout: caught = "timeout"
        default: caught = "other"
        }
        #expect(caught == "timeout")

        #expect(NTStatus.timeout ~= (NTStatus.timeout as any Error))
        #expect(!(NTStatus.timeout ~= (OtherError() as any Error)))
        #expect(!(NTStatus.timeout ~= NTStatus.pending))
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: Swift.max(0, width - count)) + self
    }
}
