extension Var {
  /// The mean of all elements, composed as `sum() / count()`. The count is a node of its
  /// own, so the mean follows a change of shape when the graph is evaluated again.
  ///
  /// Backward: ∂L/∂x = s / count for every element.
  public func mean() -> Var {
    require(value.count > 0, "mean: no elements in shape \(shape)")
    return sum() / count()
  }

  /// The mean along `axis`, composed as `sum(along:) / count(along:)`.
  ///
  /// Backward: ∂L/∂x = s / n broadcast back along `axis`, n = the axis length.
  public func mean(along axis: Int, keepingDimensions: Bool = false) -> Var {
    sum(along: axis, keepingDimensions: keepingDimensions) / count(along: axis)
  }
}

extension GradientCheck {
  static let mean = GradientCheck("mean", inputs: [.init([3, 4])]) { $0[0].mean() }
  static let meanAlongAxis = GradientCheck("mean (axis)", inputs: [.init([3, 4])]) {
    $0[0].mean(along: 0)
  }
}
