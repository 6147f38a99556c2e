extension Var {
  /// The same elements in row-major order with another shape of equal count; no copy.
  /// One dimension may be −1: it is inferred from the others, again at every evaluation, so
  /// `x.reshaped([-1, 4])` follows a change of x's first dimension.
  ///
  /// Backward: ∂L/∂x = s reshaped to x's shape.
  public func reshaped(_ shape: [Int]) -> Var {
    require(
      shape.filter { $0 == -1 }.count <= 1 && shape.allSatisfy { $0 >= -1 },
      "reshape: \(shape) has more than one −1 or a negative dimension")
    return reshaped(name: "reshape") { Var.resolving(shape, for: $0) }
  }

  /// All elements as a vector.
  public func flattened() -> Var { reshaped([-1]) }

  /// A reshape whose target shape is computed from the argument's shape at every
  /// evaluation.
  func reshaped(name: String, to target: @escaping ([Int]) -> [Int]) -> Var {
    _ = target(shape)  // checks the shape now, where the graph is built
    return Var(
      op: name, args: [self],
      forward: { args, value in value = args[0].value.reshaped(target(args[0].shape)) },
      vectorJacobianProduct: { args, _, s in [s.reshaped(args[0].shape)] },
      backward: { args, _, s in args[0].accumulateGradient(s.reshaped(args[0].shape)) })
  }

  /// `shape` with its −1 replaced by what makes the element count that of `current`.
  static func resolving(_ shape: [Int], for current: [Int]) -> [Int] {
    let count = current.reduce(1, *)
    var target = shape
    if let unknown = shape.firstIndex(of: -1) {
      let known = shape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
      require(
        known > 0 && count % known == 0, "reshape: shape \(current) cannot become \(shape)")
      target[unknown] = count / known
    }
    require(
      target.reduce(1, *) == count,
      "reshape: shape \(current) (\(count) elements) cannot become \(shape)")
    return target
  }
}

extension GradientCheck {
  static let reshape = GradientCheck("reshape", inputs: [.init([2, 6])]) {
    $0[0].reshaped([3, -1]).matmul($0[0].reshaped([4, 3]))
  }
}
