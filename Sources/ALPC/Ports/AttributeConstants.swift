internal import CALPC

extension HandleAttribute {
    /// `ALPC_HANDLEFLG_DUPLICATE_SAME_ACCESS` (0x10000): the receiver's handle has the access
    /// of the sender's.
    public static var duplicateSameAccess: UInt32 { ALPC_HANDLEFLG_DUPLICATE_SAME_ACCESS }
    /// `ALPC_HANDLEFLG_INDIRECT` (0x40000): the attribute points at an array of
    /// `ALPC_HANDLE_ATTR32` entries.
    public static var indirectFlag: UInt32 { ALPC_HANDLEFLG_INDIRECT }
    /// The most handles an indirect handle attribute carries: 512.
    public static var maxIndirectHandles: Int { Int(ALPC_INDIRECT_HANDLE_MAX) }

    /// The `ALPC_PORFLG_OBJECT_TYPE_FILE` code (1): files, directories, devices, pipes, sockets.
    public static var fileObjectType: UInt32 { ALPC_PORFLG_OBJECT_TYPE_FILE }
    /// The `ALPC_PORFLG_OBJECT_TYPE_EVENT` code (0x10): eventfds.
    public static var eventObjectType: UInt32 { ALPC_PORFLG_OBJECT_TYPE_EVENT }
    /// The `ALPC_PORFLG_OBJECT_TYPE_PROCESS` code (0x20): pidfds.
    public static var processObjectType: UInt32 { ALPC_PORFLG_OBJECT_TYPE_PROCESS }
    /// The `ALPC_PORFLG_OBJECT_TYPE_SECTION` code (0x80): memfds.
    public static var sectionObjectType: UInt32 { ALPC_PORFLG_OBJECT_TYPE_SECTION }
}

extension DataViewAttribute {
    /// `ALPC_VIEWFLG_UNMAP_EXISTING` (0x10000): in a reply, releases the view the replier
    /// received instead of sending it.
    public static var unmapExisting: UInt32 { ALPC_VIEWFLG_UNMAP_EXISTING }
}

extension PortAttributes {
    /// `ALPC_PORFLG_ALLOW_DUP_OBJECT` (0x80000): handles may cross the accepted connection.
    public static var allowDuplicateObjectsFlag: UInt32 { ALPC_PORFLG_ALLOW_DUP_OBJECT }
    /// `ALPC_PORFLG_ALLOW_MULTIHANDLE_ATTRIBUTE` (0x2000000): a message may carry an indirect
    /// array of handles.
    public static var allowMultipleHandlesFlag: UInt32 { ALPC_PORFLG_ALLOW_MULTIHANDLE_ATTRIBUTE }
}
