extension Var {
  /// The same elements in row-major order with another shape of equal count; no copy.
  /// One dimension may be −1, inferred from the others.
  ///
  /// Backward: ∂L/∂x = s reshaped to x's shape.
  public func reshaped(_ shape: [Int]) -> Var {
    var target = shape
    if let unknown = shape.firstIndex(of: -1) {
      let known = shape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
      require(
        known > 0 && value.count % known == 0, "reshape: \(self.shape) cannot become \(shape)")
      target[unknown] = value.count / known
    }
    require(
      target.reduce(1, *) == value.count,
      "reshape: shape \(self.shape) (\(value.count) elements) cannot become \(shape)")
    let newShape = target
    return Var(
      op: "reshape", args: [self],
      forward: { args, value in value = args[0].value.reshaped(newShape) },
      vectorJacobianProduct: { args, _, s in [s.reshaped(args[0].shape)] },
      backward: { args, _, s in args[0].accumulateGradient(s.reshaped(args[0].shape)) })
  }

  /// All elements as a vector.
  public func flattened() -> Var { reshaped([value.count]) }
}

extension GradientCheck {
  public static let reshape = GradientCheck("reshape", inputs: [.init([2, 6])]) {
    $0[0].reshaped([3, -1]).matmul($0[0].reshaped([4, 3]))
  }
}
