/// The course's recursive backward, kept for teaching: it pushes the gradient down every
/// path separately, and counts how often each node is visited.
///
/// `x.backward(s)` in the course does `grad += s` and then, for each argument of the
/// creator, `arg.backward(s · ∂op/∂arg)`. The gradients come out right, but a node reached by
/// k paths is processed k times, and everything below it as often: on a graph where each
/// level uses the one below twice, n levels cost 2ⁿ visits. ``Var/backward(_:)`` visits each
/// node once, in reverse topological order.
///
/// It recurses, so keep it to small graphs.
///
/// ```swift
/// var x = Var(1.0, name: "x")
/// var y = x
/// for _ in 0..<10 { y = y + y }          // 10 levels, each used twice
/// let visits = PathBackward.run(from: y)
/// print(visits.total)                    // 2047 visits, against 11 nodes
/// ```
public enum PathBackward {
  /// How often each node was visited.
  public struct Visits: Sendable {
    public var counts: [ObjectIdentifier: Int] = [:]
    /// The number of visits over all nodes.
    public var total: Int { counts.values.reduce(0, +) }
    /// How often `node` was visited.
    public func count(for node: Var) -> Int { counts[ObjectIdentifier(node)] ?? 0 }
  }

  /// Backpropagates from `output` path by path, adding into `grad` like
  /// ``Var/backward(_:)``, and returns the visit counts.
  @discardableResult
  public static func run(from output: Var) -> Visits {
    require(
      output.value.count == 1,
      "PathBackward: the output has shape \(output.shape); reduce it to a scalar first")
    var visits = Visits()
    let seed = Tensor(repeating: 1, shape: output.shape, dtype: output.dtype)
    noGrad { visit(output, Var.constant(seed), &visits) }
    return visits
  }

  private static func visit(_ node: Var, _ s: Var, _ visits: inout Visits) {
    visits.counts[ObjectIdentifier(node), default: 0] += 1
    guard node.requiresGrad else { return }
    if node.isLeaf {
      node.accumulateGradient(s.value)
      return
    }
    let op = node.creator!
    for (arg, g) in zip(op.args, op.vectorJacobianProduct(op.args, node, s)) {
      if let g { visit(arg, g, &visits) }
    }
  }
}
