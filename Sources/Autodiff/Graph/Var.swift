/// A node of an expression graph: a value, its gradient, and the ``Op`` that created it.
///
/// ```swift
/// let x = Var(2.0, name: "x")
/// let y = Var(3.0, name: "y")
/// let f = x.sin() + x * y
/// f.backward()
/// print(f)                 // (sin(x) + (x * y))
/// print(x.grad!.scalar)    // cos(2) + 3 = 2.5838531634528574
/// ```
///
/// `grad` holds ∂L/∂self for the last ``backward(_:)`` from an output L. Leaves accumulate
/// across calls (call ``zeroGradients()`` between steps); intermediate nodes are reset at the
/// start of every backward pass.
public final class Var {
  /// The current value.
  // Graph state is accessed one sweep at a time, never overlapping (the test suite ran
  // with dynamic exclusivity checks on), so those checks are disabled on the properties
  // every sweep touches (value, grad, creator, requiresGrad, the stale flag, and Op.args): they cost
  // about a quarter of a step on graphs of scalar nodes.
  public internal(set) var value: Tensor {
    @inline(__always) get {
      if let slot = scalarSlot { return slot.value(dtype: storedValue.dtype) }
      return storedValue
    }
    set {
      if scalarSlot != nil { leaveScalarArena() }
      storedValue = newValue
    }
    _modify {
      if scalarSlot != nil { leaveScalarArena() }
      yield &storedValue
    }
  }
  /// ∂L/∂self after ``backward(_:)``, with the shape of ``value``; nil until a gradient flows.
  public var grad: Tensor? {
    @inline(__always) get {
      if let slot = scalarSlot { return slot.gradient(dtype: storedValue.dtype) }
      if isGradStale { zeroStaleGradient() }
      return storedGrad
    }
    set {
      if scalarSlot != nil { leaveScalarArena() }
      storedGrad = newValue
      isGradStale = false
    }
    _modify {
      if scalarSlot != nil { leaveScalarArena() }
      if isGradStale { zeroStaleGradient() }
      yield &storedGrad
    }
  }
  /// The storage of ``value`` and ``grad``, except for a node of one number whose value
  /// and gradient a replay plan keeps in a ``ScalarArena`` (then `storedValue` only keeps
  /// the dtype and the shape `[]`).
  @exclusivity(unchecked) @usableFromInline var storedValue: Tensor
  @exclusivity(unchecked) var storedGrad: Tensor?
  @exclusivity(unchecked) var scalarSlot: ScalarSlot?
  /// The op that computed this node, or nil for a leaf.
  @exclusivity(unchecked) public internal(set) var creator: Op?
  /// A name used when printing the graph.
  public var name: String?
  /// Whether gradients flow to this node. Leaves made from data set it to false; a derived
  /// node requires a gradient when any argument does.
  @exclusivity(unchecked) public var requiresGrad: Bool

  /// True for nodes without a creator: inputs, parameters and constants.
  public var isLeaf: Bool { creator == nil }

  /// The graph's nodes in topological order, cached by ``topologicalOrder()``.
  var cachedOrder: [Var]?
  /// The compiled replay of the graph below this node, and the number of evaluations and
  /// backward passes before it was made (see ``CompiledReplay``).
  var replayPlan: ReplayPlan?
  var replayCalls = 0
  /// The node's position in a replay plan while the plan is being made, else −1.
  var planIndex: Int32 = -1
  /// Whether the gradient's storage holds no current value: the gradient is zero, and the
  /// next contribution overwrites the storage instead of adding to it. Set on intermediate
  /// nodes at the start of a backward pass, and by ``zeroGradients()``, which thereby
  /// costs no pass over memory; reading ``grad`` writes the zeros.
  @exclusivity(unchecked) var isGradStale = false
  /// Counts the changes of the value: a leaf's grows on every ``set(_:)`` or
  /// ``updateValue(_:)``; a derived node's is the sum of its arguments' versions when it was
  /// last computed. Versions only grow, so a node is out of date exactly when the sum of its
  /// arguments' versions is no longer its own (see ``isOutOfDate``).
  @exclusivity(unchecked) var version = 0
  /// Whether this is a constant written as a number literal, which takes the dtype of the
  /// nodes it is combined with instead of promoting them.
  var isWeaklyTyped = false
  /// The node's ``Lifetime``, once asked for.
  @usableFromInline var lifetimeToken: Lifetime?

