enum PowerFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T {
    T.pow(x, p)
  }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    p * x.pow(p - 1)
  }
}

enum VariablePowerFunction: BinaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ a: T, _ b: T) -> T { T.pow(a, b) }
  @inline(__always) static func derivatives<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A)
    -> (A, A)
  {
    (b * a.pow(b - 1), y * a.log())
  }
}

extension Var {
  /// Each element raised to a constant power, xᵖ.
  ///
  /// Backward: ∂L/∂x = s · p · xᵖ⁻¹.
  public func pow(_ exponent: Double) -> Var {
    elementwise(PowerFunction.self, name: "pow", p: exponent)
  }

  /// Each element raised to the corresponding element of `exponent`, aᵇ, for a > 0.
  ///
  /// Backward, from the saved output y = aᵇ: ∂L/∂a = s · b · aᵇ⁻¹, ∂L/∂b = s · y · ln a.
  public func pow(_ exponent: Var) -> Var {
    elementwise(VariablePowerFunction.self, exponent, name: "pow")
  }
}

extension GradientCheck {
  static let powConstant = GradientCheck(
    "pow (constant exponent)", inputs: [.init([4], in: 0.5...2)]
  ) { $0[0].pow(2.5) }
  static let powCube = GradientCheck("pow (cube)", inputs: [.init([4])]) { $0[0].pow(3) }
  static let powVariable = GradientCheck(
    "pow (variable exponent)", inputs: [.init([3, 2], in: 0.5...2), .init([3, 2])]
  ) { $0[0].pow($0[1]) }
}
