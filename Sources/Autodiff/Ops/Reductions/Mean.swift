extension Var {
  /// The mean of all elements, composed as `sum() / count`.
  ///
  /// Backward: ∂L/∂x = s / count for every element.
  public func mean() -> Var { sum() * (1 / Double(Swift.max(value.count, 1))) }

  /// The mean along `axis`, composed from ``sum(along:keepingDimensions:)``.
  ///
  /// Backward: ∂L/∂x = s / n broadcast back along `axis`, n = the axis length.
  public func mean(along axis: Int, keepingDimensions: Bool = false) -> Var {
    let n = shape[normalizedAxis(axis, op: "mean")]
    return sum(along: axis, keepingDimensions: keepingDimensions) * (1 / Double(n))
  }
}

extension GradientCheck {
  public static let mean = GradientCheck("mean", inputs: [.init([3, 4])]) { $0[0].mean() }
  public static let meanAlongAxis = GradientCheck("mean (axis)", inputs: [.init([3, 4])]) {
    $0[0].mean(along: 0)
  }
}
