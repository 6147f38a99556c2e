/// The arithmetic in which an elementwise op's value and derivative formulas are written.
///
/// Numbers (`Float`, `Double`) have it, and so do graph nodes (`Var`s, seen through
/// ``Node``). A derivative is
/// therefore written once, as one generic function, and serves twice: on numbers, in the
/// kernel's loop that adds s · f′(x) into a gradient buffer; on nodes, as the op's
/// differentiable rule, s · f′(x) built from ops so that it can be differentiated again. A
/// compiler that fuses chains of elementwise ops can run the same functions on numbers.
///
/// Piecewise functions use ``step()`` and ``stepIncludingZero()``: on numbers a comparison,
/// on nodes a node recomputed at every evaluation with zero derivative (see
/// ``Var/piecewiseConstant(_:args:forward:)``), so a gradient graph follows the branch of
/// the point where it is evaluated.
protocol ElementwiseAlgebra: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
  static func + (a: Self, b: Self) -> Self
  static func - (a: Self, b: Self) -> Self
  static func * (a: Self, b: Self) -> Self
  static func / (a: Self, b: Self) -> Self
  static prefix func - (x: Self) -> Self
  func exp() -> Self
  func log() -> Self
  func sqrt() -> Self
  func sin() -> Self
  func cos() -> Self
  func tanh() -> Self
  func sigmoid() -> Self
  func pow(_ exponent: Self) -> Self
  /// 1 where the value is positive, else 0.
  func step() -> Self
  /// 1 where the value is positive or zero, else 0.
  func stepIncludingZero() -> Self
}

extension Float: ElementwiseAlgebra {}
extension Double: ElementwiseAlgebra {}

extension TensorScalar {
  @inline(__always) func exp() -> Self { Self.exp(self) }
  @inline(__always) func log() -> Self { Self.log(self) }
  @inline(__always) func sqrt() -> Self { squareRoot() }
  @inline(__always) func sin() -> Self { Self.sin(self) }
  @inline(__always) func cos() -> Self { Self.cos(self) }
  @inline(__always) func tanh() -> Self { Self.tanh(self) }
  /// σ(x), stable for any x: e⁻ˣ is only formed for x ≥ 0, and eˣ for x < 0.
  @inline(__always) func sigmoid() -> Self {
    if self >= 0 { return 1 / (1 + Self.exp(-self)) }
    let e = Self.exp(self)
    return e / (1 + e)
  }
  @inline(__always) func pow(_ exponent: Self) -> Self { Self.pow(self, exponent) }
  @inline(__always) func step() -> Self { self > 0 ? 1 : 0 }
  @inline(__always) func stepIncludingZero() -> Self { self >= 0 ? 1 : 0 }
}

/// A graph node seen as a term of a formula: the differentiable side of
/// ``ElementwiseAlgebra``. A number in a formula, such as the 1 in `1 - y`, becomes a
/// constant that takes the dtype of the node it is combined with.
struct Node: ElementwiseAlgebra {
  let node: Var

  init(_ node: Var) { self.node = node }

  init(floatLiteral value: Double) {
    let constant = Var.constant(Tensor(scalar: value, dtype: .float64))
    constant.isWeaklyTyped = true
    node = constant
  }

  init(integerLiteral value: Int) { self.init(floatLiteral: Double(value)) }

  static func + (a: Node, b: Node) -> Node { Node(a.node + b.node) }
  static func - (a: Node, b: Node) -> Node { Node(a.node - b.node) }
  static func * (a: Node, b: Node) -> Node { Node(a.node * b.node) }
  static func / (a: Node, b: Node) -> Node { Node(a.node / b.node) }
  static prefix func - (x: Node) -> Node { Node(-x.node) }
  func exp() -> Node { Node(node.exp()) }
  func log() -> Node { Node(node.log()) }
  func sqrt() -> Node { Node(node.sqrt()) }
  func sin() -> Node { Node(node.sin()) }
  func cos() -> Node { Node(node.cos()) }
  func tanh() -> Node { Node(node.tanh()) }
  func sigmoid() -> Node { Node(node.sigmoid()) }
  func pow(_ exponent: Node) -> Node { Node(node.pow(exponent.node)) }

  /// [x > 0], a node recomputed on every evaluation; no gradient flows through it.
  func step() -> Node {
    Node(
      .piecewiseConstant("step", args: [node]) { args, value in
        Kernels.unary(StepFunction.self, args[0].value, 0, 0, into: &value)
      })
  }

  /// [x ≥ 0], a node recomputed on every evaluation; no gradient flows through it.
  func stepIncludingZero() -> Node {
    Node(
      .piecewiseConstant("stepIncludingZero", args: [node]) { args, value in
        Kernels.unary(StepFunction.self, args[0].value, 1, 0, into: &value)
      })
  }
}

/// [x > 0] (p = 0) or [x ≥ 0] (p = 1): the steps of ``ElementwiseAlgebra``.
enum StepFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T {
    p == 0 ? x.step() : x.stepIncludingZero()
  }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  { 0 }
}
