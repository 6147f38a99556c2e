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
    let plan = currentReplayPlan(below)
    if let plan {
      if plan.isOutOfDate { plan.evaluate() }
      plan.beginBackward()
    } else {
      evaluateIfOutOfDate(below)
      for node in below where !node.isLeaf { node.markGradientStale() }
      if !isLeaf { markGradientStale() }
    }
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
      // ∂self/∂self = 1, added in place.
      if requiresGrad {
        withGradientBuffer { g in
          switch dtype {
          case .float32: g.assumingMemoryBound(to: Float.self).pointee += 1
          case .float64: g.assumingMemoryBound(to: Double.self).pointee += 1
          }
        }
      }
    }
    if let plan {
      plan.seeded()
      plan.propagate()
      return
    }
    propagate()
    for node in below.reversed() { node.propagate() }
  }

  /// Passes this node's gradient on to its creator's arguments; false when there was none
  /// to pass.
  @inline(__always)
  @discardableResult
  func propagate() -> Bool {
    guard let op = creator else { return false }
    return propagate(through: op)
  }

  /// ``propagate()`` with this node's creator `op` given.
  @inline(__always)
  func propagate(through op: Op) -> Bool {
    guard requiresGrad, !isGradStale, let upstream = grad else { return false }
    if let backward = op.backward {
      backward(op.args, self, upstream)
    } else {
      let grads = noGrad {
        op.vectorJacobianProduct(op.args, self, Var.constant(upstream))
      }
      for (arg, g) in zip(op.args, grads) where arg.requiresGrad {
        if let g { arg.accumulateGradient(g.value) }
      }
    }
    return true
  }

  /// Sets the gradient of every node in this graph to zero, keeping the storage.
  public func zeroGradients() {
    if isLeaf {
      zeroOwnGradient()
      return
    }
    for node in nodesBelow() + [self] { node.zeroOwnGradient() }
  }

  /// Sets this node's gradient to zero, if it has one: the storage is marked stale, and
  /// zeroed only when it is read before a contribution overwrites it.
  private func zeroOwnGradient() {
    if let slot = scalarSlot {
      slot.arena.zeroGradient(slot.index)
    } else if storedGrad != nil {
      isGradStale = true
    }
  }

  /// Writes the zeros of a stale gradient (see ``isGradStale``).
  func zeroStaleGradient() {
    isGradStale = false
    if storedGrad != nil { storedGrad!.fill(with: 0) }
  }

  /// Adds `contribution` (of this node's shape) to ``grad``.
  ///
  /// Backward rules call this for each argument. The first contribution after a reset is
  /// copied into the existing storage, so repeated passes do not allocate.
  /// A contribution of the other dtype is converted to this node's.
  public func accumulateGradient(_ contribution: Tensor) {
    guard requiresGrad else { return }
    require(
      contribution.shape == shape,
      "backward: gradient of shape \(contribution.shape) for a node of shape \(shape)")
    if let slot = scalarSlot {
      slot.arena.addGradient(contribution.scalar, at: slot.index, dtype: dtype)
      return
    }
    if contribution.dtype != storedValue.dtype {
      accumulateGradient(contribution.converted(to: storedValue.dtype))
      return
    }
    if storedGrad == nil || storedGrad!.shape != storedValue.shape
      || storedGrad!.dtype != storedValue.dtype
    {
      storedGrad = contribution
    } else if isGradStale {
      storedGrad!.assign(contribution)
    } else {
      storedGrad!.makeUnique()
      Kernels.addInPlace(contribution, into: storedGrad!.buffer.pointer)
    }
    isGradStale = false
  }

  /// Calls `body` with this node's gradient storage ready for in-place accumulation:
  /// allocated, unshared, and zeroed if it held a stale value. Fast backward rules add into it.
  public func withGradientBuffer<R>(_ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
    if let slot = scalarSlot {
      slot.arena.reached[Int(slot.index)] = true
      return try withExtendedLifetime(slot.arena) { try body(slot.arena.gradient(slot.index)) }
    }
    if storedGrad == nil || storedGrad!.shape != storedValue.shape
      || storedGrad!.dtype != storedValue.dtype
    {
      storedGrad = Tensor.zeros(storedValue.shape, dtype: storedValue.dtype)
    } else if isGradStale {
      storedGrad!.fill(with: 0)
    } else {
      storedGrad!.makeUnique()
    }
    isGradStale = false
    return try withExtendedLifetime(storedGrad!.buffer) { try body(storedGrad!.buffer.pointer) }
  }

  /// Marks the gradient as stale at the start of a backward pass: the next contribution
  /// replaces it. (A node held in a scalar arena starts again from zero instead.)
  @inline(__always)
  func markGradientStale() {
    if let slot = scalarSlot {
      slot.arena.zeroGradient(slot.index)
      slot.arena.reached[Int(slot.index)] = false
    } else {
      isGradStale = true
    }
  }

  /// The gradient storage for fast rules, or nil when this node takes no gradient.
  func gradientPointer() -> UnsafeMutableRawPointer? {
    guard requiresGrad else { return nil }
    return withGradientBuffer { $0 }
  }

  /// The gradient storage for a fast rule that writes every element of its contribution at
  /// once, and whether to overwrite it (the gradient was stale, so its storage is not
  /// zeroed first) or add to it; nil when this node takes no gradient.
  func gradientDestination() -> (pointer: UnsafeMutableRawPointer, overwrite: Bool)? {
    guard requiresGrad else { return nil }
    if scalarSlot == nil, isGradStale, storedGrad != nil,
      storedGrad!.shape == storedValue.shape, storedGrad!.dtype == storedValue.dtype
    {
      isGradStale = false
      storedGrad!.makeUnique()
      return (storedGrad!.buffer.pointer, true)
    }
    return (withGradientBuffer { $0 }, false)
  }
}

extension Var {
  @available(*, deprecated, renamed: "zeroGradients()")
  public func zeroGrad() { zeroGradients() }
}
