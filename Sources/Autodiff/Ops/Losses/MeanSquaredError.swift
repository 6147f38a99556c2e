/// The squared error between `predicted` and `target`, averaged (or summed) over all
/// elements: mean((y − t)²). Composed from subtract, square and mean.
///
/// The course's ½‖y − t‖² is `meanSquaredError(…, reduction: .sum) * 0.5`.
///
/// Backward: ∂L/∂y = 2(y − t)/n for the mean (n elements), 2(y − t) for the sum;
/// ∂L/∂t is its negative.
public func meanSquaredError(predicted: Var, target: Var, reduction: LossReduction = .mean) -> Var {
  require(
    predicted.shape == target.shape,
    "meanSquaredError: predicted \(predicted.shape) and target \(target.shape) differ")
  let squares = (predicted - target).squared()
  return reduction == .mean ? squares.mean() : squares.sum()
}

extension GradientCheck {
  static let meanSquaredError = GradientCheck(
    "meanSquaredError", inputs: [.init([4, 3]), .init([4, 3])]
  ) { Autodiff.meanSquaredError(predicted: $0[0], target: $0[1]) }
}

@available(*, deprecated, renamed: "meanSquaredError(predicted:target:reduction:)")
public func meanSquaredError(predicted: Var, expected: Var, reduction: LossReduction = .mean)
  -> Var
{ meanSquaredError(predicted: predicted, target: expected, reduction: reduction) }
