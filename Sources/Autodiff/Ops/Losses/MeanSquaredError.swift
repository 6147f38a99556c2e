/// The squared error between `predicted` and `expected`, averaged (or summed) over all
/// elements: mean((y − t)²). Composed from subtract, square and mean.
///
/// The course's ½‖y − t‖² is `meanSquaredError(…, reduction: .sum) * 0.5`.
///
/// Backward: ∂L/∂y = 2(y − t)/n for the mean (n elements), 2(y − t) for the sum;
/// ∂L/∂t is its negative.
public func meanSquaredError(predicted: Var, expected: Var, reduction: Reduction = .mean) -> Var {
  require(
    predicted.shape == expected.shape,
    "meanSquaredError: predicted \(predicted.shape) and expected \(expected.shape) differ")
  let squares = (predicted - expected).squared()
  return reduction == .mean ? squares.mean() : squares.sum()
}

extension GradientCheck {
  public static let meanSquaredError = GradientCheck(
    "meanSquaredError", inputs: [.init([4, 3]), .init([4, 3])]
  ) { Autodiff.meanSquaredError(predicted: $0[0], expected: $0[1]) }
}
