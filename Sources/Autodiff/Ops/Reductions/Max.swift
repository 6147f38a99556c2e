extension Var {
  /// The largest element, a scalar.
  ///
  /// Backward: s flows to the first position of the maximum; the others get zero.
  public func max() -> Var {
    flattened().max(along: 0)
  }

  /// The largest element along `axis`.
  ///
  /// Backward: s flows to the first position of each maximum along `axis`.
  public func max(along axis: Int, keepingDimensions: Bool = false) -> Var {
    let axis = normalizedAxis(axis, op: "max")
    let saved = SavedPositions()
    return Var(
      op: "max", args: [self],
      forward: { args, value in
        let (values, positions) = Kernels.maxAlongAxis(args[0].value, axis)
        saved.positions = positions
        var shape = args[0].shape
        if keepingDimensions { shape[axis] = 1 } else { shape.remove(at: axis) }
        value.assign(values.reshaped(shape))
      },
      vectorJacobianProduct: { args, _, s in
        let x = args[0]
        let mask = Var.piecewiseConstant("argmax", args: [x]) { args, value in
          let x = args[0].value
          let positions = Kernels.maxAlongAxis(x, axis).1
          value.prepare(shape: x.shape, dtype: x.dtype)
          value.fill(with: 0)
          let (outer, length, inner) = Kernels.split(x.shape, axis)
          for o in 0..<outer {
            for i in 0..<inner {
              value[flat: (o * length + positions[o * inner + i]) * inner + i] = 1
            }
          }
        }
        return [s.reshaped(keptShape(x.shape, axis)).broadcast(to: x.shape) * mask]
      },
      backward: { args, _, s in
        guard let g = args[0].gradientPointer() else { return }
        Kernels.addAtPositions(s, saved.positions, into: g, shape: args[0].shape, axis: axis)
      })
  }
}

extension Kernels {
  /// The maxima along `axis` (kept with length 1) and the first position of each.
  static func maxAlongAxis(_ x: Tensor, _ axis: Int) -> (Tensor, [Int]) {
    let (outer, length, inner) = split(x.shape, axis)
    require(length > 0, "max: empty axis \(axis) in shape \(x.shape)")
    var values = Tensor.uninitialized(keptShape(x.shape, axis), dtype: x.dtype)
    var positions = [Int](repeating: 0, count: outer * inner)
    switch x.dtype {
    case .float32: maxAlongAxis(Float.self, x, &values, &positions, outer, length, inner)
    case .float64: maxAlongAxis(Double.self, x, &values, &positions, outer, length, inner)
    }
    return (values, positions)
  }

  private static func maxAlongAxis<T: TensorScalar>(
    _: T.Type, _ x: Tensor, _ values: inout Tensor, _ positions: inout [Int], _ outer: Int,
    _ length: Int, _ inner: Int
  ) {
    let (xp, vp) = (x.pointer(as: T.self), values.pointer(as: T.self))
    positions.withUnsafeMutableBufferPointer { at in
      for o in 0..<outer {
        for i in 0..<inner {
          let base = o * length * inner + i
          var best = xp[base]
          var position = 0
          for l in 1..<length {
            let v = xp[base + l * inner]
            if v > best || best.isNaN {
              best = v
              position = l
            }
          }
          vp[o * inner + i] = best
          at[o * inner + i] = position
        }
      }
    }
    withExtendedLifetime(x) {}
  }
}

extension Kernels {
  /// g[o, positions[o, i], i] += s[o, i]: a max reduction's gradient, routed to the maxima.
  static func addAtPositions(
    _ s: Tensor, _ positions: [Int], into g: UnsafeMutableRawPointer, shape: [Int], axis: Int
  ) {
    let (outer, length, inner) = split(shape, axis)
    switch s.dtype {
    case .float32: addAtPositions(Float.self, s, positions, g, outer, length, inner)
    case .float64: addAtPositions(Double.self, s, positions, g, outer, length, inner)
    }
  }

  private static func addAtPositions<T: TensorScalar>(
    _: T.Type, _ s: Tensor, _ positions: [Int], _ g: UnsafeMutableRawPointer, _ outer: Int,
    _ length: Int, _ inner: Int
  ) {
    let (sp, gp) = (s.pointer(as: T.self), g.assumingMemoryBound(to: T.self))
    for o in 0..<outer {
      for i in 0..<inner {
        let k = o * inner + i
        gp[(o * length + positions[k]) * inner + i] += sp[k]
      }
    }
    withExtendedLifetime(s) {}
  }
}

extension GradientCheck {
  static let max = GradientCheck("max", inputs: [.init([3, 4])]) { $0[0].max() }
  static let maxAlongAxis = GradientCheck("max (axis)", inputs: [.init([3, 4])]) {
    $0[0].max(along: 1)
  }
}
