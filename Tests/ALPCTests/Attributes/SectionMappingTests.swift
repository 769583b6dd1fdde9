@testable import ALPC
import CALPCSystem
import Glibc
import Testing

extension AttributesTests {
    /// Which mapping an address belongs to, where two sections' mappings touch. Gated: its
    /// mapping must not show in the tests that count this process's mappings.
    @Suite("Section mappings", .sharedPeers)
    struct SectionMappingTests {
        @Test("The address just past a received section's mapping is not in it, so deleting a view there cannot release it")
        func endOfMappingIsNotInside() throws {
            let size = SectionTable.pageSize * 2
            let fd = alpc_memfd_create("swiftalpc-test", UInt64(size))
            try #require(fd >= 0)
            try #require(alpc_memfd_seal(fd) == 0)
            defer { close(fd) }
            // A mapping of its own, outside the process's section table: other tests' sections
            // neither see it nor are seen.
            let mapping = SectionMapping(try SharedMapping(fd: fd, size: size))
            let base = mapping.base
            let start = UInt(bitPattern: base)
            #expect(mapping.contains(start, length: 0))
            #expect(mapping.contains(start + UInt(size) - 1, length: 1))
            #expect(!mapping.contains(start + UInt(size), length: 0))
            #expect(!mapping.contains(start + UInt(size) - 1, length: 2))
            // `SectionTable.deleteView(at:)` picks the mapping to release with this test, so the
            // address where the next mapping starts (another section's view, in this process)
            // released this one, which crashed its reader. (Not called here: in a parallel run
            // that address may well be another test's view.)
        }
    }
}
