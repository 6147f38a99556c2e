extension Var {
  /// The matrix transpose (for higher ranks, the last two axes swapped).
  ///
  /// Backward: ∂L/∂x = sᵀ.
  public func transposed() -> Var {
    require(rank >= 2, "transpose: shape \(shape) has fewer than two axes")
    var axes = Array(0..<rank)
    axes.swapAt(rank - 1, rank - 2)
    return permuted(axes)
  }

  /// The axes reordered: axis i of the result is axis `axes[i]` of this node.
  ///
  /// Backward: ∂L/∂x = s permuted by the inverse permutation.
  public func permuted(_ axes: [Int]) -> Var {
    require(
      axes.sorted() == Array(0..<rank),
      "permute: \(axes) is not a permutation of the axes of \(shape)")
    var inverse = axes
    for (i, axis) in axes.enumerated() { inverse[axis] = i }
    let inverseAxes = inverse
    return Var(
      op: axes == [1, 0] ? "transpose" : "permute", args: [self],
      forward: { args, value in Kernels.permute(args[0].value, axes, into: &value) },
      vectorJacobianProduct: { _, _, s in [s.permuted(inverseAxes)] },
      backward: { args, _, s in
        var g = Tensor.empty
        Kernels.permute(s, inverseAxes, into: &g)
        args[0].accumulateGradient(g)
      })
  }
}

extension Kernels {
  static func permute(_ x: Tensor, _ axes: [Int], into out: inout Tensor) {
    let shape = axes.map { x.shape[$0] }
    out.prepare(shape: shape, dtype: x.dtype)
    // Source strides, read in the order of the output axes.
    var strides = [Int](repeating: 1, count: x.rank)
    for i in stride(from: x.rank - 2, through: 0, by: -1) {
      strides[i] = strides[i + 1] * x.shape[i + 1]
    }
    let permutedStrides = axes.map { strides[$0] }
    let byteCount = x.dtype.byteCount
    let src = x.buffer.pointer
    let dst = out.buffer.pointer
    var index = [Int](repeating: 0, count: x.rank)
    var offset = 0
    for i in 0..<x.count {
      (dst + i * byteCount).copyMemory(from: src + offset * byteCount, byteCount: byteCount)
      var axis = x.rank - 1
      while axis >= 0 {
        index[axis] += 1
        offset += permutedStrides[axis]
        if index[axis] < shape[axis] { break }
        offset -= permutedStrides[axis] * shape[axis]
        index[axis] = 0
        axis -= 1
      }
    }
    withExtendedLifetime(x) {}
  }
}

extension GradientCheck {
  static let transpose = GradientCheck("transpose", inputs: [.init([3, 5])]) {
    $0[0].transposed().matmul($0[0])
  }
  static let permute = GradientCheck("permute", inputs: [.init([2, 3, 4])]) {
    $0[0].permuted([2, 0, 1])
  }
}
