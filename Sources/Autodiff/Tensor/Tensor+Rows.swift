extension Tensor {
  /// The entries at `indices` along the first axis, in order (minibatch selection).
  public func gatheringRows(_ indices: [Int]) -> Tensor {
    require(rank >= 1, "gatheringRows: tensor of shape \(shape) has no rows")
    let rowCount = shape[0]
    let rowSize = rowCount == 0 ? 0 : count / rowCount
    var newShape = shape
    newShape[0] = indices.count
    let out = Tensor.uninitialized(newShape, dtype: dtype)
    let bytes = rowSize * dtype.byteCount
    for (i, index) in indices.enumerated() {
      require(
        index >= 0 && index < rowCount, "gatheringRows: row \(index) out of range 0..<\(rowCount)")
      (out.buffer.pointer + i * bytes).copyMemory(
        from: buffer.pointer + index * bytes, byteCount: bytes)
    }
    return out
  }

  /// Overwrites this tensor with the entries of `source` at `indices` along its first axis,
  /// in order: what `source.gatheringRows(indices)` returns, written into this tensor's
  /// storage when it is unshared and of the right size (no allocation for a minibatch of
  /// the same size as the last).
  public mutating func assign(rowsOf source: Tensor, at indices: some Collection<Int>) {
    let done = indices.withContiguousStorageIfAvailable { assign(rowsOf: source, at: $0) }
    if done == nil { Array(indices).withUnsafeBufferPointer { assign(rowsOf: source, at: $0) } }
  }

  private mutating func assign(rowsOf source: Tensor, at indices: UnsafeBufferPointer<Int>) {
    require(source.rank >= 1, "assign(rowsOf:): tensor of shape \(source.shape) has no rows")
    let rowCount = source.shape[0]
    let rowSize = rowCount == 0 ? 0 : source.count / rowCount
    var newShape = source.shape
    newShape[0] = indices.count
    prepare(shape: newShape, dtype: source.dtype)
    let bytes = rowSize * source.dtype.byteCount
    for i in 0..<indices.count {
      let index = indices[i]
      require(
        index >= 0 && index < rowCount,
        "assign(rowsOf:): row \(index) out of range 0..<\(rowCount)")
      (buffer.pointer + i * bytes).copyMemory(
        from: source.buffer.pointer + index * bytes, byteCount: bytes)
    }
    withExtendedLifetime(source) {}
  }

  /// Rows `range` along the first axis.
  public func rows(_ range: Range<Int>) -> Tensor { gatheringRows(Array(range)) }
}
