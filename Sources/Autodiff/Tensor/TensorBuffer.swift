/// The heap storage behind a ``Tensor``: a 64-byte aligned block of `count` elements.
///
/// Tensors share a buffer until one of them is mutated (copy-on-write).
///
/// Sendable because a buffer is never written while it is shared: every write in the
/// library goes through ``Tensor/makeUnique()`` or ``Tensor/prepare(shape:dtype:)``, which
/// copy (or replace) a buffer that another tensor also references. The reference count
/// that decides it is atomic, as for `Array`; so two tasks that each hold a copy of one
/// tensor each write their own storage.
///
/// **Version.** Every path that may write the storage bumps ``version`` first:
/// ``Tensor/makeUnique()`` (behind `withUnsafeMutableBufferPointer`, the subscript setters,
/// `fill`, and the gradient buffers), ``Tensor/prepare(shape:dtype:)`` (behind every kernel
/// that writes an op's value) and ``Tensor/assign(_:)``. A packed copy of the storage made
/// for the matrix product (``PackedPanels``) records the version it was made from and is
/// used only while the version is unchanged, so it can never be stale. The version is a
/// plain counter: it is written only by the holder of the only reference (the same rule
/// that makes writing the storage safe), and read by any number of readers otherwise.
@usableFromInline
final class TensorBuffer: @unchecked Sendable {
  @usableFromInline let pointer: UnsafeMutableRawPointer
  @usableFromInline let count: Int
  @usableFromInline let dtype: DType
  /// Bumped before every write of the storage (see above).
  // Written only by the holder of the only reference (see above).
  @usableFromInline @exclusivity(unchecked) var version: UInt64 = 0
  /// The packed panels made from this storage, if any: read and written only under
  /// ``PackedPanels/lock``, freed with the buffer.
  var panelCache: PackedPanels.Slot?

  init(count: Int, dtype: DType) {
    self.count = count
    self.dtype = dtype
    pointer = UnsafeMutableRawPointer.allocate(
      byteCount: Swift.max(count, 1) * dtype.byteCount, alignment: 64)
    switch dtype {
    case .float32: pointer.bindMemory(to: Float.self, capacity: Swift.max(count, 1))
    case .float64: pointer.bindMemory(to: Double.self, capacity: Swift.max(count, 1))
    }
  }

  /// A new buffer with the same contents.
  @usableFromInline
  func copy() -> TensorBuffer {
    let other = TensorBuffer(count: count, dtype: dtype)
    other.pointer.copyMemory(from: pointer, byteCount: count * dtype.byteCount)
    return other
  }

  deinit { pointer.deallocate() }
}
