import Autodiff

/// Updates parameters from their gradients: one step of gradient descent.
public protocol Optimizer: AnyObject {
  /// The step size; learning-rate schedules change it between steps.
  var learningRate: Double { get set }
  /// Applies one update to each parameter from its current `grad`. Parameters without a
  /// gradient are left alone.
  func update(_ parameters: [Var])
  /// What the optimizer carries from one update to the next (moments, velocities, the
  /// number of updates), for `parameters` in their order: what a checkpoint saves.
  func state(for parameters: [Var]) -> OptimizerState
  /// Sets the state saved by ``state(for:)`` for the same parameters.
  ///
  /// - Throws: ``OptimizerState/Mismatch`` when the state was saved for other parameters.
  func restore(_ state: OptimizerState, for parameters: [Var]) throws
}

/// An optimizer's state between updates: tensors for each parameter (none before its
/// first update) and counters such as the number of updates.
public struct OptimizerState: Sendable {
  /// `tensors[i]` belongs to parameter i: Adam's two moments, SGD's velocity.
  public var tensors: [[Tensor]]
  public var counters: [String: Int]

  public init(tensors: [[Tensor]], counters: [String: Int] = [:]) {
    self.tensors = tensors
    self.counters = counters
  }

  /// A state that does not fit the parameters it is restored for.
  public struct Mismatch: Error, CustomStringConvertible {
    public var description: String
  }
}

/// Per-parameter state tensors of an optimizer, created on first use.
///
/// Each parameter's tensors live in a slot of their own, found by the parameter's identity;
/// the slots of the last list of parameters updated are kept in order, so that a training
/// loop, which updates the same parameters at every step, finds them without a lookup.
final class ParameterSlots {
  /// The state of one parameter. The slot holds the parameter's ``Var/Lifetime``, not the
  /// parameter, so that an optimizer that outlives a model does not keep the model's
  /// parameters (and does not slow them down as a weak reference would); a slot whose
  /// parameter is gone is never given to another parameter that reuses its address, and
  /// is dropped.
  final class Slot {
    let lifetime: Var.Lifetime
    // Read and written by one update at a time.
    @exclusivity(unchecked) var tensors: [Tensor] = []
    /// The parameter's shape and dtype when its state tensors were made.
    @exclusivity(unchecked) var shape: [Int] = []
    @exclusivity(unchecked) var dtype = DType.float32
    init(_ parameter: Var) { lifetime = parameter.lifetime }

    /// Whether the slot holds the state of `parameter`.
    @inline(__always)
    func belongs(to parameter: Var) -> Bool { lifetime === parameter.lifetime }
  }

  private var slots: [ObjectIdentifier: Slot] = [:]
  private var recent: [Slot] = []

  /// The slot of `parameter`, made empty on first use.
  private func slot(for parameter: Var) -> Slot {
    if let slot = slots[ObjectIdentifier(parameter)], slot.belongs(to: parameter) { return slot }
    let slot = Slot(parameter)
    slots[ObjectIdentifier(parameter)] = slot
    return slot
  }

  /// The slots of `parameters`, in their order.
  private func slots(for parameters: [Var]) -> [Slot] {
    if recent.count == parameters.count {
      var same = true
      for (slot, p) in zip(recent, parameters) where !slot.belongs(to: p) {
        same = false
        break
      }
      if same { return recent }
    }
    slots = slots.filter { !$0.value.lifetime.hasEnded }
    recent = parameters.map(slot(for:))
    return recent
  }

  /// The saved form of the slots of `parameters`.
  func state(for parameters: [Var], counters: [String: Int] = [:]) -> OptimizerState {
    OptimizerState(
      tensors: parameters.map { p in
        guard let slot = slots[ObjectIdentifier(p)], slot.belongs(to: p) else { return [] }
        return slot.tensors
      }, counters: counters)
  }

  /// Sets the slots of `parameters` from a saved state, after checking every shape.
  func restore(_ state: OptimizerState, for parameters: [Var], count: Int) throws {
    guard state.tensors.count == parameters.count else {
      throw OptimizerState.Mismatch(
        description:
          "optimizer state for \(state.tensors.count) parameters, restored for \(parameters.count)"
      )
    }
    for (i, (p, saved)) in zip(parameters, state.tensors).enumerated() {
      guard
        saved.isEmpty
          || (saved.count == count
            && saved.allSatisfy { $0.shape == p.shape && $0.dtype == p.dtype })
      else {
        throw OptimizerState.Mismatch(
          description:
            "optimizer state of parameter \(i): \(saved.count) tensors of shapes \(saved.map(\.shape)), expected \(count) of shape \(p.shape) (\(p.dtype))"
        )
      }
    }
    for (p, saved) in zip(parameters, state.tensors) {
      let slot = slot(for: p)
      (slot.tensors, slot.shape, slot.dtype) = (saved, p.shape, p.dtype)
    }
  }

