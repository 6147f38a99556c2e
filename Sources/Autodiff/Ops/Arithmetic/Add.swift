enum AddFunction: BinaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ a: T, _ b: T) -> T { a + b }
  @inline(__always) static func derivatives<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A)
    -> (A, A)
  {
    (1, 1)
  }
}

extension Var {
  /// The elementwise sum, with NumPy broadcasting.
  ///
  /// Backward, for the upstream gradient s, each argument receives s summed over the axes
  /// along which it was broadcast: ∂L/∂a = Σ s, ∂L/∂b = Σ s. A bias added to every row
  /// thus gets the sum of the rows' gradients.
  public static func + (a: Var, b: Var) -> Var {
    // The gradient of a sum is the upstream gradient itself: the fast rule only sums it
    // over the broadcast axes.
    a.elementwise(AddFunction.self, b, name: "add", infix: "+") { args, _, s in
      for arg in args where arg.requiresGrad {
        if arg.shape == s.shape {
          arg.accumulateGradient(s)
        } else if Kernels.isRowVector(arg.shape, of: s.shape), arg.dtype == s.dtype {
          arg.withGradientBuffer { Kernels.addColumnSums(s, into: $0) }
        } else {
          arg.accumulateGradient(Kernels.sum(s, toShape: arg.shape))
        }
      }
    }
  }

  public static func + (a: Var, b: Double) -> Var { a + a.literal(b) }
  public static func + (a: Double, b: Var) -> Var { b.literal(a) + b }
}

extension GradientCheck {
  static let add = GradientCheck("add", inputs: [.init([3, 4]), .init([3, 4])]) {
    $0[0] + $0[1]
  }
  static let addBroadcast = GradientCheck(
    "add (broadcast bias)", inputs: [.init([5, 3]), .init([3])]
  ) { $0[0] + $0[1] }
  static let addBroadcastBoth = GradientCheck(
    "add (broadcast both)", inputs: [.init([4, 1]), .init([1, 3])]
  ) { $0[0] + $0[1] }
}
