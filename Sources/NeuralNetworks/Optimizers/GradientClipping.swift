import Autodiff

/// Scales all gradients together so that their global L2 norm is at most `maxNorm`.
///
/// - Returns: The global norm before clipping.
@discardableResult
public func clipGradients(_ parameters: [Var], maxNorm: Double) -> Double {
  var total = 0.0
  for p in parameters where p.grad != nil {
    total += transformGradient(p) { g, _ in g * g }
  }
  let norm = total.squareRoot()
  if norm > maxNorm && norm > 0 {
    let scale = maxNorm / norm
    for p in parameters where p.grad != nil {
      _ = transformGradient(p, { g, _ in g * scale }, write: true)
    }
  }
  return norm
}

/// Limits every gradient element to [−maxValue, maxValue].
public func clipGradients(_ parameters: [Var], maxValue: Double) {
  for p in parameters where p.grad != nil {
    _ = transformGradient(p, { g, _ in Swift.min(Swift.max(g, -maxValue), maxValue) }, write: true)
  }
}

/// Applies `f` to every gradient element in its own precision, returning the sum of the
/// results and, when `write` is set, storing them in place.
private func transformGradient(
  _ p: Var, _ f: (Double, Int) -> Double, write: Bool = false
) -> Double {
  var total = 0.0
  switch p.grad!.dtype {
  case .float32:
    p.grad!.withUnsafeMutableBufferPointer(as: Float.self) { g in
      for i in 0..<g.count {
        let y = f(Double(g[i]), i)
        total += y
        if write { g[i] = Float(y) }
      }
    }
  case .float64:
    p.grad!.withUnsafeMutableBufferPointer(as: Double.self) { g in
      for i in 0..<g.count {
        let y = f(g[i], i)
        total += y
        if write { g[i] = y }
      }
    }
  }
  return total
}
