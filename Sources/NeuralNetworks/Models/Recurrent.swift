import Autodiff

/// A recurrent layer: a cell applied at every step of a sequence, carrying a state from one
/// step to the next. ``RNN``, ``LSTM`` and ``GRU`` are recurrent layers.
///
/// A layer maps a batch of sequences `[batch, time, inputSize]` to the hidden state at every
/// step, `[batch, time, hiddenSize]`, so layers stack in a ``Sequential``; ``LastStep``
/// keeps the final state for sequence-to-one models, and a ``Linear`` layer applied to the
/// whole output gives sequence-to-sequence models. The sequence is unrolled into one graph
/// per sequence length; backpropagation through time is `backward()` on it.
///
/// The input projections of all steps are one matrix product on the time-major rows of the
/// sequence; each step then adds the product of the previous hidden state with the
/// recurrent weights.
open class RecurrentLayer: Module {
  /// The number of features per step of the input.
  public let inputSize: Int
  /// The number of hidden units.
  public let hiddenSize: Int

  public init(inputSize: Int, hiddenSize: Int) {
    require(
      inputSize > 0 && hiddenSize > 0,
      "\(Self.self): sizes must be positive, got \(inputSize) → \(hiddenSize)")
    self.inputSize = inputSize
    self.hiddenSize = hiddenSize
  }

  /// The states of the layer that carry over between steps (h for an RNN or GRU, h and c
  /// for an LSTM), each `[batch, hiddenSize]`.
  open var stateCount: Int { 1 }

  /// Unrolls the layer over `input` and returns the hidden state of every step (nodes of
  /// the graph, whose `grad` after a backward pass is ∂L/∂hᵗ) and the final states.
  ///
  /// - Parameters:
  ///   - input: A batch of sequences `[batch, time, inputSize]`.
  ///   - initialState: The states before the first step (``stateCount`` of them, each
  ///     `[batch, hiddenSize]`); zeros when nil.
  open func unrolled(_ input: Var, initialState: [Var]? = nil) -> (outputs: [Var], final: [Var]) {
    fatalError("\(type(of: self)) does not override unrolled(_:initialState:)")
  }

  /// The hidden state at every step: `[batch, time, hiddenSize]`.
  public override func callAsFunction(_ input: Var) -> Var {
    Var.stack(unrolled(input).outputs, along: 1)
  }

  /// Checks the input's shape and returns its batch size and length, and the input guarded
  /// against a change of shape: the unrolled graph is built for this batch size and length.
  func dimensions(of input: Var) -> (batch: Int, steps: Int, input: Var) {
    require(
      input.rank == 3 && input.shape[2] == inputSize && input.shape[1] > 0,
      "\(summary): expected input [batch, time, \(inputSize)] with time ≥ 1, got \(input.shape)")
    return (input.shape[0], input.shape[1], input.guardingShape(for: summary))
  }

  /// The initial states: the given ones, checked, or zeros.
  func states(_ given: [Var]?, batch: Int, dtype: DType) -> [Var] {
    guard let given else {
      return Array(
        repeating: Var.constant(Tensor.zeros([batch, hiddenSize], dtype: dtype)),
        count: stateCount)
    }
    require(
      given.count == stateCount && given.allSatisfy { $0.shape == [batch, hiddenSize] },
      "\(summary): expected \(stateCount) initial states of shape [\(batch), \(hiddenSize)], got \(given.map(\.shape))"
    )
    return given
  }

  /// x·W + b for every step at once, as time-major rows `[time · batch, columns]`; the rows
  /// of step t are `t·batch ..< (t + 1)·batch`.
  static func inputProjections(_ input: Var, weight: Var, bias: Var) -> Var {
    input.permuted([1, 0, 2]).reshaped([-1, input.shape[2]]).matmul(weight) + bias
  }
}

/// The last step of a sequence: `[batch, time, features]` → `[batch, features]`, for
/// sequence-to-one models such as `Sequential(LSTM(…), LastStep(), Linear(…))`.
public final class LastStep: Module {
  public override init() {}

  public override func callAsFunction(_ x: Var) -> Var {
    require(x.rank == 3, "LastStep: expected [batch, time, features], got \(x.shape)")
    return x.last(along: 1)
  }

  public override var summary: String { "LastStep" }
}

/// The uniform initialization of recurrent weights, U(−1/√h, 1/√h), as PyTorch uses.
func recurrentWeights(
  _ shape: [Int], hiddenSize: Int, dtype: DType, using generator: inout some RandomNumberGenerator
) -> Tensor {
  let a = 1 / Double(hiddenSize).squareRoot()
  return Tensor.uniform(shape, in: -a...a, dtype: dtype, using: &generator)
}
