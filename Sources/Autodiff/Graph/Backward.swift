extension Var {
  /// Backpropagates from this node: adds ∂self/∂v to the `grad` of every node v below it.
  ///
  /// The sweep seeds this node's gradient with 1 (or `seed`, which has this node's shape),
  /// then visits the nodes in reverse topological order, so each node has its complete
  /// gradient before it passes it on. Leaf gradients accumulate: calling `backward()` twice
  /// without ``zeroGradients()`` adds the gradients twice, which is how gradients of several
  /// losses are summed. Intermediate gradients are recomputed on every pass. If a leaf
  /// changed since the graph was last evaluated, the graph is evaluated first, so the
  /// gradients are those at the current values.
  ///
  /// - Parameter seed: ∂L/∂self, of this node's shape. It may be left out only when this
  ///   node holds one number (a loss), where it is 1: for an output of several numbers the
  ///   gradient of what is wanted (their sum, say) must be said.
  public func backward(_ seed: Tensor? = nil) {
    let below = nodesBelow()
    evaluateIfOutOfDate(below)
    for node in below where !node.isLeaf { node.isGradStale = true }
    if !isLeaf { isGradStale = true }
    if let seed {
      require(
        seed.shape == value.shape,
        "backward: seed of shape \(seed.shape) for a node of shape \(value.shape)")
      accumulateGradient(seed)
    } else {
      require(
        value.count == 1,
        "backward: the output has shape \(value.shape); pass a seed of that shape (∂L/∂output), or reduce the output to a scalar, with sum() say"
      )
      accumulateGradient(Tensor(repeating: 1, shape: value.shape, dtype: value.dtype))
    }
    propagate(from: self)
    for node in below.reversed() { propagate(from: node) }
  }

  /// Passes `node`'s gradient on to its creator's arguments.
  @inline(__always)
  private func propagate(from node: Var) {
    guard let op = node.creator, node.requiresGrad, let upstream = node.grad,
      !node.isGradStale
    else { return }
    if let backward = op.backward {
      backward(op.args, node, upstream)
    } else {
      let grads = noGrad {
        op.vectorJacobianProduct(op.args, node, Var.constant(upstream))
      }
      for (arg, g) in zip(op.args, grads) where arg.requiresGrad {
        if let g { arg.accumulateGradient(g.value) }
      }
    }
  }

  /// Sets the gradient of every node in this graph to zero, keeping the storage.
  public func zeroGradients() {
    for node in nodesBelow() + [self] where node.grad != nil {
      node.grad!.fill(with: 0)
      node.isGradStale = false
    }
  }

  /// Adds `contribution` (of this node's shape) to ``grad``.
  ///
  /// Backward rules call this for each argument. The first contribution after a reset is
  /// copied into the existing storage, so repeated passes do not allocate.
  /// A contribution of the other dtype is converted to this node's.
  public func accumulateGradient(_ contribution: Tensor) {
    guard requiresGrad else { return }
    require(
      contribution.shape == value.shape,
      "backward: gradient of shape \(contribution.shape) for a node of shape \(value.shape)")
    if contribution.dtype != value.dtype {
      accumulateGradient(contribution.converted(to: value.dtype))
      return
    }
    if grad == nil || grad!.shape != value.shape || grad!.dtype != value.dtype {
      grad = contribution
    } else if isGradStale {
      grad!.assign(contribution)
    } else {
      grad!.makeUnique()
      Kernels.addInPlace(contribution, into: grad!.buffer.pointer)
    }
    isGradStale = false
  }

  /// Calls `body` with this node's gradient storage ready for in-place accumulation:
  /// allocated, unshared, and zeroed if it held a stale value. Fast backward rules add into it.
  public func withGradientBuffer<R>(_ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
    if grad == nil || grad!.shape != value.shape || grad!.dtype != value.dtype {
      grad = Tensor.zeros(value.shape, dtype: value.dtype)
    } else if isGradStale {
      grad!.fill(with: 0)
    } else {
      grad!.makeUnique()
    }
    isGradStale = false
    return try withExtendedLifetime(grad!.buffer) { try body(grad!.buffer.pointer) }
  }

  /// The gradient storage for fast rules, or nil when this node takes no gradient.
  func gradientPointer() -> UnsafeMutableRawPointer? {
    guard requiresGrad else { return nil }
    return withGradientBuffer { $0 }
  }
}

extension Var {
  @available(*, deprecated, renamed: "zeroGradients()")
  public func zeroGrad() { zeroGradients() }
}
