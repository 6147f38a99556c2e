extension Var {
  /// Makes an elementwise op y = f(x) from its function alone: the forward applies
  /// `f.value`; the fast backward adds s · f′(x) into the gradient and the differentiable
  /// rule builds s · f′(x) from nodes, both from the one formula `f.derivative`.
  func elementwise<F: UnaryFunction>(
    _ f: F.Type, name: String, p: Double = 0, q: Double = 0
  ) -> Var {
    let result = Var(
      op: name, args: [self],
      forward: { args, value in Kernels.unary(f, args[0].value, p, q, into: &value) },
      vectorJacobianProduct: { args, y, s in
        let derivative = F.derivative(
          Node(args[0]), Node(y), Node(floatLiteral: p), Node(floatLiteral: q))
        return [s * derivative.node]
      },
      backward: { args, output, upstream in
        guard let g = args[0].gradientPointer() else { return }
        Kernels.unaryBackward(
          f, x: args[0].value, y: output.value, upstream: upstream, p, q, into: g)
      })
    result.creator?.scalarRule = .unary(F.self, p: p, q: q)
    return result
  }

  /// Makes an elementwise op y = f(a, b) with NumPy broadcasting, from its function alone,
  /// like the unary form; each argument's gradient is summed over the axes it was
  /// broadcast along. `backward` replaces the generic fast rule where a cheaper one exists.
  func elementwise<F: BinaryFunction>(
    _ f: F.Type, _ other: Var, name: String, infix: String? = nil,
    backward: BackwardFunction? = nil
  ) -> Var {
    let result = Var(
      op: name, args: [self, other], infix: infix,
      forward: { args, value in
        Kernels.binary(f, args[0].value, args[1].value, into: &value, op: name)
      },
      vectorJacobianProduct: { args, y, s in
        let (a, b) = (args[0], args[1])
        let (da, db) = F.derivatives(Node(a), Node(b), Node(y))
        return [
          (s * da.node).sum(toShape: a.shape), (s * db.node).sum(toShape: b.shape),
        ]
      },
      backward: backward ?? { args, output, upstream in
        let ga = args[0].gradientPointer()
        let gb = args[1].gradientPointer()
        if ga == nil && gb == nil { return }
        Kernels.binaryBackward(
          f, a: args[0].value, b: args[1].value, y: output.value, upstream: upstream,
          ga: ga, gb: gb)
      })
    result.creator?.scalarRule = .binary(F.self)
    return result
  }

  /// A constant of this node's dtype holding `value`, for mixing literals with `Var`s.
  func literal(_ value: Double) -> Var {
    Var.constant(Tensor(scalar: value, dtype: dtype))
  }

  /// A constant of this node's shape and dtype made from `tensor`'s values.
  func constantLike(_ tensor: Tensor) -> Var {
    Var.constant(tensor.converted(to: dtype))
  }
}
