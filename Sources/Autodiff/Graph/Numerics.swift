extension Var {
  /// The first node, in evaluation order, whose value contains NaN or an infinity, or nil.
  ///
  /// Since nodes are checked in the order they are computed, the node returned is the one
  /// whose op produced the first non-finite value from finite arguments (or a leaf that
  /// already held one): its ``creator`` names the culprit.
  ///
  /// ```swift
  /// if let bad = loss.firstNonFiniteNode() {
  ///   print("non-finite value from \(bad.creator?.name ?? "a leaf"): \(bad)")
  /// }
  /// ```
  public func firstNonFiniteNode() -> Var? {
    topologicalOrder().first { !$0.value.isFinite }
  }

  /// The first node whose gradient contains NaN or an infinity, in backward order.
  public func firstNonFiniteGradient() -> Var? {
    topologicalOrder().reversed().first { $0.grad.map { !$0.isFinite } ?? false }
  }
}
