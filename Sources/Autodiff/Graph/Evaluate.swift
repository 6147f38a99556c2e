extension Var {
  /// Recomputes every node below this one from the current values of the leaves.
  ///
  /// After leaves are changed with ``set(_:)``, one call brings the whole graph up to date:
  /// each shared node is computed once, in topological order, and nodes whose shape did not
  /// change are written into their existing storage. This is what lets a training loop build
  /// its graph once and run it many times:
  ///
  /// ```swift
  /// let loss = meanSquaredError(predicted: model(x), target: t)
  /// for batch in batches {
  ///   x.set(batch.inputs); t.set(batch.targets)
  ///   loss.evaluate()
  ///   loss.zeroGradients(); loss.backward()
  ///   optimizer.update(parameters)
  /// }
  /// ```
  ///
  /// A backward pass re-evaluates by itself when a leaf changed since the last evaluation,
  /// so its gradients always belong to the current values.
  public func evaluate() {
    let below = nodesBelow()
    if let plan = currentReplayPlan(below) {
      plan.evaluate()
      return
    }
    evaluateNodeByNode(below)
  }

  /// Runs every op below this node and its own, in topological order.
  func evaluateNodeByNode(_ below: [Var]) {
    for node in below { node.recompute() }
    recompute()
  }

  /// Runs this node's op again on its arguments' current values.
  @inline(__always)
  func recompute() {
    guard let op = creator else { return }
    op.forward(op.args, &value)
    version = Var.versionSum(op.args)
  }

  /// Re-evaluates the graph below this node if any leaf changed since it was computed.
  func evaluateIfOutOfDate(_ below: [Var]) {
    if isOutOfDate || below.contains(where: \.isOutOfDate) { evaluateNodeByNode(below) }
  }
}
