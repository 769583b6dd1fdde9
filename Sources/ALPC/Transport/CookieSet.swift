/// A few request cookies: those of the requests threads of one connection wait for.
///
/// There are as many as threads waiting at once, a handful: a linear search of a small array
/// costs less than hashing, and inserting or removing allocates nothing once it has grown.
struct CookieSet {
    private var cookies: [UInt32] = []

    /// Whether no cookie is in the set.
    var isEmpty: Bool { cookies.isEmpty }

    /// Whether `cookie` is in the set.
    func contains(_ cookie: UInt32) -> Bool {
        cookies.contains(cookie)
    }

    /// Adds `cookie` (not already in the set).
    mutating func insert(_ cookie: UInt32) {
        cookies.append(cookie)
    }

    /// Removes `cookie` if it is in the set.
    mutating func remove(_ cookie: UInt32) {
        guard let index = cookies.firstIndex(of: cookie) else { return }
        cookies.swapAt(index, cookies.count - 1)
        cookies.removeLast()
    }
}
