public import CALPC

/// A Windows status code (`NTSTATUS`), used as the error of every failing ALPC call.
///
/// The value is the Windows one, bit for bit, so a status read from a C caller or from a
/// message compares equal to the static member of the same name. Printing a status gives
/// its Windows name and hex value, such as `STATUS_PORT_DISCONNECTED (0xC0000037)`.
///
/// The top two bits give the severity: success, informational, warning or error. Like
/// `NT_SUCCESS`, ``isSuccess`` is true for both success and informational codes, so
/// ``timeout`` (0x102) counts as success and callers must test for it explicitly:
///
/// ```swift
/// switch status {
/// case .success: handle(message)
/// case .timeout: break  // success-class, yet nothing arrived
/// default: throw status
/// }
/// ```
///
/// Statuses match as patterns wherever an error is caught: `catch .bufferTooSmall` after a
/// call that throws `NTStatus`, and `catch NTStatus.timeout` after an untyped `throws`.
public struct NTStatus: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The status as the signed 32-bit `NTSTATUS` value.
    public var rawValue: NTSTATUS

    /// Creates a status from its signed 32-bit `NTSTATUS` value.
    @inlinable
    public init(rawValue: NTSTATUS) {
        self.rawValue = rawValue
    }

    /// Creates a status from its unsigned bit pattern, as Windows documentation writes it
    /// (`NTStatus(0xC0000037)`).
    @inlinable
    public init(_ value: UInt32) {
        self.rawValue = NTSTATUS(bitPattern: value)
    }

    /// The status as an unsigned bit pattern, such as `0xC0000037`.
    @inlinable
    public var hexValue: UInt32 { UInt32(bitPattern: rawValue) }

    /// The Windows name of the status, such as `STATUS_PORT_DISCONNECTED`, or `nil` for a
    /// value the library does not know.
    public var name: String? {
        AlpcStatusName(rawValue).map { String(cString: $0) }
    }

    /// The name and hex value, such as `STATUS_PORT_DISCONNECTED (0xC0000037)`; a value
    /// without a name prints as `NTSTATUS 0x12345678`.
    public var description: String {
        let hex = "0x" + FieldFormatting.hex8(hexValue)
        if let name {
            return "\(name) (\(hex))"
        }
        return "NTSTATUS \(hex)"
    }

    /// Whether the status is success-class, as `NT_SUCCESS` decides: true for success and
    /// informational codes (``timeout`` included), false for warnings and errors.
    @inlinable
    public var isSuccess: Bool { rawValue >= 0 }

    /// Whether the severity bits say informational (`0x4xxxxxxx`).
    @inlinable
    public var isInformational: Bool { hexValue >> 30 == 1 }

    /// Whether the severity bits say warning (`0x8xxxxxxx`).
    @inlinable
    public var isWarning: Bool { hexValue >> 30 == 2 }

    /// Whether the severity bits say error (`0xCxxxxxxx`).
    @inlinable
    public var isError: Bool { hexValue >> 30 == 3 }
}

extension NTStatus {
    /// Whether a status equals the pattern; lets `switch` and typed `catch` use `.timeout`.
    @inlinable
    public static func ~= (pattern: NTStatus, value: NTStatus) -> Bool {
        pattern == value
    }

    /// Whether an error is this status; lets an untyped `catch NTStatus.timeout` match.
    @inlinable
    public static func ~= (pattern: NTStatus, value: any Error) -> Bool {
        guard let status = value as? NTStatus else { return false }
        return status == pattern
    }
}

// The status values of reference section 2.12, in the order of ntalpc.h.
extension NTStatus {
    /// The operation completed successfully.
    ///
    /// The corresponding Windows status is `STATUS_SUCCESS`.
    @inlinable
    public static var success: NTStatus { NTStatus(rawValue: STATUS_SUCCESS) }

    /// A user-mode APC was delivered before the wait ended.
    ///
    /// The corresponding Windows status is `STATUS_USER_APC`.
    @inlinable
    public static var userAPC: NTStatus { NTStatus(rawValue: STATUS_USER_APC) }

    /// The wait was ended by an alert.
    ///
    /// The corresponding Windows status is `STATUS_ALERTED`.
    @inlinable
    public static var alerted: NTStatus { NTStatus(rawValue: STATUS_ALERTED) }

