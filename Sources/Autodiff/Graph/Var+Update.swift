extension Var {
  /// Mutates a leaf's value in place, without allocating when its storage is unshared.
  /// Optimizers update parameters this way. As with ``set(_:)``, the leaf keeps its dtype.
  ///
  /// - Precondition: This node is a leaf.
  @inlinable
  public func updateValue<R>(_ body: (inout Tensor) throws -> R) rethrows -> R {
    let dtype = beginValueUpdate()
    defer { endValueUpdate(dtype) }
    return try body(&storedValue)
  }

  /// Checks that this is a leaf and takes its value out of a scalar arena; returns its dtype.
  @usableFromInline
  func beginValueUpdate() -> DType {
    require(
      isLeaf, "updateValue: \(name ?? "node") is computed by \(creator!.name), not a leaf")
    if scalarSlot != nil { leaveScalarArena() }
    return storedValue.dtype
  }

  /// Converts the value back to `dtype` if an update changed it, and counts the change.
  @usableFromInline
  func endValueUpdate(_ dtype: DType) {
    if storedValue.dtype != dtype { storedValue = storedValue.converted(to: dtype) }
    version += 1
  }
}
