import ALPC
import CALPC
import Glibc
import Testing

extension AttributesTests {
    /// Port sections and views: sizes, limits and statuses.
    @Suite("Sections", .sharedPeers)
    struct SectionTests {
        @Test("A section is whole pages of a sealed memfd; views are page-aligned regions that do not overlap")
        func sectionsAndViews() throws {
            let server = try AlpcServer(portName: uniquePortName())
            let section = try server.createPortSection(size: 0x1001)
            #expect(section.size == 0x2000)
            #expect(section.handle != 0)
            let first = try server.createSectionView(section, size: 0x100)
            let second = try server.createSectionView(section, size: 0x1000)
            #expect(first.sectionHandle == section.handle)
            #expect(first.viewSize == 0x100)
            #expect(second.viewBase == first.viewBase + 0x1000)
            let line = try #require(mapping(containing: first.viewBase))
            #expect(line.contains("swiftalpc-section"))
            #expect(line.contains("rw-s"))
            // Full: no third view fits.
            #expect(throws: NTStatus.invalidViewSize) { try server.createSectionView(section, size: 0x10) }
            // Deleting a view frees its pages for the next one.
            try server.deleteSectionView(first)
            let third = try server.createSectionView(section, size: 0x10)
            #expect(third.viewBase == first.viewBase)
            #expect(throws: NTStatus.invalidParameter) {
                try server.deleteSectionView(DataView(sectionHandle: section.handle, viewBase: first.viewBase + 8, viewSize: 8))
            }
            // Size 0 is the whole section.
            let other = try server.createPortSection(size: 0x3000)
            let whole = try server.createSectionView(other, size: 0)
            #expect(whole.viewSize == 0x3000)
            // Deleting the section ends it and its views.
            let inode = mappedInode(at: second.viewBase)
            try server.deletePortSection(section)
            #expect(!isStillMapped(second.viewBase, inode: inode))
            #expect(throws: NTStatus.invalidHandle) { try server.deletePortSection(section) }
            #expect(throws: NTStatus.invalidHandle) { try server.createSectionView(section, size: 0x10) }
        }

        @Test("Limits: MaxSectionSize gives STATUS_SECTION_TOO_BIG, MaxViewSize and a view larger than its section STATUS_INVALID_VIEW_SIZE")
        func limits() throws {
            var attributes = PortAttributes.server
            attributes.maxSectionSize = 0x4000
            attributes.maxViewSize = 0x2000
            attributes.maxTotalSectionSize = 0x6000
            let server = try AlpcServer(portName: uniquePortName(), attributes: attributes)
            #expect(throws: NTStatus.sectionTooBig) { try server.createPortSection(size: 0x4001) }
            #expect(throws: NTStatus.invalidParameter) { try server.createPortSection(size: 0) }
            #expect(throws: NTStatus.invalidParameter) { try server.createPortSection(size: 0x1000, flags: 0x1) }
            let section = try server.createPortSection(size: 0x4000, flags: ALPC_CREATEPORTSECTIONFLG_SECURE)
            #expect(throws: NTStatus.invalidViewSize) { try server.createSectionView(section, size: 0x2001) }
            _ = try server.createSectionView(section, size: 0x2000)
            // Together the sections may not pass MaxTotalSectionSize.
            _ = try server.createPortSection(size: 0x2000)
            #expect(throws: NTStatus.sectionTooBig) { try server.createPortSection(size: 0x1000) }
            // Deleting one makes room again.
            try server.deletePortSection(section)
            _ = try server.createPortSection(size: 0x1000)
        }

        @Test("A view larger than its section is STATUS_INVALID_VIEW_SIZE; a section of another port is STATUS_INVALID_HANDLE")
        func viewBounds() throws {
            let server = try AlpcServer(portName: uniquePortName())
            let other = try AlpcServer(portName: uniquePortName())
            let section = try server.createPortSection(size: 0x1000)
            #expect(throws: NTStatus.invalidViewSize) { try server.createSectionView(section, size: 0x1001) }
            #expect(throws: NTStatus.invalidHandle) { try other.createSectionView(section, size: 0x10) }
            #expect(throws: NTStatus.invalidHandle) { try other.deletePortSection(section) }
        }
    }
}
