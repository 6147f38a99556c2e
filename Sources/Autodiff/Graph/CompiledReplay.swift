import Foundation

/// The compiled replay of re-evaluated graphs, and the switch that turns it off.
///
/// A training loop that builds its graph once runs the same nodes in the same order at
/// every step. From the third ``Var/evaluate()`` or ``Var/backward(_:)`` of an output on,
/// the output keeps a *replay plan*: its nodes in topological order, flattened once, with
///
/// - the leaves' shapes and dtypes, which key the plan: when a leaf changes shape or dtype,
///   the plan is dropped, the graph is evaluated node by node, and a new plan is made on a
///   later call, so a stale plan is never replayed;
/// - the leaves' versions, so that an out-of-date check looks at the leaves only;
/// - the nodes of one number (rank 0) made by elementwise ops, which the plan runs itself:
///   their values and gradients are read and written straight in their storage, one
///   number at a time, from the op's ``ScalarRule`` (the same function as its kernel),
///   with no tensor, closure or reference counting per node. A graph of scalar nodes, such
///   as a micrograd-style MLP, runs several times faster this way;
/// - every other node, which the plan runs with its op's own forward and backward rules,
///   as before. Random ops therefore draw fresh values at each replay, and every node's
///   ``Var/value`` and ``Var/grad`` are current after a replay, so
///   ``Var/firstNonFiniteNode()`` still names the op that made a NaN.
///
/// The results are those of the uncompiled sweep: the same functions in the same order.
/// The one visible difference is that a rank-0 intermediate node that received no gradient
/// in a backward pass holds a zero gradient instead of a stale one. Turn the replay off to
/// compare, or in a test:
///
/// ```swift
/// CompiledReplay.withEnabled(false) {
///   loss.evaluate()
///   loss.backward()
/// }
/// ```
///
/// The environment variable `AUTODIFF_COMPILED_REPLAY=0` turns it off for a whole process.
public enum CompiledReplay {
  @TaskLocal static var isEnabled =
    ProcessInfo.processInfo.environment["AUTODIFF_COMPILED_REPLAY"] != "0"

  /// Whether graphs are replayed from compiled plans at this point.
  public static var isActive: Bool { isEnabled }

  /// Runs `body` with the compiled replay on or off (scoped to the task, like ``noGrad(_:)``).
  public static func withEnabled<R>(_ enabled: Bool, _ body: () throws -> R) rethrows -> R {
    try $isEnabled.withValue(enabled, operation: body)
  }
}

/// A graph flattened for replay; kept by its output node. See ``CompiledReplay``.
final class ReplayPlan {
  /// One node's work in the replay.
  struct Step {
    enum Kind: UInt8 { case op, scalar64, scalar32 }
    var kind: Kind
    var code: ScalarRule.Code
    var isUnary: Bool
    /// The node's index; for a scalar step, its arguments' (b = a for a unary op).
    var node: Int32
    var a: Int32
    var b: Int32
    /// Index into `rules` for a scalar step, into `ops` and `argumentStarts` for an op step.
    var extra: Int32
  }

  /// A node reference that costs no reference counting to follow: the plan's `nodes` and
  /// its output keep every node alive.
  struct NodeReference {
    let reference: Unmanaged<Var>
    init(node: Var) { reference = .passUnretained(node) }
    var node: Var { reference.takeUnretainedValue() }
  }

  /// An op step's op, followed without reference counting like its node (its node keeps
  /// it alive).
  struct OpReference {
    let reference: Unmanaged<Op>
    init(op: Op) { reference = .passUnretained(op) }
  }

