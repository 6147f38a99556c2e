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

  /// Rows `range` along the first axis.
  public func rows(_ range: Range<Int>) -> Tensor { gatheringRows(Array(range)) }
}
