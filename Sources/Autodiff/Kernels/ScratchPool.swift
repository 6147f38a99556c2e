import Foundation

/// Reusable scratch memory for packing and for the kernels' temporaries, so that repeated
/// products do not allocate (and do not fault in fresh pages).
final class ScratchPool: @unchecked Sendable {
  static let shared = ScratchPool()
  private let lock = NSLock()
  private var free: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []

  func take(bytes: Int) -> (UnsafeMutableRawPointer, Int) {
    lock.lock()
    defer { lock.unlock() }
    // The smallest block that is large enough, so that a small request does not take a
    // large block that a large request would then have to allocate again.
    var best: Int?
    for index in free.indices where free[index].bytes >= bytes {
      if best.map({ free[index].bytes < free[$0].bytes }) ?? true { best = index }
    }
    if let index = best {
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
