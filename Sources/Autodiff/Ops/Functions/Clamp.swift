enum ClampFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T {
    x < p ? p : (x > q ? q : x)
  }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    (x - p).stepIncludingZero() * (q - x).stepIncludingZero()
  }
}

extension Var {
  /// Each element limited to `range`.
  ///
  /// Backward: ∂L/∂x = s inside the range, 0 where the value was clamped.
  public func clamped(to range: ClosedRange<Double>) -> Var {
    let (lower, upper) = (range.lowerBound, range.upperBound)
    return elementwise(ClampFunction.self, name: "clamp", p: lower, q: upper)
  }
}

extension GradientCheck {
  static let clamp = GradientCheck("clamp", inputs: [.init([4, 4], in: -2...2)]) {
    $0[0].clamped(to: -1.03...0.97)
  }
}
