/// The heap storage behind a ``Tensor``: a 64-byte aligned block of `count` elements.
///
/// Tensors share a buffer until one of them is mutated (copy-on-write).
///
/// Sendable because a buffer is never written while it is shared: every write in the
/// library goes through ``Tensor/makeUnique()`` or ``Tensor/prepare(shape:dtype:)``, which
/// copy (or replace) a buffer that another tensor also references. The reference count
/// that decides it is atomic, as for `Array`; so two tasks that each hold a copy of one
/// tensor each write their own storage.
final class TensorBuffer: @unchecked Sendable {
  let pointer: UnsafeMutableRawPointer
  let count: Int
  let dtype: DType

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
  func copy() -> TensorBuffer {
    let other = TensorBuffer(count: count, dtype: dtype)
    other.pointer.copyMemory(from: pointer, byteCount: count * dtype.byteCount)
    return other
  }

  deinit { pointer.deallocate() }
}