  /// Updates every parameter that has a gradient in place: calls `float` or `double`
  /// (by the parameter's dtype) with its value, its gradient and its `count` state tensors
  /// (zero on first use) as typed buffers; an absent state tensor is an empty buffer.
  ///
  /// A gradient of the other dtype (one assigned to `grad` by hand, such as a default
  /// `Float` tensor for a `Double` parameter) is converted to the parameter's, as
  /// `set(_:)` converts values.
  func update(
    _ parameters: [Var], stateCount count: Int, optimizer name: String,
    float: StateUpdate<Float>, double: StateUpdate<Double>
  ) {
    for (p, slot) in zip(parameters, slots(for: parameters)) {
      guard let given = p.grad else { continue }
      // A state kept for more tensors than asked for (SGD's velocity while its momentum is
      // set to 0) is left as it is.
      if count > 0 && slot.tensors.count != count {
        slot.tensors = (0..<count).map { _ in Tensor.zeros(p.shape, dtype: p.dtype) }
        (slot.shape, slot.dtype) = (p.shape, p.dtype)
      }
      require(
        count == 0 || (slot.shape == p.shape && slot.dtype == p.dtype),
        "\(name): the state of \(p.name ?? "a parameter") has shape \(slot.shape) (\(slot.dtype)), the parameter \(p.shape) (\(p.dtype))"
      )
      let gradient = given.dtype == p.dtype ? given : given.converted(to: p.dtype)
      p.updateValue { value in
        switch value.dtype {
        case .float32: slot.apply(float, count, to: &value, gradient: gradient, name)
        case .float64: slot.apply(double, count, to: &value, gradient: gradient, name)
        }
      }
    }
  }
}

/// One optimizer step on one parameter, in place: its value, its gradient, and its first
/// and second state tensors (empty buffers when the optimizer keeps fewer). The step treats
/// each element on its own: a large parameter is updated a range of elements at a time,
/// over the compute threads.
typealias StateUpdate<T> =
  @Sendable (
    _ value: UnsafeMutableBufferPointer<T>, _ gradient: UnsafeBufferPointer<T>,
    _ first: UnsafeMutableBufferPointer<T>, _ second: UnsafeMutableBufferPointer<T>
  ) -> Void

extension ParameterSlots.Slot {
  /// Runs `update` with the slot's first `count` state tensors.
  fileprivate func apply<T: TensorScalar>(
    _ update: StateUpdate<T>, _ count: Int, to value: inout Tensor, gradient: Tensor,
    _ name: String
  ) {
    gradient.withUnsafeBufferPointer(as: T.self) { g in
      value.withUnsafeMutableBufferPointer(as: T.self) { w in
        require(
          g.count == w.count,
          "\(name): a gradient of shape \(gradient.shape) for a parameter of \(w.count) elements"
        )
        switch count {
        case 0: split(update, w, g, .init(start: nil, count: 0), .init(start: nil, count: 0))
        case 1:
          tensors[0].withUnsafeMutableBufferPointer(as: T.self) { s0 in
            split(update, w, g, s0, .init(start: nil, count: 0))
          }
        default:
          tensors[0].withUnsafeMutableBufferPointer(as: T.self) { s0 in
            tensors[1].withUnsafeMutableBufferPointer(as: T.self) { s1 in
              split(update, w, g, s0, s1)
            }
          }
        }
      }
    }
  }
}

/// Runs `update` on ranges of the elements, over the compute threads for a large parameter.
private func split<T: TensorScalar>(
  _ update: StateUpdate<T>, _ w: UnsafeMutableBufferPointer<T>, _ g: UnsafeBufferPointer<T>,
  _ s0: UnsafeMutableBufferPointer<T>, _ s1: UnsafeMutableBufferPointer<T>
) {
  let buffers = Buffers(w: w, g: g, s0: s0, s1: s1)
  ComputeSettings.forEachRange(of: w.count) { range in
    let b = buffers
    update(
      .init(rebasing: b.w[range]), .init(rebasing: b.g[range]),
      b.s0.isEmpty ? b.s0 : .init(rebasing: b.s0[range]),
      b.s1.isEmpty ? b.s1 : .init(rebasing: b.s1[range]))
  }
}

/// The buffers of one update, shared by the threads that each update a range of them.
private struct Buffers<T>: @unchecked Sendable {
  let w: UnsafeMutableBufferPointer<T>
  let g: UnsafeBufferPointer<T>
  let s0: UnsafeMutableBufferPointer<T>
  let s1: UnsafeMutableBufferPointer<T>
}
