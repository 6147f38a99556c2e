extension Var {
  /// Class indices (stored as numbers, shape [n]) as one-hot rows of shape [n, classes].
  ///
  /// Backward: none; indices are not differentiable, so nothing flows to this node.
  public func oneHot(classes: Int) -> Var {
    precondition(rank == 1, "oneHot: labels must be a vector, got shape \(shape)")
    return Var(
      op: "oneHot", args: [self],
      forward: { args, value in
        let labels = args[0].value
        value.prepare(shape: [labels.count, classes], dtype: labels.dtype)
        value.fill(with: 0)
        for i in 0..<labels.count {
          let label = Int(labels[flat: i])
          precondition(
            label >= 0 && label < classes, "oneHot: label \(label) out of range 0..<\(classes)")
          value[flat: i * classes + label] = 1
        }
      },
      vectorJacobianProduct: { _, _, _ in [nil] })
  }

  /// Class indices as a constant vector, for ``oneHot(classes:)`` and the losses.
  public static func labels(_ indices: [Int], dtype: DType = .float32) -> Var {
    Var.constant(Tensor(indices.map(Double.init), dtype: dtype), name: "labels")
  }
}

extension GradientCheck {
  public static let oneHot = GradientCheck("oneHot (as a mask)", inputs: [.init([3, 4])]) {
    $0[0] * Var.labels([2, 0, 3], dtype: .float64).oneHot(classes: 4)
  }
}
