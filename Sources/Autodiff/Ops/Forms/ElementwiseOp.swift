extension Var {
  /// Makes an elementwise op y = f(x) whose fast backward is g += s · f′(x, y).
  func elementwise<F: UnaryFunction>(
    _ f: F.Type, name: String, p: Double = 0, q: Double = 0,
    vectorJacobianProduct: @escaping VectorJacobianProduct
  ) -> Var {
    Var(
      op: name, args: [self],
      forward: { args, value in Kernels.unary(f, args[0].value, p, q, into: &value) },
      vectorJacobianProduct: vectorJacobianProduct,
      backward: { args, output, upstream in
        guard let g = args[0].gradientPointer() else { return }
        Kernels.unaryBackward(
          f, x: args[0].value, y: output.value, upstream: upstream, p, q, into: g)
      })
  }

  /// Makes an elementwise op y = f(a, b) with NumPy broadcasting.
  func elementwise<F: BinaryFunction>(
    _ f: F.Type, _ other: Var, name: String, infix: String? = nil,
    vectorJacobianProduct: @escaping VectorJacobianProduct
  ) -> Var {
    Var(
      op: name, args: [self, other], infix: infix,
      forward: { args, value in
        Kernels.binary(f, args[0].value, args[1].value, into: &value, op: name)
      },
      vectorJacobianProduct: vectorJacobianProduct,
      backward: { args, output, upstream in
        let ga = args[0].gradientPointer()
        let gb = args[1].gradientPointer()
        if ga == nil && gb == nil { return }
        Kernels.binaryBackward(
          f, a: args[0].value, b: args[1].value, y: output.value, upstream: upstream,
          ga: ga, gb: gb)
      })
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
