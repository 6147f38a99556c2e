/// Contiguous storage for the values and gradients of graph nodes that hold one number,
/// used by replay plans (see ``CompiledReplay``).
///
/// A node of one number made by an elementwise op moves its value and gradient here when a
/// plan first replays it: the plan then reads and writes them in place, in memory that is
/// walked in order, without touching the node. The node's ``Var/value`` and ``Var/grad``
/// still read them (as new tensors); any other write to the node moves them back into
/// tensors, and counts a departure so that plans using the arena know to rebuild.
///
/// Each slot is 8 bytes and holds a `Float` or a `Double`, as the node's dtype says.
final class ScalarArena {
  let count: Int
  let values: UnsafeMutableRawPointer
  let gradients: UnsafeMutableRawPointer
  /// Whether a gradient reached the slot's node in the current backward pass.
  let reached: UnsafeMutablePointer<Bool>
  /// The number of nodes that moved their storage back out of this arena.
  @exclusivity(unchecked) var departures = 0

  init(count: Int) {
    self.count = count
    values = .allocate(byteCount: max(count, 1) * 8, alignment: 8)
    values.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1) * 8)
    gradients = .allocate(byteCount: max(count, 1) * 8, alignment: 8)
    gradients.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1) * 8)
    reached = .allocate(capacity: max(count, 1))
    reached.initialize(repeating: false, count: max(count, 1))
  }

  deinit {
    values.deallocate()
    gradients.deallocate()
    reached.deallocate()
  }

  @inline(__always) func value(_ index: Int32) -> UnsafeMutableRawPointer {
    values + Int(index) * 8
  }

  @inline(__always) func gradient(_ index: Int32) -> UnsafeMutableRawPointer {
    gradients + Int(index) * 8
  }

  func load(_ pointer: UnsafeMutableRawPointer, dtype: DType) -> Double {
    switch dtype {
    case .float32: Double(pointer.load(as: Float.self))
    case .float64: pointer.load(as: Double.self)
    }
  }

  func store(_ x: Double, _ pointer: UnsafeMutableRawPointer, dtype: DType) {
    switch dtype {
    case .float32: pointer.storeBytes(of: Float(x), as: Float.self)
    case .float64: pointer.storeBytes(of: x, as: Double.self)
    }
  }

  func zeroGradient(_ index: Int32) {
    gradient(index).storeBytes(of: 0, as: UInt64.self)
  }

  func addGradient(_ x: Double, at index: Int32, dtype: DType) {
    let g = gradient(index)
    store(load(g, dtype: dtype) + x, g, dtype: dtype)
    reached[Int(index)] = true
  }
}

/// Where a node keeps its value and gradient when they live in a ``ScalarArena``.
struct ScalarSlot {
  let arena: ScalarArena
  let index: Int32

  func value(dtype: DType) -> Tensor {
    Tensor(scalar: arena.load(arena.value(index), dtype: dtype), dtype: dtype)
  }

  func gradient(dtype: DType) -> Tensor? {
    guard arena.reached[Int(index)] else { return nil }
    return Tensor(scalar: arena.load(arena.gradient(index), dtype: dtype), dtype: dtype)
  }
}

/// The value of every node held in an arena, standing in for its own tensor.
let scalarPlaceholders: [DType: Tensor] = [
  .float32: Tensor(scalar: 0, dtype: .float32), .float64: Tensor(scalar: 0, dtype: .float64),
]

extension Var {
  /// Moves this node's value and gradient into `arena` at `index`.
  func enterScalarArena(_ arena: ScalarArena, at index: Int32) {
    let dtype = storedValue.dtype
    arena.store(storedValue.scalar, arena.value(index), dtype: dtype)
    if let g = storedGrad, !isGradStale, g.count == 1 {
      arena.store(g.scalar, arena.gradient(index), dtype: dtype)
      arena.reached[Int(index)] = true
    } else {
      arena.zeroGradient(index)
      arena.reached[Int(index)] = false
    }
    storedValue = scalarPlaceholders[dtype]!
    storedGrad = nil
    isGradStale = false
    scalarSlot = ScalarSlot(arena: arena, index: index)
  }

  /// Moves this node's value and gradient back into tensors of its own.
  func leaveScalarArena() {
    guard let slot = scalarSlot else { return }
    let dtype = storedValue.dtype
    scalarSlot = nil
    storedValue = slot.value(dtype: dtype)
    storedGrad = slot.gradient(dtype: dtype)
    isGradStale = false
    slot.arena.departures += 1
  }
}
