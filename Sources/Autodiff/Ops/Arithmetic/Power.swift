enum PowerFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T {
    T.pow(x, p)
  }
  @inline(__always) static func derivative<T: TensorScalar>(_ x: T, _ y: T, _ p: T, _ q: T) -> T {
    p * T.pow(x, p - 1)
  }
}

enum VariablePowerFunction: BinaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ a: T, _ b: T) -> T { T.pow(a, b) }
  @inline(__always) static func derivatives<T: TensorScalar>(_ a: T, _ b: T, _ y: T) -> (T, T) {
    (b * T.pow(a, b - 1), y * T.log(a))
  }
}

extension Var {
  /// Each element raised to a constant power, xᵖ.
  ///
  /// Backward: ∂L/∂x = s · p · xᵖ⁻¹.
  public func pow(_ exponent: Double) -> Var {
    elementwise(PowerFunction.self, name: "pow", p: exponent) { args, _, s in
      [s * exponent * args[0].pow(exponent - 1)]
    }
  }

  /// Each element raised to the corresponding element of `exponent`, aᵇ, for a > 0.
  ///
  /// Backward, from the saved output y = aᵇ: ∂L/∂a = s · b · aᵇ⁻¹, ∂L/∂b = s · y · ln a.
  public func pow(_ exponent: Var) -> Var {
    elementwise(VariablePowerFunction.self, exponent, name: "pow") { args, y, s in
      let (a, b) = (args[0], args[1])
      return [
        (s * b * a.pow(b - 1)).summed(toShape: a.shape),
        (s * y * a.log()).summed(toShape: b.shape),
      ]
    }
  }
}

extension GradientCheck {
  public static let powConstant = GradientCheck(
    "pow (constant exponent)", inputs: [.init([4], in: 0.5...2)]
  ) { $0[0].pow(2.5) }
  public static let powCube = GradientCheck("pow (cube)", inputs: [.init([4])]) { $0[0].pow(3) }
  public static let powVariable = GradientCheck(
    "pow (variable exponent)", inputs: [.init([3, 2], in: 0.5...2), .init([3, 2])]
  ) { $0[0].pow($0[1]) }
}
