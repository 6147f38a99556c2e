extension Var {
  /// Says whether a node is still alive, for state kept beside a node without keeping the
  /// node alive, such as an optimizer's moments for each parameter.
  ///
  /// Hold the lifetime (strongly) instead of a weak reference to the node: a weak reference
  /// moves the node's reference counts out of line, which makes every later retain and
  /// release of the node several times slower (about a sixth of a small network's
  /// training step), while a lifetime leaves the node's counts where they are. Compare
  /// lifetimes with `===` to tell whether a node is the one the state was kept for; a new
  /// node at the address of a freed one has a lifetime of its own.
  ///
  /// ```swift
  /// let token = parameter.lifetime
  /// // … later, without a reference to the parameter:
  /// if token.hasEnded { /* drop the state kept for it */ }
  /// ```
  public final class Lifetime {
    /// Whether the node has been freed.
    public internal(set) var hasEnded = false

    init() {}
  }

  /// This node's ``Lifetime``, made on first use; the same object for as long as the node
  /// lives.
  @inlinable
  public var lifetime: Lifetime {
    if let token = lifetimeToken { return token }
    return makeLifetime()
  }

  @usableFromInline
  func makeLifetime() -> Lifetime {
    let token = Lifetime()
    lifetimeToken = token
    return token
  }
}
