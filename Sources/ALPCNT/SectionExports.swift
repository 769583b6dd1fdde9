public import ALPC
public import CALPC

/// The sections API of whoever is behind `port`: its server, or its client.
private func sections(_ port: NTPort) throws(NTStatus) -> any PortSectionOwner {
    if let server = port.server { return server }
    guard case .client(let clientPort) = port.kind, let client = clientPort.connectedClient else {
        throw .portDisconnected
    }
    return client
}

/// The section and view calls that servers and clients share.
protocol PortSectionOwner {
    func createPortSection(size: Int, flags: UInt32) throws(NTStatus) -> AlpcSection
    func createSectionView(_ section: AlpcSection, size: Int) throws(NTStatus) -> DataView
    func deleteSectionView(_ view: DataView) throws(NTStatus)
    func deletePortSection(_ section: AlpcSection) throws(NTStatus)
}

extension AlpcServer: PortSectionOwner {}
extension AlpcClient: PortSectionOwner {}

/// NtAlpcCreatePortSection: see alpc.h.
@c(NtAlpcCreatePortSection)
public func ntAlpcCreatePortSection(
    _ portHandle: HANDLE?, _ flags: ULONG, _ sectionHandle: HANDLE?, _ sectionSize: SIZE_T,
    _ alpcSectionHandle: PALPC_HANDLE?, _ actualSectionSize: PSIZE_T?
) -> NTSTATUS {
    guard let port = PortTable.shared.port(portHandle) else { return STATUS_INVALID_HANDLE }
    guard sectionHandle == nil else { return STATUS_NOT_SUPPORTED }
    guard let alpcSectionHandle else { return STATUS_INVALID_PARAMETER_5 }
    return ntStatus { () throws(NTStatus) in
        let section = try sections(port).createPortSection(size: Int(clamping: sectionSize), flags: flags)
        alpcSectionHandle.pointee = UnsafeMutableRawPointer(bitPattern: UInt(section.handle))
        actualSectionSize?.pointee = SIZE_T(section.size)
    }
}

/// NtAlpcDeletePortSection: see alpc.h.
@c(NtAlpcDeletePortSection)
public func ntAlpcDeletePortSection(_ portHandle: HANDLE?, _ flags: ULONG, _ sectionHandle: ALPC_HANDLE?) -> NTSTATUS {
    guard let port = PortTable.shared.port(portHandle) else { return STATUS_INVALID_HANDLE }
    return ntStatus { () throws(NTStatus) in
        try sections(port).deletePortSection(AlpcSection(handle: UInt64(UInt(bitPattern: sectionHandle)), size: 0))
    }
}

/// NtAlpcCreateSectionView: see alpc.h.
@c(NtAlpcCreateSectionView)
public func ntAlpcCreateSectionView(_ portHandle: HANDLE?, _ flags: ULONG, _ viewAttributes: PALPC_DATA_VIEW_ATTR?) -> NTSTATUS {
    guard let port = PortTable.shared.port(portHandle) else { return STATUS_INVALID_HANDLE }
    guard flags == 0 else { return STATUS_INVALID_PARAMETER_2 }
    guard let viewAttributes else { return STATUS_INVALID_PARAMETER_3 }
    return ntStatus { () throws(NTStatus) in
        let section = AlpcSection(handle: UInt64(UInt(bitPattern: viewAttributes.pointee.SectionHandle)), size: 0)
        let view = try sections(port).createSectionView(section, size: Int(clamping: viewAttributes.pointee.ViewSize))
        viewAttributes.pointee.ViewBase = view.viewBase
        viewAttributes.pointee.ViewSize = SIZE_T(view.viewSize)
    }
}

/// NtAlpcDeleteSectionView: see alpc.h.
@c(NtAlpcDeleteSectionView)
public func ntAlpcDeleteSectionView(_ portHandle: HANDLE?, _ flags: ULONG, _ viewBase: PVOID?) -> NTSTATUS {
    guard let port = PortTable.shared.port(portHandle) else { return STATUS_INVALID_HANDLE }
    guard let viewBase else { return STATUS_INVALID_PARAMETER_3 }
    return ntStatus { () throws(NTStatus) in
        try sections(port).deleteSectionView(DataView(sectionHandle: 0, viewBase: viewBase, viewSize: 0))
    }
}

/// NtAlpcCreateSecurityContext: see alpc.h.
@c(NtAlpcCreateSecurityContext)
public func ntAlpcCreateSecurityContext(
    _ portHandle: HANDLE?, _ flags: ULONG, _ securityAttribute: PALPC_SECURITY_ATTR?
) -> NTSTATUS {
    guard let port = PortTable.shared.port(portHandle) else { return STATUS_INVALID_HANDLE }
    guard let securityAttribute else { return STATUS_INVALID_PARAMETER_3 }
    securityAttribute.pointee.ContextHandle = UnsafeMutableRawPointer(bitPattern: UInt(port.createSecurityContext()))
    return STATUS_SUCCESS
}

/// NtAlpcDeleteSecurityContext: see alpc.h.
@c(NtAlpcDeleteSecurityContext)
public func ntAlpcDeleteSecurityContext(_ portHandle: HANDLE?, _ flags: ULONG, _ contextHandle: ALPC_HANDLE?) -> NTSTATUS {
    guard let port = PortTable.shared.port(portHandle) else { return STATUS_INVALID_HANDLE }
    return port.deleteSecurityContext(UInt64(UInt(bitPattern: contextHandle))) ? STATUS_SUCCESS : STATUS_INVALID_HANDLE
}