  /// A leaf holding `value`.
  public init(_ value: Tensor, name: String? = nil, requiresGrad: Bool = true) {
    self.storedValue = value
    self.name = name
    self.requiresGrad = requiresGrad
  }

  /// A rank-0 leaf holding one number.
  public convenience init(
    _ value: Double, dtype: DType = .default, name: String? = nil, requiresGrad: Bool = true
  ) {
    self.init(Tensor(scalar: value, dtype: dtype), name: name, requiresGrad: requiresGrad)
  }

  /// A constant: a leaf that does not require a gradient.
  public static func constant(_ value: Tensor, name: String? = nil) -> Var {
    Var(value, name: name, requiresGrad: false)
  }

  /// A node computed by a new op from `args`.
  ///
  /// This is how every op is made. `forward` runs now and again on ``evaluate()``;
  /// `vectorJacobianProduct` is the differentiable backward rule; `backward`, when given,
  /// is a faster rule on tensors that must agree with it. Inside ``noGrad(_:)``, or when no
  /// argument requires a gradient and recording is off, the result is a constant leaf.
  /// Arguments that mix `Float` and `Double` are promoted to `Double` first (see
  /// ``converted(to:)``), so the rules always see one dtype.
  public init(
    op name: String, args: [Var], infix: String? = nil,
    forward: @escaping ForwardFunction,
    vectorJacobianProduct: @escaping VectorJacobianProduct,
    backward: BackwardFunction? = nil
  ) {
    let args = DTypePromotion.promoted(args)
    var value = Tensor.empty
    forward(args, &value)
    self.storedValue = value
    self.version = Var.versionSum(args)
    if GradientMode.isEnabled {
      var requires = false
      for arg in args where arg.requiresGrad {
        requires = true
        break
      }
      requiresGrad = requires
      creator = Op(
        name: name, args: args, infixSymbol: infix, forward: forward,
        vectorJacobianProduct: vectorJacobianProduct, backward: backward)
    } else {
      requiresGrad = false
    }
  }

  /// Replaces a leaf's value; call ``evaluate()`` on an output to recompute what depends on it.
  ///
  /// A leaf keeps its dtype: a value of the other dtype is converted to it, so
  /// `w.set(Tensor(scalar: 0.5, dtype: .float64))` on a `Float` parameter stores a `Float`.
  public func set(_ newValue: Tensor) {
    require(isLeaf, "set: \(name ?? "node") is computed by \(creator!.name), not a leaf")
    value = newValue.converted(to: value.dtype)
    version += 1
  }

  /// The sum of the arguments' versions.
  @inline(__always)
  static func versionSum(_ args: [Var]) -> Int {
    var total = 0
    for arg in args { total &+= arg.version }
    return total
  }

  /// Whether an argument changed since this node was computed (never, for a leaf).
  var isOutOfDate: Bool {
    guard let op = creator else { return false }
    return Var.versionSum(op.args) != version
  }

  /// Whether the value has this shape and dtype.
  @inline(__always)
  func holds(_ shape: [Int], _ dtype: DType) -> Bool {
    storedValue.dtype == dtype && storedValue.shape == shape
  }

  /// The value's shape.
  public var shape: [Int] { storedValue.shape }
  /// The value's dtype.
  public var dtype: DType { storedValue.dtype }

  /// A constant leaf sharing this node's current value: gradients stop here.
  public func detached() -> Var { Var(value, name: name, requiresGrad: false) }

  deinit {
    // Tear the graph down iteratively: dropping a long chain recursively would overflow the
    // stack. Detach the creators of arguments that nothing else holds and free them from a
    // worklist instead.
    lifetimeToken?.hasEnded = true
    replayPlan = nil
    cachedOrder = nil
    guard var op = creator else { return }
    creator = nil
    guard isKnownUniquelyReferenced(&op) else { return }
    var pending = [op]
    while let op = pending.popLast() {
      for i in op.args.indices where isKnownUniquelyReferenced(&op.args[i]) {
        if let inner = op.args[i].creator {
          op.args[i].creator = nil
          op.args[i].cachedOrder = nil
          op.args[i].replayPlan = nil
          pending.append(inner)
        }
      }
    }
  }
}

/// The storage of ``Tensor/empty``, shared by every placeholder.
let emptyBuffer = TensorBuffer(count: 0, dtype: .float64)
