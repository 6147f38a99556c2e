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
final class ParameterSlots {
  private var tensors: [ObjectIdentifier: [Tensor]] = [:]

  /// The saved form of the slots of `parameters`.
  func state(for parameters: [Var], counters: [String: Int] = [:]) -> OptimizerState {
    OptimizerState(
      tensors: parameters.map { tensors[ObjectIdentifier($0)] ?? [] }, counters: counters)
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
      tensors[ObjectIdentifier(p)] = saved.isEmpty ? nil : saved
    }
  }

  /// The `count` state tensors of `parameter`, zero-initialized with its shape and dtype.
  func tensors(for parameter: Var, count: Int) -> [Tensor] {
    if let existing = tensors[ObjectIdentifier(parameter)] { return existing }
    let fresh = Array(
      repeating: Tensor.zeros(parameter.shape, dtype: parameter.dtype), count: count)
    tensors[ObjectIdentifier(parameter)] = fresh
    return fresh
  }

  func store(_ values: [Tensor], for parameter: Var) {
    tensors[ObjectIdentifier(parameter)] = values
  }

  /// Releases the state so that the stored tensors are uniquely referenced while they are
  /// updated in place (then stored back).
  func take(for parameter: Var, count: Int) -> [Tensor] {
    let values = tensors(for: parameter, count: count)
    tensors[ObjectIdentifier(parameter)] = nil
    return values
  }
}

/// Calls `body` with the parameter's value, its gradient and its state tensors as typed
/// buffers, for in-place updates in the parameter's own precision. A gradient of the other
/// dtype (one assigned to `grad` by hand, such as a default `Float` tensor for a `Double`
/// parameter) is converted to the parameter's, as `set(_:)` converts values.
func withBuffers(
  _ parameter: Var, _ gradient: Tensor, _ state: inout [Tensor],
  float: (
    UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>,
    [UnsafeMutableBufferPointer<Float>]
  ) -> Void,
  double: (
    UnsafeMutableBufferPointer<Double>, UnsafeBufferPointer<Double>,
    [UnsafeMutableBufferPointer<Double>]
  ) -> Void
) {
  func pointers<T: TensorScalar>(_ type: T.Type) -> [UnsafeMutableBufferPointer<T>] {
    (0..<state.count).map { i in state[i].withUnsafeMutableBufferPointer(as: T.self) { $0 } }
  }
  let gradient = gradient.converted(to: parameter.dtype)
  parameter.updateValue { value in
    switch value.dtype {
    case .float32:
      let states = pointers(Float.self)
      gradient.withUnsafeBufferPointer(as: Float.self) { g in
        value.withUnsafeMutableBufferPointer(as: Float.self) { w in float(w, g, states) }
      }
    case .float64:
      let states = pointers(Double.self)
      gradient.withUnsafeBufferPointer(as: Double.self) { g in
        value.withUnsafeMutableBufferPointer(as: Double.self) { w in double(w, g, states) }
      }
    }
  }
  withExtendedLifetime(state) {}
}
