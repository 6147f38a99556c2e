extension Var {
  /// The entries at `indices` along `axis` (rows, by default), in the order given;
  /// indices may repeat. An embedding lookup is `table.gathered(tokens)`.
  ///
  /// Backward: s is scatter-added back, ∂L/∂x[indices[i]] += s[i]; a repeated index
  /// accumulates.
  public func gathered(_ indices: [Int], along axis: Int = 0) -> Var {
    let axis = normalizedAxis(axis, op: "gather")
    let length = shape[axis]
    for index in indices {
      require(
        index >= 0 && index < length,
        "gather: index \(index) out of range 0..<\(length) on axis \(axis)")
    }
    return Var(
      op: "gather", args: [self],
      forward: { args, value in
        var shape = args[0].shape
        shape[axis] = indices.count
        value.prepare(shape: shape, dtype: args[0].dtype)
        for (i, index) in indices.enumerated() {
          Kernels.copyAlongAxis(
            from: args[0].value, start: index, into: value.buffer.pointer, shape: shape, start: i,
            axis: axis, count: 1, accumulate: false)
        }
      },
      vectorJacobianProduct: { args, _, s in
        [s.scatterAdded(indices, along: axis, length: args[0].shape[axis])]
      },
      backward: { args, _, s in
        guard let g = args[0].gradientPointer() else { return }
        for (i, index) in indices.enumerated() {
          Kernels.copyAlongAxis(
            from: s, start: i, into: g, shape: args[0].shape, start: index, axis: axis, count: 1,
            accumulate: true)
        }
      })
  }

  /// A tensor of `length` positions along `axis`, zero except that entry i of this node is
  /// added at position `indices[i]`: the adjoint of ``gathered(_:along:)``.
  ///
  /// Backward: ∂L/∂x = s gathered at `indices`.
  public func scatterAdded(_ indices: [Int], along axis: Int = 0, length: Int) -> Var {
    let axis = normalizedAxis(axis, op: "scatterAdd")
    require(
      indices.count == shape[axis],
      "scatterAdd: \(indices.count) indices for \(shape[axis]) entries")
    return Var(
      op: "scatterAdd", args: [self],
      forward: { args, value in
        var shape = args[0].shape
        shape[axis] = length
        value.prepare(shape: shape, dtype: args[0].dtype)
        value.fill(with: 0)
        for (i, index) in indices.enumerated() {
          Kernels.copyAlongAxis(
            from: args[0].value, start: i, into: value.buffer.pointer, shape: shape, start: index,
            axis: axis, count: 1, accumulate: true)
        }
      },
      vectorJacobianProduct: { _, _, s in [s.gathered(indices, along: axis)] })
  }
}

extension GradientCheck {
  public static let gather = GradientCheck("gather", inputs: [.init([4, 3])]) {
    $0[0].gathered([2, 0, 2, 3])
  }
  public static let gatherColumns = GradientCheck("gather (columns)", inputs: [.init([2, 4])]) {
    $0[0].gathered([3, 1, 1], along: 1)
  }
}