  /// The nodes below the output, in topological order; the output is index `nodes.count`.
  let nodes: [Var]
  unowned(unsafe) let output: Var
  let references: UnsafeMutablePointer<NodeReference>
  let steps: [Step]
  let rules: [ScalarRule]
  /// For each op step, its op, and its arguments' indices as a range of `flatArguments`.
  let ops: UnsafeMutablePointer<OpReference>
  let argumentStarts: UnsafeMutablePointer<Int32>
  let flatArguments: UnsafeMutablePointer<Int32>
  let leaves: [Int32]
  let leafShapes: [[Int]]
  let leafTypes: [DType]
  @exclusivity(unchecked) var leafVersions: [Int]
  /// The arenas holding the scalar nodes, and their departures when the plan was made.
  let arenas: [ScalarArena]
  let arenaDepartures: [Int]
  /// Nodes outside any arena whose storage scalar steps read or write (leaves and ops'
  /// results used by scalar steps): their pointers are looked up at every replay.
  let pinned: [Int32]
  /// Op nodes outside the arenas, whose gradients go stale at the start of a backward
  /// pass, as without a plan.
  let staleable: [Int32]
  /// The value, gradient and reached flag of every node that scalar steps touch.
  let values: UnsafeMutablePointer<UnsafeMutableRawPointer?>
  let gradients: UnsafeMutablePointer<UnsafeMutableRawPointer?>
  let reached: UnsafeMutablePointer<UnsafeMutablePointer<Bool>>
  /// The reached flags of the pinned nodes (arena nodes use their arena's).
  let pinnedReached: UnsafeMutablePointer<Bool>
  let isPinned: [Bool]

