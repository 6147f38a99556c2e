extension Var {
  /// The number of axes.
  public var rank: Int { value.rank }

  /// `axis` counted from the end when negative, checked against the rank.
  func normalizedAxis(_ axis: Int, op: String) -> Int {
    let a = axis < 0 ? axis + rank : axis
    require(a >= 0 && a < rank, "\(op): axis \(axis) out of range for shape \(shape)")
    return a
  }
}
