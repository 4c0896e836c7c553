import Foundation
import Synchronization

/// Runs blocking work (a librdkafka call that waits on the network) on a thread of its
/// own, so it never blocks the Swift concurrency pool.
func onDedicatedThread<T: Sendable>(_ name: String, _ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
        let thread = Thread {
            nameCurrentThread(name)
            continuation.resume(returning: body())
        }
        thread.start()
    }
}

/// Names the calling thread for `top -H`, perf and /proc (at most 15 bytes on Linux; Foundation's
/// `Thread.name` did not reach the kernel there, so the thread kept its creator's name).
/// Through /proc/thread-self/comm: Swift does not see glibc's pthread_setname_np.
func nameCurrentThread(_ name: String) {
    guard let file = fopen("/proc/thread-self/comm", "w") else { return }
    _ = fputs(String(decoding: name.utf8.prefix(15), as: UTF8.self), file)
    fclose(file)
}

/// A Mutex in a class, for state shared with closures (a Mutex cannot be captured).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R { try mutex.withLock { try body(&$0) } }
}
