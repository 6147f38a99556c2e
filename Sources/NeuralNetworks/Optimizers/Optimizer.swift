import Autodiff

/// Updates parameters from their gradients: one step of gradient descent.
public protocol Optimizer: AnyObject {
  /// The step size; learning-rate schedules change it between steps.
  var learningRate: Double { get set }
  /// Applies one update to each parameter from its current `grad`. Parameters without a
  /// gradient are left alone.
  func update(_ parameters: [Var])
}

/// Per-parameter state tensors of an optimizer, created on first use.
final class OptimizerState {
  private var tensors: [ObjectIdentifier: [Tensor]] = [:]

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
/// buffers, for in-place updates in the parameter's own precision.
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
