extension Var {
  /// Class indices (stored as numbers, shape [n]) as one-hot rows of shape [n, classes], in
  /// `dtype` (the labels' own by default). The label −1 marks a padded position with no
  /// class: its row is all zeros, which the cross-entropy losses leave out.
  ///
  /// Backward: none; indices are not differentiable, so nothing flows to this node.
  public func oneHot(classes: Int, dtype: DType? = nil) -> Var {
    require(rank == 1, "oneHot: labels must be a vector, got shape \(shape)")
    return Var(
      op: "oneHot", args: [self],
      forward: { args, value in
        let labels = args[0].value
        value.prepare(shape: [labels.count, classes], dtype: dtype ?? labels.dtype)
        value.fill(with: 0)
        for i in 0..<labels.count {
          let label = labels[flat: i]
          if label == -1 { continue }
          require(
            label >= 0 && label < Double(classes) && label == label.rounded(),
            "oneHot: label \(label) at position \(i) is not a class index in 0..<\(classes) (or −1 for padding)"
          )
          value[flat: i * classes + Int(label)] = 1
        }
      },
      vectorJacobianProduct: { _, _, _ in [nil] })
  }

  /// Class indices as a constant vector, for ``oneHot(classes:)`` and the losses.
  public static func labels(_ indices: [Int], dtype: DType = .default) -> Var {
    Var.constant(Tensor(indices.map(Double.init), dtype: dtype), name: "labels")
  }
}

extension GradientCheck {
  static let oneHot = GradientCheck("oneHot (as a mask)", inputs: [.init([3, 4])]) {
    $0[0] * Var.labels([2, 0, 3], dtype: .float64).oneHot(classes: 4)
  }
}