  /// The plan of the graph below `output`.
  init(output: Var, below: [Var]) {
    self.nodes = below
    self.output = output
    let count = below.count + 1
    let references = UnsafeMutablePointer<NodeReference>.allocate(capacity: count)
    for i in 0..<count {
      (references + i).initialize(to: NodeReference(node: i < below.count ? below[i] : output))
    }
    self.references = references
    // Each node's position, held on the node while the plan is made.
    for i in 0..<count { references[i].node.planIndex = Int32(i) }
    defer { for i in 0..<count { references[i].node.planIndex = -1 } }

    var steps: [Step] = []
    var rules: [ScalarRule] = []
    var argumentIndices: [[Int32]] = []
    var leaves: [Int32] = []
    var isScalar = [Bool](repeating: false, count: count)
    var isPinned = [Bool](repeating: false, count: count)
    for i in 0..<count {
      let node = references[i].node
      guard let op = node.creator else {
        leaves.append(Int32(i))
        continue
      }
      let args = op.args.map(\.planIndex)
      if let rule = op.scalarRule, node.shape.isEmpty,
        op.args.allSatisfy({ $0.shape.isEmpty && $0.dtype == node.dtype })
      {
        steps.append(
          Step(
            kind: node.dtype == .float64 ? .scalar64 : .scalar32, code: rule.code,
            isUnary: args.count == 1, node: Int32(i), a: args[0],
            b: args.count > 1 ? args[1] : args[0], extra: Int32(rules.count)))
        rules.append(rule)
        isScalar[i] = true
      } else {
        steps.append(
          Step(
            kind: .op, code: .other, isUnary: false, node: Int32(i), a: 0, b: 0,
            extra: Int32(argumentIndices.count)))
        argumentIndices.append(args)
      }
    }
    for step in steps where step.kind != .op {
      for a in [step.a, step.b] where !isScalar[Int(a)] { isPinned[Int(a)] = true }
    }
    self.steps = steps
    self.rules = rules
    let ops = UnsafeMutablePointer<OpReference>.allocate(capacity: argumentIndices.count)
    let argumentStarts = UnsafeMutablePointer<Int32>.allocate(
      capacity: argumentIndices.count + 1)
    let flatArguments = UnsafeMutablePointer<Int32>.allocate(
      capacity: max(1, argumentIndices.reduce(0) { $0 + $1.count }))
    var start = 0
    for step in steps where step.kind == .op {
      let k = Int(step.extra)
      (ops + k).initialize(to: OpReference(op: references[Int(step.node)].node.creator!))
      argumentStarts[k] = Int32(start)
      for a in argumentIndices[k] {
        flatArguments[start] = a
        start += 1
      }
    }
    argumentStarts[argumentIndices.count] = Int32(start)
    (self.ops, self.argumentStarts, self.flatArguments) = (ops, argumentStarts, flatArguments)
    self.leaves = leaves
    self.isPinned = isPinned
    pinned = isPinned.indices.filter { isPinned[$0] }.map(Int32.init)
    staleable = steps.filter { $0.kind == .op && !isPinned[Int($0.node)] }.map(\.node)
    leafShapes = leaves.map { references[Int($0)].node.shape }
    leafTypes = leaves.map { references[Int($0)].node.dtype }
    leafVersions = leaves.map { references[Int($0)].node.version }

    let values = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: count)
    values.initialize(repeating: nil, count: count)
    let gradients = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: count)
    gradients.initialize(repeating: nil, count: count)
    let pinnedReached = UnsafeMutablePointer<Bool>.allocate(capacity: count)
    pinnedReached.initialize(repeating: false, count: count)
    let reached = UnsafeMutablePointer<UnsafeMutablePointer<Bool>>.allocate(capacity: count)
    for i in 0..<count { (reached + i).initialize(to: pinnedReached + i) }
    (self.values, self.gradients, self.pinnedReached, self.reached) =
      (values, gradients, pinnedReached, reached)

    // Scalar nodes already in an arena (another plan's) stay there; the others move into
    // a new one.
    let newcomers = steps.filter {
      $0.kind != .op && references[Int($0.node)].node.scalarSlot == nil
    }
    var arenas: [ScalarArena] = []
    if !newcomers.isEmpty {
      let arena = ScalarArena(count: newcomers.count)
      for (k, step) in newcomers.enumerated() {
        references[Int(step.node)].node.enterScalarArena(arena, at: Int32(k))
      }
      arenas.append(arena)
    }
    for step in steps where step.kind != .op {
      let i = Int(step.node)
      let node = references[i].node
      let slot = node.scalarSlot!
      if !arenas.contains(where: { $0 === slot.arena }) { arenas.append(slot.arena) }
      values[i] = slot.arena.value(slot.index)
      gradients[i] = node.requiresGrad ? slot.arena.gradient(slot.index) : nil
      reached[i] = slot.arena.reached + Int(slot.index)
    }
    self.arenas = arenas
    arenaDepartures = arenas.map(\.departures)
  }

  deinit {
    references.deallocate()
    ops.deallocate()
    argumentStarts.deallocate()
    flatArguments.deallocate()
    values.deallocate()
    gradients.deallocate()
    reached.deallocate()
    pinnedReached.deallocate()
  }

  @inline(__always)
  func node(_ i: Int) -> Var { references[i].node }

  /// Calls `body` with node `i`, without retaining it (the plan keeps it alive).
  @inline(__always)
  func withNode<R>(_ i: Int, _ body: (Var) -> R) -> R {
    references[i].reference._withUnsafeGuaranteedRef(body)
  }

  /// The sum of the versions of op step `k`'s arguments.
  @inline(__always)
  func argumentVersions(_ k: Int) -> Int {
    var version = 0
    for a in Int(argumentStarts[k])..<Int(argumentStarts[k + 1]) {
      version &+= withNode(Int(flatArguments[a])) { $0.version }
    }
    return version
  }

  /// Whether the plan still fits the graph: the leaves have the shapes and dtypes it was
  /// made for, and its scalar nodes are still in their arenas.
  var isValid: Bool {
    for (k, arena) in arenas.enumerated() where arena.departures != arenaDepartures[k] {
      return false
    }
    for (k, i) in leaves.enumerated()
    where !withNode(Int(i), { $0.holds(leafShapes[k], leafTypes[k]) }) {
      return false
    }
    return true
  }

  /// Whether the values were already behind the leaves when the plan was made.
  var isBehind = false

  /// Whether a leaf changed since the plan last evaluated the graph.
  var isOutOfDate: Bool {
    if isBehind { return true }
    for (k, i) in leaves.enumerated() where withNode(Int(i), { $0.version }) != leafVersions[k] {
      return true
    }
    return false
  }

  // MARK: Forward

  /// Recomputes every node from the leaves' current values.
  func evaluate() {
    for i in pinned { values[Int(i)] = node(Int(i)).storedValue.buffer.pointer }
    steps.withUnsafeBufferPointer { steps in
      for step in steps {
        switch step.kind {
        case .scalar64: forward(step, Double.self)
        case .scalar32: forward(step, Float.self)
        case .op:
          // What `recompute()` does, with the op and the arguments' versions found
          // through the plan.
          let i = Int(step.node)
          let k = Int(step.extra)
          let version = argumentVersions(k)
          withNode(i) { node in
            ops[k].reference._withUnsafeGuaranteedRef { op in op.forward(op.args, &node.value) }
            node.version = version
            if isPinned[i] { values[i] = node.storedValue.buffer.pointer }
          }
        }
      }
    }
    for (k, i) in leaves.enumerated() { leafVersions[k] = withNode(Int(i)) { $0.version } }
    isBehind = false
  }

  @inline(__always)
  private func forward<T: TensorScalar>(_ step: Step, _: T.Type) {
    let x = values[Int(step.a)].unsafelyUnwrapped.load(as: T.self)
    let y = values[Int(step.b)].unsafelyUnwrapped.load(as: T.self)
    let out = values[Int(step.node)].unsafelyUnwrapped
    let result: T
    switch step.code {
    case .add: result = x + y
    case .subtract: result = x - y
    case .multiply: result = x * y
    case .negate: result = -x
    case .relu: result = x > 0 ? x : 0
    case .other:
      let rule = rules[Int(step.extra)]
      if T.self == Double.self {
        result = unsafeBitCast(
          rule.value64(unsafeBitCast(x, to: Double.self), unsafeBitCast(y, to: Double.self)),
          to: T.self)
      } else {
        result = unsafeBitCast(
          rule.value32(unsafeBitCast(x, to: Float.self), unsafeBitCast(y, to: Float.self)),
          to: T.self)
      }
    }
    out.storeBytes(of: result, as: T.self)
  }

  // MARK: Backward

  /// Prepares a backward pass: the gradients of the scalar nodes and of the pinned op
  /// nodes start from zero, unreached; other op nodes' gradients go stale; leaves keep
  /// what they accumulated.
  func beginBackward() {
    for arena in arenas {
      arena.gradients.initializeMemory(as: UInt8.self, repeating: 0, count: arena.count * 8)
      arena.reached.update(repeating: false, count: arena.count)
    }
    for i in pinned {
      let i = Int(i)
      let node = node(i)
      values[i] = node.storedValue.buffer.pointer
      pinnedReached[i] = false
      guard node.requiresGrad else {
        gradients[i] = nil
        continue
      }
      // A pinned node holds one number, so its gradient does too.
      if node.storedGrad == nil || !node.storedGrad!.shape.isEmpty
        || node.storedGrad!.dtype != node.dtype
      {
        node.storedGrad = Tensor.zeros([], dtype: node.dtype)
      } else {
        node.storedGrad!.makeUnique()
        if node.creator != nil || node.isGradStale { node.storedGrad!.fill(with: 0) }
      }
      node.isGradStale = false
      gradients[i] = node.storedGrad!.buffer.pointer
    }
    for i in staleable { node(Int(i)).markGradientStale() }
  }

  /// Marks that the seed reached the output.
  func seeded() { reached[nodes.count].pointee = true }

  /// Passes every node's gradient on to its arguments, from the output down.
  func propagate() {
    steps.withUnsafeBufferPointer { steps in
      for step in steps.reversed() {
        switch step.kind {
        case .scalar64: backward(step, Double.self)
        case .scalar32: backward(step, Float.self)
        case .op:
          let i = Int(step.node)
          if isPinned[i] && !pinnedReached[i] { continue }
          let k = Int(step.extra)
          let passed = withNode(i) { node in
            ops[k].reference._withUnsafeGuaranteedRef { node.propagate(through: $0) }
          }
          guard passed else { continue }
          for a in Int(argumentStarts[k])..<Int(argumentStarts[k + 1]) {
            let a = Int(flatArguments[a])
            guard isPinned[a] else { continue }
            pinnedReached[a] = true
            gradients[a] = withNode(a) { $0.requiresGrad ? $0.storedGrad?.buffer.pointer : nil }
          }
        }
      }
    }
  }

  @inline(__always)
  private func backward<T: TensorScalar>(_ step: Step, _: T.Type) {
    let i = Int(step.node)
    guard reached[i].pointee, let g = gradients[i] else { return }
    let s = g.load(as: T.self)
    let (a, b) = (Int(step.a), Int(step.b))
    let (da, db): (T, T)
    switch step.code {
    case .add: (da, db) = (s, s)
    case .subtract: (da, db) = (s, -s)
    case .multiply:
      (da, db) = (
        s * values[b].unsafelyUnwrapped.load(as: T.self),
        s * values[a].unsafelyUnwrapped.load(as: T.self)
      )
    case .negate: (da, db) = (-s, 0)
    case .relu: (da, db) = (values[a].unsafelyUnwrapped.load(as: T.self) > 0 ? s : 0, 0)
    case .other:
      let x = values[a].unsafelyUnwrapped.load(as: T.self)
      let y = values[b].unsafelyUnwrapped.load(as: T.self)
      let out = values[i].unsafelyUnwrapped.load(as: T.self)
      let rule = rules[Int(step.extra)]
      if T.self == Double.self {
        let p = rule.partials64(
          unsafeBitCast(x, to: Double.self), unsafeBitCast(y, to: Double.self),
          unsafeBitCast(out, to: Double.self))
        (da, db) = (s * unsafeBitCast(p.0, to: T.self), s * unsafeBitCast(p.1, to: T.self))
      } else {
        let p = rule.partials32(
          unsafeBitCast(x, to: Float.self), unsafeBitCast(y, to: Float.self),
          unsafeBitCast(out, to: Float.self))
        (da, db) = (s * unsafeBitCast(p.0, to: T.self), s * unsafeBitCast(p.1, to: T.self))
      }
    }
    if let ga = gradients[a] {
      ga.storeBytes(of: ga.load(as: T.self) + da, as: T.self)
      reached[a].pointee = true
    }
    if !step.isUnary, let gb = gradients[b] {
      gb.storeBytes(of: gb.load(as: T.self) + db, as: T.self)
      reached[b].pointee = true
    }
  }
}

extension Var {
  /// The replay plan of the graph below this node, made on the third call of
  /// ``evaluate()`` or ``backward(_:)`` (a graph built for one step is evaluated and
  /// differentiated once each), or nil when the replay is off or does not apply.
  func currentReplayPlan(_ below: [Var]) -> ReplayPlan? {
    guard CompiledReplay.isEnabled, creator != nil else { return nil }
    if let plan = replayPlan {
      if plan.isValid { return plan }
      replayPlan = nil
      replayCalls = 0
      return nil
    }
    replayCalls += 1
    guard replayCalls >= 3 else { return nil }
    // Whether the values are behind the leaves is known node by node only now; the plan's
    // first run evaluates if they are (once: random ops draw once per evaluation).
    let isBehind = isOutOfDate || below.contains(where: \.isOutOfDate)
    let plan = ReplayPlan(output: self, below: below)
    plan.isBehind = isBehind
    replayPlan = plan
    return plan
  }
}