    /// The wait timed out. This is a success-class status: test for it explicitly.
    ///
    /// The corresponding Windows status is `STATUS_TIMEOUT`.
    @inlinable
    public static var timeout: NTStatus { NTStatus(rawValue: STATUS_TIMEOUT) }

    /// The operation has started and has not finished yet.
    ///
    /// The corresponding Windows status is `STATUS_PENDING`.
    @inlinable
    public static var pending: NTStatus { NTStatus(rawValue: STATUS_PENDING) }

    /// An object with that name already existed, and it was opened.
    ///
    /// The corresponding Windows status is `STATUS_OBJECT_NAME_EXISTS`.
    @inlinable
    public static var objectNameExists: NTStatus { NTStatus(rawValue: STATUS_OBJECT_NAME_EXISTS) }

    /// A message was retrieved.
    ///
    /// The corresponding Windows status is `STATUS_MESSAGE_RETRIEVED`.
    @inlinable
    public static var messageRetrieved: NTStatus { NTStatus(rawValue: STATUS_MESSAGE_RETRIEVED) }

    /// The port's completion list holds messages to check.
    ///
    /// The corresponding Windows status is `STATUS_ALPC_CHECK_COMPLETION_LIST`.
    @inlinable
    public static var alpcCheckCompletionList: NTStatus { NTStatus(rawValue: STATUS_ALPC_CHECK_COMPLETION_LIST) }

    /// The data did not fit in the buffer; only part of it was returned.
    ///
    /// The corresponding Windows status is `STATUS_BUFFER_OVERFLOW`.
    @inlinable
    public static var bufferOverflow: NTStatus { NTStatus(rawValue: STATUS_BUFFER_OVERFLOW) }

    /// The operation failed.
    ///
    /// The corresponding Windows status is `STATUS_UNSUCCESSFUL`.
    @inlinable
    public static var unsuccessful: NTStatus { NTStatus(rawValue: STATUS_UNSUCCESSFUL) }

    /// The operation is not implemented.
    ///
    /// The corresponding Windows status is `STATUS_NOT_IMPLEMENTED`.
    @inlinable
    public static var notImplemented: NTStatus { NTStatus(rawValue: STATUS_NOT_IMPLEMENTED) }

    /// The information class is not valid for this call.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_INFO_CLASS`.
    @inlinable
    public static var invalidInfoClass: NTStatus { NTStatus(rawValue: STATUS_INVALID_INFO_CLASS) }

    /// The buffer length does not fit the information class.
    ///
    /// The corresponding Windows status is `STATUS_INFO_LENGTH_MISMATCH`.
    @inlinable
    public static var infoLengthMismatch: NTStatus { NTStatus(rawValue: STATUS_INFO_LENGTH_MISMATCH) }

    /// A handle is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_HANDLE`.
    @inlinable
    public static var invalidHandle: NTStatus { NTStatus(rawValue: STATUS_INVALID_HANDLE) }

    /// A client ID is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_CID`.
    @inlinable
    public static var invalidCID: NTStatus { NTStatus(rawValue: STATUS_INVALID_CID) }

