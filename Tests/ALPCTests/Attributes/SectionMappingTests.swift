@testable import ALPC
import CALPCSystem
import Glibc
import Testing

extension AttributesTests {
    /// Which mapping an address belongs to, where two sections' mappings touch.
    @Suite("Section mappings")
    struct SectionMappingTests {
        @Test("The address just past a received section's mapping is not in it: deleting a view there unmaps nothing")
        func endOfMappingIsNotInside() throws {
            let size = SectionTable.pageSize * 2
            let fd = alpc_memfd_create("swiftalpc-test", UInt64(size))
            try #require(fd >= 0)
            try #require(alpc_memfd_seal(fd) == 0)
            let record = try SectionTable.shared.adopt(OwnedDescriptor(adopting: fd), size: size)
            let base = try SectionTable.shared.retainMapped(record)
            defer {
                SectionTable.shared.release(record)
                SectionTable.shared.release(record)
            }
            let start = UInt(bitPattern: base)
            let mapping = try #require(record.mapping)
            #expect(mapping.contains(start, length: 0))
            #expect(mapping.contains(start + UInt(size) - 1, length: 1))
            #expect(!mapping.contains(start + UInt(size), length: 0))
            #expect(!mapping.contains(start + UInt(size) - 1, length: 2))
            // Where the next mapping starts (an adjacent section's view, in the same process),
            // nothing of this one may be unmapped: it once was, crashing its reader.
            #expect(!SectionTable.shared.deleteView(at: base + size))
            try #require(record.mapping != nil, "the mapping was unmapped: touching it would crash")
            base.storeBytes(of: 0xA5, as: UInt8.self)
            #expect(base.load(as: UInt8.self) == 0xA5)
        }
    }
}
