extension Var {
  /// Recomputes every node below this one from the current values of the leaves.
  ///
  /// After leaves are changed with ``set(_:)``, one call brings the whole graph up to date:
  /// each shared node is computed once, in topological order, and nodes whose shape did not
  /// change are written into their existing storage. This is what lets a training loop build
  /// its graph once and run it many times:
  ///
  /// ```swift
  /// let loss = meanSquaredError(predicted: model(x), expected: t)
  /// for batch in batches {
  ///   x.set(batch.inputs); t.set(batch.targets)
  ///   loss.evaluate()
  ///   loss.zeroGrad(); loss.backward()
  ///   optimizer.update(parameters)
  /// }
  /// ```
  public func evaluate() {
    for node in nodesBelow() {
      guard let op = node.creator else { continue }
      op.forward(op.args, &node.value)
    }
    if let op = creator { op.forward(op.args, &value) }
  }
}
