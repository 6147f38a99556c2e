extension Var {
  /// The nodes joined along `axis`; they agree on every other axis.
  ///
  /// Backward: each part receives its slice of s along `axis`.
  public static func concatenate(_ parts: [Var], along axis: Int = 0) -> Var {
    require(!parts.isEmpty, "concatenate: no parts")
    let axis = parts[0].normalizedAxis(axis, op: "concatenate")
    for part in parts {
      var a = part.shape
      var b = parts[0].shape
      require(
        a.count == b.count
          && {
            a[axis] = 0
            b[axis] = 0
            return a == b
          }(),
        "concatenate: shapes \(parts[0].shape) and \(part.shape) differ off axis \(axis)")
    }
    return Var(
      op: "concatenate", args: parts,
      forward: { args, value in
        var shape = args[0].shape
        shape[axis] = args.reduce(0) { $0 + $1.shape[axis] }
        value.prepare(shape: shape, dtype: args[0].dtype)
        var offset = 0
        for arg in args {
          Kernels.copyAlongAxis(
            from: arg.value, start: 0, into: value.buffer.pointer, shape: shape, start: offset,
            axis: axis, count: arg.shape[axis], accumulate: false)
          offset += arg.shape[axis]
        }
      },
      vectorJacobianProduct: { args, _, s in
        var offset = 0
        return args.map { arg in
          defer { offset += arg.shape[axis] }
          return s.sliced(along: axis, offset..<(offset + arg.shape[axis]))
        }
      },
      backward: { args, _, s in
        var offset = 0
        for arg in args {
          defer { offset += arg.shape[axis] }
          guard let g = arg.gradientPointer() else { continue }
          Kernels.copyAlongAxis(
            from: s, start: offset, into: g, shape: arg.shape, start: 0, axis: axis,
            count: arg.shape[axis], accumulate: true)
        }
      })
  }

  /// Splits this node along `axis` into consecutive parts of the given sizes.
  ///
  /// Backward: each part's gradient lands in its region of ∂L/∂x.
  public func split(along axis: Int = 0, sizes: [Int]) -> [Var] {
    let axis = normalizedAxis(axis, op: "split")
    require(
      sizes.reduce(0, +) == shape[axis], "split: sizes \(sizes) do not add up to \(shape[axis])")
    var offset = 0
    return sizes.map { size in
      defer { offset += size }
      return sliced(along: axis, offset..<(offset + size))
    }
  }

  /// The nodes, all of one shape, stacked along a new axis at position `axis`; a negative
  /// `axis` counts from the end of the result's shape (−1 appends the new axis).
  ///
  /// Backward: each node receives its slice of s along the new axis.
  public static func stack(_ parts: [Var], along axis: Int = 0) -> Var {
    require(!parts.isEmpty, "stack: no parts")
    let shape = parts[0].shape
    let given = axis
    let axis = axis < 0 ? axis + shape.count + 1 : axis
    require(axis >= 0 && axis <= shape.count, "stack: axis \(given) out of range for \(shape)")
    for part in parts {
      require(part.shape == shape, "stack: shapes \(shape) and \(part.shape) differ")
    }
    let expanded = parts.map { part in
      part.reshaped(name: "expand") { shape in
        var expanded = shape
        expanded.insert(1, at: axis)
        return expanded
      }
    }
    return concatenate(expanded, along: axis)
  }
}

extension GradientCheck {
  static let concatenate = GradientCheck(
    "concatenate", inputs: [.init([2, 3]), .init([2, 2]), .init([2, 1])]
  ) { Var.concatenate([$0[0], $0[1], $0[2]], along: 1) }
  static let split = GradientCheck("split", inputs: [.init([5, 2])]) {
    let parts = $0[0].split(along: 0, sizes: [2, 3])
    return parts[0].sum() * parts[1]
  }
  static let stack = GradientCheck("stack", inputs: [.init([3]), .init([3])]) {
    Var.stack([$0[0], $0[1]], along: 1)
  }
}
