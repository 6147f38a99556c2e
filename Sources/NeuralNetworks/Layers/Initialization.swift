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
  /// `gain` times a matrix with orthonormal rows or columns (whichever are fewer): all its
  /// singular values equal `gain`, so repeated products neither shrink nor grow a vector
  /// when `gain` is 1 (a recurrent network's W, for instance). Made by Gram–Schmidt
  /// orthogonalization of a Gaussian matrix.
  case orthogonal(gain: Double)

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
    case .orthogonal(let gain):
      return orthogonal(fanIn, fanOut, gain: gain, dtype: dtype, using: &generator)
    }
  }

  /// Orthonormal vectors of length max(m, n), min(m, n) of them, laid out as [m, n].
  private func orthogonal(
    _ m: Int, _ n: Int, gain: Double, dtype: DType,
    using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let (count, length) = (Swift.min(m, n), Swift.max(m, n))
    var vectors: [[Double]] = []
    while vectors.count < count {
      var v = Tensor.normal([length], dtype: .float64, using: &generator).scalars
      for u in vectors {
        let dot = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
        for i in 0..<length { v[i] -= dot * u[i] }
      }
      let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
      if norm > 1e-6 { vectors.append(v.map { $0 / norm }) }
    }
    var w = Tensor.zeros([m, n], dtype: dtype)
    for (k, v) in vectors.enumerated() {
      for i in 0..<length {
        if m <= n { w[k, i] = gain * v[i] } else { w[i, k] = gain * v[i] }
      }
    }
    return w
  }
}
