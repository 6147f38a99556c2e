extension Var {
  /// The number of elements of this node (along `axis`, or in all), as a rank-0 node of its
  /// dtype that is recomputed on every evaluation: a divisor that follows the shape when a
  /// built graph is evaluated again with inputs of another shape.
  ///
  /// Backward: none; a count is piecewise constant, so no gradient flows through it.
  public func count(along axis: Int? = nil) -> Var {
    let axis = axis.map { normalizedAxis($0, op: "count") }
    return .piecewiseConstant("count", args: [self]) { args, value in
      let x = args[0].value
      let n = axis.map { x.shape[$0] } ?? x.count
      value.assign(Tensor(scalar: Double(n), dtype: x.dtype))
    }
  }
}
