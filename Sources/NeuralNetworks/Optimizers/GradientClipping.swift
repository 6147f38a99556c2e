import Autodiff

/// Scales all gradients together so that their global L2 norm is at most `maxNorm`.
///
/// - Returns: The global norm before clipping.
@discardableResult
public func clipGradients(_ parameters: [Var], maxNorm: Double) -> Double {
  var total = 0.0
  for p in parameters {
    guard let g = p.grad else { continue }
    for x in g.scalars { total += x * x }
  }
  let norm = total.squareRoot()
  if norm > maxNorm && norm > 0 {
    let scale = maxNorm / norm
    for p in parameters where p.grad != nil {
      for i in 0..<p.grad!.count { p.grad![flat: i] *= scale }
    }
  }
  return norm
}

/// Limits every gradient element to [−maxValue, maxValue].
public func clipGradients(_ parameters: [Var], maxValue: Double) {
  for p in parameters where p.grad != nil {
    for i in 0..<p.grad!.count {
      p.grad![flat: i] = Swift.min(Swift.max(p.grad![flat: i], -maxValue), maxValue)
    }
  }
}
