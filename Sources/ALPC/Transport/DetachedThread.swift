internal import Glibc

/// Threads of their own (pthreads, detached): the closer of peer descriptors, and the C API's
/// NtCreateThreadEx and asynchronous connects.
package enum DetachedThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Starts `body` on a new detached thread with `stackSize` bytes of stack (0: the
    /// default). False when no thread could be started.
    @discardableResult
    package static func start(stackSize: Int = 0, _ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        let attributes = UnsafeMutablePointer<pthread_attr_t>.allocate(capacity: 1)
        pthread_attr_init(attributes)
        defer {
            pthread_attr_destroy(attributes)
            attributes.deallocate()
        }
        pthread_attr_setdetachstate(attributes, Int32(PTHREAD_CREATE_DETACHED))
        if stackSize > 0 { pthread_attr_setstacksize(attributes, max(stackSize, 64 * 1024)) }
        var thread = pthread_t()
        let result = pthread_create(&thread, attributes, { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, box)
        if result != 0 { Unmanaged<Body>.fromOpaque(box).release() }
        return result == 0
    }
}
