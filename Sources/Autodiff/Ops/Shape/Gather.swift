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

extension Var {
  /// The rows of this table at the indices that `indices` holds (whole numbers, any shape),
  /// read again on every evaluation: an embedding lookup whose tokens change batch after
  /// batch. The result has shape `indices.shape + [columns]`.
  ///
  /// Backward: ∂L/∂table[indices[i]] += s[i] (a repeated index accumulates); the indices
  /// receive no gradient.
  public func gathered(rowsAt indices: Var) -> Var {
    require(rank == 2, "gather: the table must be a matrix, got \(shape)")
    let indices = indices.converted(to: dtype)
    return Var(
      op: "gatherRows", args: [self, indices],
      forward: { args, value in
        let (table, indices) = (args[0].value, args[1].value)
        value.prepare(shape: indices.shape + [table.shape[1]], dtype: table.dtype)
        Kernels.transferRows(
          table, indices, value.buffer.pointer, tableRows: table.shape[0], toTable: false)
      },
      vectorJacobianProduct: { args, _, s in
        [s.scatterAdded(rowsAt: args[1], count: args[0].shape[0]), nil]
      },
      backward: { args, _, s in
        guard let g = args[0].gradientPointer() else { return }
        Kernels.transferRows(
          s, args[1].value, g, tableRows: args[0].shape[0], toTable: true)
      })
  }

  /// A table of `count` rows, zero except that row i of this node (flattened to rows) is
  /// added at row `indices[i]`: the adjoint of ``gathered(rowsAt:)``.
  ///
  /// Backward: ∂L/∂x = s gathered at the indices.
  public func scatterAdded(rowsAt indices: Var, count: Int) -> Var {
    let indices = indices.converted(to: dtype)
    return Var(
      op: "scatterAddRows", args: [self, indices],
      forward: { args, value in
        let (rows, indices) = (args[0].value, args[1].value)
        let columns = rows.shape.last ?? 1
        value.prepare(shape: [count, columns], dtype: rows.dtype)
        value.fill(with: 0)
        Kernels.transferRows(
          rows, indices, value.buffer.pointer, tableRows: count, toTable: true)
      },
      vectorJacobianProduct: { args, _, s in [s.gathered(rowsAt: args[1]), nil] })
  }
}

extension Kernels {
  /// With `toTable` false, copies rows `indices[i]` of the table `source` into row i of
  /// `destination`; with `toTable` true, adds row i of `source` into row `indices[i]` of the
  /// table `destination`. Every index is checked against the table's `tableRows` rows.
  static func transferRows(
    _ source: Tensor, _ indices: Tensor, _ destination: UnsafeMutableRawPointer, tableRows: Int,
    toTable: Bool
  ) {
    let columns = source.shape.last ?? 1
    require(
      !toTable || source.count == indices.count * columns,
      "scatterAdd: \(indices.count) indices for rows of shape \(source.shape)")
    switch source.dtype {
    case .float32:
      transferRows(Float.self, source, indices, destination, columns, tableRows, toTable)
    case .float64:
      transferRows(Double.self, source, indices, destination, columns, tableRows, toTable)
    }
  }

  private static func transferRows<T: TensorScalar>(
    _: T.Type, _ source: Tensor, _ indices: Tensor, _ destination: UnsafeMutableRawPointer,
    _ columns: Int, _ tableRows: Int, _ toTable: Bool
  ) {
    let (sp, ip) = (source.pointer(as: T.self), indices.pointer(as: T.self))
    let dp = destination.assumingMemoryBound(to: T.self)
    for i in 0..<indices.count {
      let index = ip[i]
      require(
        index >= 0 && index == index.rounded() && Double(index) < Double(tableRows),
        "gather: index \(index) at position \(i) is not a row of the table")
      let row = Int(index)
      if toTable {
        let (from, to) = (sp + i * columns, dp + row * columns)
        for j in 0..<columns { to[j] += from[j] }
      } else {
        (dp + i * columns).update(from: sp + row * columns, count: columns)
      }
    }
    withExtendedLifetime((source, indices)) {}
  }
}

extension GradientCheck {
  static let gatherRows = GradientCheck(
    "gather (rows at a Var of indices)", inputs: [.init([4, 3])]
  ) {
    $0[0].gathered(rowsAt: Var.constant(Tensor([[2, 0], [2, 3]])))
  }
  static let gather = GradientCheck("gather", inputs: [.init([4, 3])]) {
    $0[0].gathered([2, 0, 2, 3])
  }
  static let gatherColumns = GradientCheck("gather (columns)", inputs: [.init([2, 4])]) {
    $0[0].gathered([3, 1, 1], along: 1)
  }
}
