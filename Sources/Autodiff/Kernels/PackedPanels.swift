import Foundation

/// A persistent packed copy of a matrix product's B operand: all of op(B), k × n, in the
/// panels the micro-kernel reads, so that a B used unchanged by many products (a Hopfield
/// W across the sweeps of a recall, a weight across the batches of an evaluation) is
/// packed once per update instead of once per product.
///
/// **Layout.** Rows of op(B) in blocks of `blockK` (the kernel's k blocking); the block
/// that starts at row p₀ starts at element p₀ · n̄, where n̄ is n rounded up to whole
/// panels, and holds the block's panels of `nr` columns one after the other, each stored
/// row by row (the layout ``Kernels`` packs B into for one block), zero past column n.
///
/// **Never stale.** A packed copy is attached to the ``TensorBuffer`` it was made from and
/// records a ``Key``: the buffer's version at packing time, the transposition, the shape
/// and row stride, and the kernel set (its panel width). Every write of a buffer bumps its
/// version first, so a lookup after a write misses and packs again; a copy of the storage
/// is a new buffer with no packed panels.
///
/// **Bounded memory.** A B operand is packed into persistent storage only on its second
/// product with the same key (one product per update, as a weight in training, keeps
/// packing into the shared scratch memory), only when it has at least
/// ``minimumElements`` elements, only by a product that packs B anyway (or when B has at
/// least ``largeElements``), and only while all packed copies together stay under
/// ``budget`` bytes. A buffer keeps at most one packed copy, freed with the buffer. Any
/// product with the same key uses a copy that is there, even one that would have read B
/// in place.
///
/// **Threads.** The slot on each buffer is read and written under one lock. A packed copy
/// is filled before it is installed and never written afterwards (a new key gets a new
/// copy, or the old storage when nobody else holds it), so threads reading it need no lock.
final class PackedPanels: @unchecked Sendable {
  /// What a packed copy was made from.
  struct Key: Equatable {
    var version: UInt64
    var transposed: Bool
    var k: Int
    var n: Int
    var rowStride: Int
    var panelWidth: Int
    var level: KernelLevel
  }

  /// The cache entry of one buffer: the key of its last product, and its packed copy.
  /// Made at the first product that looks a buffer up (other buffers hold only nil).
  final class Slot {
    var lastKey: Key?
    var panels: PackedPanels?
  }

  /// Guards every ``TensorBuffer/panelCache`` and ``bytesInUse``.
  static let lock = NSLock()
  /// B operands with fewer elements are never kept packed.
  static let minimumElements = 1 << 14
  /// B operands with at least this many elements are kept packed even by products that
  /// would read them in place (few rows of A).
  static let largeElements = 1 << 18
  /// The most bytes all packed copies may hold together.
  static let budget = 64 << 20
  /// The bytes all packed copies hold now (read under ``lock``).
  nonisolated(unsafe) private(set) static var bytesInUse = 0

  private(set) var key: Key
  let pointer: UnsafeMutableRawPointer
  let bytes: Int

  private init(key: Key, bytes: Int) {
    self.key = key
    self.bytes = bytes
    pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
  }

  deinit {
    pointer.deallocate()
    PackedPanels.lock.lock()
    PackedPanels.bytesInUse -= bytes
    PackedPanels.lock.unlock()
  }

  /// The bytes a packed op(B) of `key`'s shape takes, for elements of `size` bytes.
  static func byteCount(_ key: Key, elementSize size: Int) -> Int {
    (key.n + key.panelWidth - 1) / key.panelWidth * key.panelWidth * key.k * size
  }

  /// The packed copy of `buffer` for `key`, if there is one or this product should make
  /// one; `pack` fills new storage (called without the lock held). Nil means: pack into
  /// scratch memory as for any product (or read B in place). With `mayPack` false, only
  /// a copy already there is returned.
  static func panels(
    of buffer: TensorBuffer, key: Key, mayPack: Bool, pack: (UnsafeMutableRawPointer) -> Void
  ) -> PackedPanels? {
    let bytes = byteCount(key, elementSize: buffer.dtype.byteCount)
    lock.lock()
    guard let slot = buffer.panelCache ?? (mayPack ? Slot() : nil) else {
      lock.unlock()
      return nil
    }
    buffer.panelCache = slot
    if let panels = slot.panels, panels.key == key {
      lock.unlock()
      return panels
    }
    guard mayPack else {
      lock.unlock()
      return nil
    }
    guard slot.lastKey == key else {
      // The first product with this key: remember it, pack as usual.
      slot.lastKey = key
      lock.unlock()
      return nil
    }
    // The second product with an unchanged B: keep a packed copy. The old copy's storage
    // is reused when nobody else reads it.
    // (A copy let go of is released after unlocking: its deinit takes the lock.)
    var old = slot.panels
    slot.panels = nil
    var reused: PackedPanels?
    if old?.bytes == bytes && isKnownUniquelyReferenced(&old) { swap(&reused, &old) }
    if reused == nil {
      guard bytesInUse + bytes <= budget else {
        lock.unlock()
        return nil
      }
      bytesInUse += bytes
    }
    lock.unlock()
    old = nil
    let panels = reused ?? PackedPanels(key: key, bytes: bytes)
    panels.key = key
    pack(panels.pointer)
    lock.lock()
    if slot.panels == nil { slot.panels = panels }
    lock.unlock()
    return panels
  }
}
