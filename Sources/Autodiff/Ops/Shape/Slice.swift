extension Var {
  /// The elements at positions `range` along `axis`.
  ///
  /// Backward: s is added into the sliced region of ∂L/∂x; the rest receives zero.
  public func sliced(along axis: Int, _ range: Range<Int>) -> Var {
    let axis = normalizedAxis(axis, op: "slice")
    require(
      range.lowerBound >= 0 && range.upperBound <= shape[axis],
      "slice: range \(range) out of bounds for axis \(axis) of shape \(shape)")
    return Var(
      op: "slice", args: [self],
      forward: { args, value in
        var shape = args[0].shape
        shape[axis] = range.count
        value.prepare(shape: shape, dtype: args[0].dtype)
        Kernels.copyAlongAxis(
          from: args[0].value, start: range.lowerBound, into: value.buffer.pointer,
          shape: shape, start: 0, axis: axis, count: range.count, accumulate: false)
      },
      vectorJacobianProduct: { args, _, s in
        [s.padded(along: axis, before: range.lowerBound, toLength: args[0].shape[axis])]
      },
      backward: { args, _, s in
        guard let g = args[0].gradientPointer() else { return }
        Kernels.copyAlongAxis(
          from: s, start: 0, into: g, shape: args[0].shape, start: range.lowerBound, axis: axis,
          count: range.count, accumulate: true)
      })
  }

  /// The last position along `axis`, with that axis removed: `[batch, time, features]` →
  /// `[batch, features]` along axis 1. The position is found again at every evaluation, so
  /// it stays the last one when the length changes.
  ///
  /// Backward: s goes to the last position; the others receive zero.
  public func last(along axis: Int) -> Var {
    let axis = normalizedAxis(axis, op: "last")
    require(shape[axis] > 0, "last: axis \(axis) of shape \(shape) is empty")
    return Var(
      op: "last", args: [self],
      forward: { args, value in
        var shape = args[0].shape
        let length = shape.remove(at: axis)
        require(length > 0, "last: axis \(axis) of shape \(args[0].shape) is empty")
        value.prepare(shape: shape, dtype: args[0].dtype)
        Kernels.copyAlongAxis(
          from: args[0].value, start: length - 1, into: value.buffer.pointer,
          shape: keptShape(args[0].shape, axis), start: 0, axis: axis, count: 1,
          accumulate: false)
      },
      vectorJacobianProduct: { args, _, s in
        let length = args[0].shape[axis]
        let kept = s.reshaped(name: "expand") { shape in
          var expanded = shape
          expanded.insert(1, at: axis)
          return expanded
        }
        return [kept.padded(along: axis, before: length - 1, toLength: length)]
      },
      backward: { args, _, s in
        guard let g = args[0].gradientPointer() else { return }
        let length = args[0].shape[axis]
        Kernels.copyAlongAxis(
          from: s.reshaped(keptShape(args[0].shape, axis)), start: 0, into: g,
          shape: args[0].shape, start: length - 1, axis: axis, count: 1, accumulate: true)
      })
  }

  /// Rows `range` of a matrix (axis 0).
  public func rows(_ range: Range<Int>) -> Var { sliced(along: 0, range) }

  /// Columns `range` of a matrix (the last axis).
  public func columns(_ range: Range<Int>) -> Var { sliced(along: rank - 1, range) }

  /// This node placed at offset `before` along `axis` in zeros of length `length`: the
  /// adjoint of slicing.
  ///
  /// Backward: ∂L/∂x = s sliced back to the placed region.
  public func padded(along axis: Int, before: Int, toLength length: Int) -> Var {
    let axis = normalizedAxis(axis, op: "pad")
    let count = shape[axis]
    require(
      before >= 0 && before + count <= length, "pad: \(count) at \(before) exceeds \(length)")
    return Var(
      op: "pad", args: [self],
      forward: { args, value in
        var shape = args[0].shape
        shape[axis] = length
        value.prepare(shape: shape, dtype: args[0].dtype)
        value.fill(with: 0)
        Kernels.copyAlongAxis(
          from: args[0].value, start: 0, into: value.buffer.pointer, shape: shape, start: before,
          axis: axis, count: count, accumulate: false)
      },
      vectorJacobianProduct: { _, _, s in [s.sliced(along: axis, before..<(before + count))] })
  }
}

extension Kernels {
  /// Copies (or adds) `count` positions along `axis` of `source`, starting at `sourceStart`,
  /// into a tensor of `shape` at `start`. Both tensors agree on every other axis.
  static func copyAlongAxis(
    from source: Tensor, start sourceStart: Int, into destination: UnsafeMutableRawPointer,
    shape: [Int], start: Int, axis: Int, count: Int, accumulate: Bool
  ) {
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    let sourceLength = source.shape[axis]
    let length = shape[axis]
    switch source.dtype {
    case .float32:
      copy(
        Float.self, source, sourceStart, sourceLength, destination, start, length, outer, inner,
        count, accumulate)
    case .float64:
      copy(
        Double.self, source, sourceStart, sourceLength, destination, start, length, outer, inner,
        count, accumulate)
    }
  }

  private static func copy<T: TensorScalar>(
    _: T.Type, _ source: Tensor, _ sourceStart: Int, _ sourceLength: Int,
    _ destination: UnsafeMutableRawPointer, _ start: Int, _ length: Int, _ outer: Int,
    _ inner: Int, _ count: Int, _ accumulate: Bool
  ) {
    let src = source.pointer(as: T.self)
    let dst = destination.assumingMemoryBound(to: T.self)
    let block = count * inner
    for o in 0..<outer {
      let s = src + (o * sourceLength + sourceStart) * inner
      let d = dst + (o * length + start) * inner
      if accumulate {
        for i in 0..<block { d[i] += s[i] }
      } else {
        d.update(from: s, count: block)
      }
    }
    withExtendedLifetime(source) {}
  }
}

extension GradientCheck {
  static let slice = GradientCheck("slice", inputs: [.init([4, 5])]) {
    $0[0].sliced(along: 1, 1..<4) * $0[0].rows(0..<4).columns(2..<5)
  }
  static let last = GradientCheck("last (axis)", inputs: [.init([2, 3, 4])]) {
    $0[0].last(along: 1)
  }
  static let pad = GradientCheck("pad", inputs: [.init([2, 3])]) {
    $0[0].padded(along: 0, before: 1, toLength: 4)
  }
}