    /// A parameter is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER`.
    @inlinable
    public static var invalidParameter: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER) }

    /// There is not enough memory or quota to complete the operation.
    ///
    /// The corresponding Windows status is `STATUS_NO_MEMORY`.
    @inlinable
    public static var noMemory: NTStatus { NTStatus(rawValue: STATUS_NO_MEMORY) }

    /// The view size is not valid for the section.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_VIEW_SIZE`.
    @inlinable
    public static var invalidViewSize: NTStatus { NTStatus(rawValue: STATUS_INVALID_VIEW_SIZE) }

    /// The caller is not allowed to perform the operation.
    ///
    /// The corresponding Windows status is `STATUS_ACCESS_DENIED`.
    @inlinable
    public static var accessDenied: NTStatus { NTStatus(rawValue: STATUS_ACCESS_DENIED) }

    /// The buffer is too small for the data; nothing was copied.
    ///
    /// The corresponding Windows status is `STATUS_BUFFER_TOO_SMALL`.
    @inlinable
    public static var bufferTooSmall: NTStatus { NTStatus(rawValue: STATUS_BUFFER_TOO_SMALL) }

    /// The handle refers to an object of the wrong type.
    ///
    /// The corresponding Windows status is `STATUS_OBJECT_TYPE_MISMATCH`.
    @inlinable
    public static var objectTypeMismatch: NTStatus { NTStatus(rawValue: STATUS_OBJECT_TYPE_MISMATCH) }

    /// The port attributes are not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PORT_ATTRIBUTES`.
    @inlinable
    public static var invalidPortAttributes: NTStatus { NTStatus(rawValue: STATUS_INVALID_PORT_ATTRIBUTES) }

    /// The message is longer than the port allows.
    ///
    /// The corresponding Windows status is `STATUS_PORT_MESSAGE_TOO_LONG`.
    @inlinable
    public static var portMessageTooLong: NTStatus { NTStatus(rawValue: STATUS_PORT_MESSAGE_TOO_LONG) }

    /// The parameters are not valid together.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER_MIX`.
    @inlinable
    public static var invalidParameterMix: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER_MIX) }

    /// The object name is not valid.
    ///
    /// The corresponding Windows status is `STATUS_OBJECT_NAME_INVALID`.
    @inlinable
    public static var objectNameInvalid: NTStatus { NTStatus(rawValue: STATUS_OBJECT_NAME_INVALID) }

    /// No object has that name.
    ///
    /// The corresponding Windows status is `STATUS_OBJECT_NAME_NOT_FOUND`.
    @inlinable
    public static var objectNameNotFound: NTStatus { NTStatus(rawValue: STATUS_OBJECT_NAME_NOT_FOUND) }

    /// An object with that name already exists.
    ///
    /// The corresponding Windows status is `STATUS_OBJECT_NAME_COLLISION`.
    @inlinable
    public static var objectNameCollision: NTStatus { NTStatus(rawValue: STATUS_OBJECT_NAME_COLLISION) }

    /// The other end of the port is gone or disconnected.
    ///
    /// The corresponding Windows status is `STATUS_PORT_DISCONNECTED`.
    @inlinable
    public static var portDisconnected: NTStatus { NTStatus(rawValue: STATUS_PORT_DISCONNECTED) }

    /// The object path is not valid.
    ///
    /// The corresponding Windows status is `STATUS_OBJECT_PATH_INVALID`.
    @inlinable
    public static var objectPathInvalid: NTStatus { NTStatus(rawValue: STATUS_OBJECT_PATH_INVALID) }

    /// A directory on the object path does not exist.
    ///
    /// The corresponding Windows status is `STATUS_OBJECT_PATH_NOT_FOUND`.
    @inlinable
    public static var objectPathNotFound: NTStatus { NTStatus(rawValue: STATUS_OBJECT_PATH_NOT_FOUND) }

    /// The object path is malformed.
    ///
    /// The corresponding Windows status is `STATUS_OBJECT_PATH_SYNTAX_BAD`.
    @inlinable
    public static var objectPathSyntaxBad: NTStatus { NTStatus(rawValue: STATUS_OBJECT_PATH_SYNTAX_BAD) }

    /// The section or view is larger than allowed.
    ///
    /// The corresponding Windows status is `STATUS_SECTION_TOO_BIG`.
    @inlinable
    public static var sectionTooBig: NTStatus { NTStatus(rawValue: STATUS_SECTION_TOO_BIG) }

    /// The server refused the connection.
    ///
    /// The corresponding Windows status is `STATUS_PORT_CONNECTION_REFUSED`.
    @inlinable
    public static var portConnectionRefused: NTStatus { NTStatus(rawValue: STATUS_PORT_CONNECTION_REFUSED) }

    /// The port handle is not valid for this call.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PORT_HANDLE`.
    @inlinable
    public static var invalidPortHandle: NTStatus { NTStatus(rawValue: STATUS_INVALID_PORT_HANDLE) }

    /// A quota was exceeded.
    ///
    /// The corresponding Windows status is `STATUS_QUOTA_EXCEEDED`.
    @inlinable
    public static var quotaExceeded: NTStatus { NTStatus(rawValue: STATUS_QUOTA_EXCEEDED) }

    /// A port of that kind is already set.
    ///
    /// The corresponding Windows status is `STATUS_PORT_ALREADY_SET`.
    @inlinable
    public static var portAlreadySet: NTStatus { NTStatus(rawValue: STATUS_PORT_ALREADY_SET) }

    /// The thread is terminating.
    ///
    /// The corresponding Windows status is `STATUS_THREAD_IS_TERMINATING`.
    @inlinable
    public static var threadIsTerminating: NTStatus { NTStatus(rawValue: STATUS_THREAD_IS_TERMINATING) }

    /// The caller does not hold a required privilege.
    ///
    /// The corresponding Windows status is `STATUS_PRIVILEGE_NOT_HELD`.
    @inlinable
    public static var privilegeNotHeld: NTStatus { NTStatus(rawValue: STATUS_PRIVILEGE_NOT_HELD) }

    /// There are not enough system resources to complete the operation.
    ///
    /// The corresponding Windows status is `STATUS_INSUFFICIENT_RESOURCES`.
    @inlinable
    public static var insufficientResources: NTStatus { NTStatus(rawValue: STATUS_INSUFFICIENT_RESOURCES) }

    /// The impersonation level is too low for the operation.
    ///
    /// The corresponding Windows status is `STATUS_BAD_IMPERSONATION_LEVEL`.
    @inlinable
    public static var badImpersonationLevel: NTStatus { NTStatus(rawValue: STATUS_BAD_IMPERSONATION_LEVEL) }

    /// The operation is not supported.
    ///
    /// The corresponding Windows status is `STATUS_NOT_SUPPORTED`.
    @inlinable
    public static var notSupported: NTStatus { NTStatus(rawValue: STATUS_NOT_SUPPORTED) }

    /// The first parameter is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER_1`.
    @inlinable
    public static var invalidParameter1: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER_1) }

    /// The second parameter is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER_2`.
    @inlinable
    public static var invalidParameter2: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER_2) }

    /// The third parameter is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER_3`.
    @inlinable
    public static var invalidParameter3: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER_3) }

    /// The fourth parameter is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER_4`.
    @inlinable
    public static var invalidParameter4: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER_4) }

    /// The fifth parameter is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER_5`.
    @inlinable
    public static var invalidParameter5: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER_5) }

    /// The sixth parameter is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER_6`.
    @inlinable
    public static var invalidParameter6: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER_6) }

    /// The seventh parameter is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER_7`.
    @inlinable
    public static var invalidParameter7: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER_7) }

    /// The eighth parameter is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER_8`.
    @inlinable
    public static var invalidParameter8: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER_8) }

    /// The ninth parameter is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER_9`.
    @inlinable
    public static var invalidParameter9: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER_9) }

    /// The tenth parameter is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER_10`.
    @inlinable
    public static var invalidParameter10: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER_10) }

    /// The eleventh parameter is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER_11`.
    @inlinable
    public static var invalidParameter11: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER_11) }

    /// The twelfth parameter is not valid.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_PARAMETER_12`.
    @inlinable
    public static var invalidParameter12: NTStatus { NTStatus(rawValue: STATUS_INVALID_PARAMETER_12) }

    /// The message was not found.
    ///
    /// The corresponding Windows status is `STATUS_MESSAGE_NOT_FOUND`.
    @inlinable
    public static var messageNotFound: NTStatus { NTStatus(rawValue: STATUS_MESSAGE_NOT_FOUND) }

    /// The process is terminating.
    ///
    /// The corresponding Windows status is `STATUS_PROCESS_IS_TERMINATING`.
    @inlinable
    public static var processIsTerminating: NTStatus { NTStatus(rawValue: STATUS_PROCESS_IS_TERMINATING) }

    /// The server cannot impersonate the client.
    ///
    /// The corresponding Windows status is `STATUS_CANNOT_IMPERSONATE`.
    @inlinable
    public static var cannotImpersonate: NTStatus { NTStatus(rawValue: STATUS_CANNOT_IMPERSONATE) }

    /// The operation was cancelled.
    ///
    /// The corresponding Windows status is `STATUS_CANCELLED`.
    @inlinable
    public static var cancelled: NTStatus { NTStatus(rawValue: STATUS_CANCELLED) }

    /// The reply does not match a message that is waiting for one.
    ///
    /// The corresponding Windows status is `STATUS_REPLY_MESSAGE_MISMATCH`.
    @inlinable
    public static var replyMessageMismatch: NTStatus { NTStatus(rawValue: STATUS_REPLY_MESSAGE_MISMATCH) }

    /// The reply was lost: the server went away before replying.
    ///
    /// The corresponding Windows status is `STATUS_LPC_REPLY_LOST`.
    @inlinable
    public static var lpcReplyLost: NTStatus { NTStatus(rawValue: STATUS_LPC_REPLY_LOST) }

    /// There is no active callback to return to.
    ///
    /// The corresponding Windows status is `STATUS_NO_CALLBACK_ACTIVE`.
    @inlinable
    public static var noCallbackActive: NTStatus { NTStatus(rawValue: STATUS_NO_CALLBACK_ACTIVE) }

    /// The server's SID is not the one the client required.
    ///
    /// The corresponding Windows status is `STATUS_SERVER_SID_MISMATCH`.
    @inlinable
    public static var serverSIDMismatch: NTStatus { NTStatus(rawValue: STATUS_SERVER_SID_MISMATCH) }

    /// The port is closed.
    ///
    /// The corresponding Windows status is `STATUS_PORT_CLOSED`.
    @inlinable
    public static var portClosed: NTStatus { NTStatus(rawValue: STATUS_PORT_CLOSED) }

    /// The message was lost.
    ///
    /// The corresponding Windows status is `STATUS_MESSAGE_LOST`.
    @inlinable
    public static var messageLost: NTStatus { NTStatus(rawValue: STATUS_MESSAGE_LOST) }

    /// The message is not valid, or no pending message matches it.
    ///
    /// The corresponding Windows status is `STATUS_INVALID_MESSAGE`.
    @inlinable
    public static var invalidMessage: NTStatus { NTStatus(rawValue: STATUS_INVALID_MESSAGE) }

    /// The request was cancelled.
    ///
    /// The corresponding Windows status is `STATUS_REQUEST_CANCELED`.
    @inlinable
    public static var requestCanceled: NTStatus { NTStatus(rawValue: STATUS_REQUEST_CANCELED) }

    /// The call would dispatch recursively.
    ///
    /// The corresponding Windows status is `STATUS_RECURSIVE_DISPATCH`.
    @inlinable
    public static var recursiveDispatch: NTStatus { NTStatus(rawValue: STATUS_RECURSIVE_DISPATCH) }

    /// A synchronous request needs a receive buffer.
    ///
    /// The corresponding Windows status is `STATUS_LPC_RECEIVE_BUFFER_EXPECTED`.
    @inlinable
    public static var lpcReceiveBufferExpected: NTStatus { NTStatus(rawValue: STATUS_LPC_RECEIVE_BUFFER_EXPECTED) }

    /// The call is not allowed on this kind of port.
    ///
    /// The corresponding Windows status is `STATUS_LPC_INVALID_CONNECTION_USAGE`.
    @inlinable
    public static var lpcInvalidConnectionUsage: NTStatus { NTStatus(rawValue: STATUS_LPC_INVALID_CONNECTION_USAGE) }

    /// The port does not accept LPC requests.
    ///
    /// The corresponding Windows status is `STATUS_LPC_REQUESTS_NOT_ALLOWED`.
    @inlinable
    public static var lpcRequestsNotAllowed: NTStatus { NTStatus(rawValue: STATUS_LPC_REQUESTS_NOT_ALLOWED) }

    /// The resource is in use.
    ///
    /// The corresponding Windows status is `STATUS_RESOURCE_IN_USE`.
    @inlinable
    public static var resourceInUse: NTStatus { NTStatus(rawValue: STATUS_RESOURCE_IN_USE) }

    /// The port already has a completion list.
    ///
    /// The corresponding Windows status is `STATUS_PORT_ALREADY_HAS_COMPLETION_LIST`.
    @inlinable
    public static var portAlreadyHasCompletionList: NTStatus {
        NTStatus(rawValue: STATUS_PORT_ALREADY_HAS_COMPLETION_LIST)
    }

    /// The message carries more handles than allowed.
    ///
    /// The corresponding Windows status is `STATUS_LPC_HANDLE_COUNT_EXCEEDED`.
    @inlinable
    public static var lpcHandleCountExceeded: NTStatus { NTStatus(rawValue: STATUS_LPC_HANDLE_COUNT_EXCEEDED) }
}
