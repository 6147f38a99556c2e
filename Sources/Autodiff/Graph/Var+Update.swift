extension Var {
  /// Mutates a leaf's value in place, without allocating when its storage is unshared.
  /// Optimizers update parameters this way. As with ``set(_:)``, the leaf keeps its dtype.
  ///
  /// - Precondition: This node is a leaf.
  public func updateValue<R>(_ body: (inout Tensor) throws -> R) rethrows -> R {
    require(
      isLeaf, "updateValue: \(name ?? "node") is computed by \(creator!.name), not a leaf")
    let dtype = storedValue.dtype
    defer {
      if storedValue.dtype != dtype { value = value.converted(to: dtype) }
      version += 1
    }
    return try body(&value)
  }
}
