import Foundation

/// Reusable scratch memory for packing, so that repeated products do not allocate.
final class ScratchPool: @unchecked Sendable {
  static let shared = ScratchPool()
  private let lock = NSLock()
  private var free: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []

  func take(bytes: Int) -> (UnsafeMutableRawPointer, Int) {
    lock.lock()
    defer { lock.unlock() }
    if let index = free.firstIndex(where: { $0.bytes >= bytes }) {
      let entry = free.remove(at: index)
      return (entry.pointer, entry.bytes)
    }
    return (UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64), bytes)
  }

  func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
    lock.lock()
    defer { lock.unlock() }
    if free.count < 16 { free.append((pointer, bytes)) } else { pointer.deallocate() }
  }
}
