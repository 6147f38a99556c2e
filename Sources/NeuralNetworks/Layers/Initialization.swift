import Autodiff
import Foundation

/// How a ``Linear`` layer draws its initial weights (biases start at zero).
public enum Initialization: Sendable {
  /// N(0, 1) / √fanIn, as in the course (`randn(I, O) / sqrt(I)`).
  case scaledNormal
  /// Xavier/Glorot uniform: U(−a, a) with a = √(6 / (fanIn + fanOut)); suits tanh and sigmoid.
  case xavier
  /// He/Kaiming normal: N(0, 2 / fanIn); suits ReLU.
  case he
  /// N(0, σ²) with the given σ.
  case normal(standardDeviation: Double)

  /// A weight matrix of shape [fanIn, fanOut].
  public func weights(
    fanIn: Int, fanOut: Int, dtype: DType, using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let shape = [fanIn, fanOut]
    switch self {
    case .scaledNormal:
      return Tensor.normal(
        shape, standardDeviation: 1 / Double(fanIn).squareRoot(), dtype: dtype, using: &generator)
    case .xavier:
      let a = (6 / Double(fanIn + fanOut)).squareRoot()
      return Tensor.uniform(shape, in: -a...a, dtype: dtype, using: &generator)
    case .he:
      return Tensor.normal(
        shape, standardDeviation: (2 / Double(fanIn)).squareRoot(), dtype: dtype, using: &generator)
    case .normal(let sigma):
      return Tensor.normal(shape, standardDeviation: sigma, dtype: dtype, using: &generator)
    }
  }
}
