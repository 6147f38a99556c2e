/// The gradients of `output` with respect to `inputs`, as new `Var`s.
///
/// Unlike ``Var/backward(_:)``, which adds into `grad`, this returns the gradients and
/// leaves every `grad` untouched. With `createGraph: true` the gradients are built from
/// differentiable ops, so they can be differentiated again: higher derivatives,
/// Hessian-vector products, gradient penalties.
///
/// ```swift
/// let x = Var(2.0)
/// let y = x * x * x
/// let dy = gradients(of: y, withRespectTo: [x], createGraph: true)[0]    // 3x² = 12
/// let d2y = gradients(of: dy, withRespectTo: [x], createGraph: true)[0]  // 6x = 12
/// let d3y = gradients(of: d2y, withRespectTo: [x])[0]                    // 6
/// ```
///
/// - Parameters:
///   - output: The node to differentiate.
///   - inputs: The nodes to differentiate with respect to. An input that `output` does
///     not depend on gets zeros.
///   - seed: ∂L/∂output, of the output's shape; 1 by default when the output holds one
///     number, and required otherwise.
///   - createGraph: Whether to record the gradient computation for further differentiation.
/// - Returns: One gradient per input, each with the input's shape.
public func gradients(
  of output: Var, withRespectTo inputs: [Var], seed: Var? = nil, createGraph: Bool = false
) -> [Var] {
  gradients(
    of: output, withRespectTo: inputs, seed: seed, createGraph: createGraph, stoppingAtInputs: false
  )
}

/// The same, optionally treating the inputs as leaves: the sweep does not go below them.
/// Fused and composite ops use this to differentiate their composed expression with respect
/// to their own arguments only.
func gradients(
  of output: Var, withRespectTo inputs: [Var], seed: Var?, createGraph: Bool,
  stoppingAtInputs: Bool
) -> [Var] {
  require(
    seed != nil || output.value.count == 1,
    "gradients: the output has shape \(output.shape); pass a seed of that shape (∂L/∂output), or reduce the output to a scalar, with sum() say"
  )
  if !stoppingAtInputs { output.evaluateIfOutOfDate(output.nodesBelow()) }
  func sweep() -> [Var] {
    var grads: [ObjectIdentifier: Var] = [:]
    grads[ObjectIdentifier(output)] =
      seed ?? Var.constant(Tensor(repeating: 1, shape: output.shape, dtype: output.dtype))
    let boundary = stoppingAtInputs ? Set(inputs.map(ObjectIdentifier.init)) : []
    let order =
      stoppingAtInputs
      ? output.topologicalOrder(stoppingAt: boundary) : output.topologicalOrder()
    for node in order.reversed() {
      guard let op = node.creator, node.requiresGrad, let s = grads[ObjectIdentifier(node)],
        !boundary.contains(ObjectIdentifier(node))
      else { continue }
      let contributions = op.vectorJacobianProduct(op.args, node, s)
      for (arg, g) in zip(op.args, contributions) where arg.requiresGrad {
        guard let g else { continue }
        require(
          g.shape == arg.shape,
          "\(op.name): backward rule gave a gradient of shape \(g.shape) for an argument of shape \(arg.shape)"
        )
        let key = ObjectIdentifier(arg)
        grads[key] = grads[key].map { $0 + g } ?? g
      }
    }
    return inputs.map {
      grads[ObjectIdentifier($0)] ?? Var.constant(Tensor.zeros($0.shape, dtype: $0.dtype))
    }
  }
  return createGraph ? sweep() : noGrad(sweep)
}
