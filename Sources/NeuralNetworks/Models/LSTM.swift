import Autodiff

/// A long short-term memory layer, in the course's equations. With [h_{t−1} x_t] the
/// previous hidden state next to the input:
/// ```
/// f_t = σ([h_{t−1} x_t] W_f + b_f)        forget gate
/// i_t = σ([h_{t−1} x_t] W_i + b_i)        input gate
/// c̃_t = tanh([h_{t−1} x_t] W_c + b_c)     candidate
/// c_t = f_t ⊙ c_{t−1} + i_t ⊙ c̃_t        cell state
/// o_t = σ([h_{t−1} x_t] W_o + b_o)        output gate
/// h_t = o_t ⊙ tanh(c_t)
/// ```
/// The four gates' weights are kept side by side in the course's order (forget, input,
/// candidate, output), and the stacked matrix W is split by rows into the part that
/// multiplies x (``inputWeight``, `[inputSize, 4·hiddenSize]`) and the part that multiplies
/// h (``recurrentWeight``, `[hiddenSize, 4·hiddenSize]`): [h x]·W = h·W_h + x·W_x. Each step
/// is one matrix product for the recurrence and the two fused cell ops of the engine,
/// ``Autodiff/Var/lstmCellState(preactivations:cell:)`` and
/// ``Autodiff/Var/lstmHiddenState(preactivations:cell:)``.
///
/// The forget gate's bias starts at 1, so that the cell state is kept by default; while
/// f ≈ 1 the gradient ∂E/∂c_{t−1} = ∂E/∂c_t ⊙ f_t + … does not decay, which is what lets an
/// LSTM learn dependencies over many steps.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let model = Sequential(
///   LSTM(inputSize: 8, hiddenSize: 32, using: &rng), LastStep(),
///   Linear(inputSize: 32, outputSize: 10, using: &rng))
/// print(model)
/// // Sequential: 5578 parameters
/// //   LSTM(8 → 32): 5248 parameters
/// //   LastStep
/// //   Linear(32 → 10): 330 parameters
/// ```
public final class LSTM: RecurrentLayer {
  /// W_x: `[inputSize, 4·hiddenSize]`, gates in the order forget, input, candidate, output.
  public let inputWeight: Var
  /// W_h: `[hiddenSize, 4·hiddenSize]`, in the same order.
  public let recurrentWeight: Var
  /// b: `[4·hiddenSize]`.
  public let bias: Var

  /// A layer with weights drawn from U(−1/√h, 1/√h) and the forget gate's bias set to
  /// `forgetBias` (the other biases 0).
  public init(
    inputSize: Int, hiddenSize: Int, forgetBias: Double = 1, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) {
    let h = hiddenSize
    inputWeight = Var(
      recurrentWeights([inputSize, 4 * h], hiddenSize: h, dtype: dtype, using: &generator),
      name: "Wx")
    recurrentWeight = Var(
      recurrentWeights([h, 4 * h], hiddenSize: h, dtype: dtype, using: &generator), name: "Wh")
    var b = Tensor.zeros([4 * h], dtype: dtype)
    for j in 0..<h { b[j] = forgetBias }
    bias = Var(b, name: "b")
    super.init(inputSize: inputSize, hiddenSize: hiddenSize)
  }

  /// A layer with the given parameters (for tied or loaded weights).
  public init(inputWeight: Var, recurrentWeight: Var, bias: Var) {
    let h = recurrentWeight.shape.first ?? 0
    require(
      inputWeight.rank == 2 && recurrentWeight.shape == [h, 4 * h]
        && inputWeight.shape[1] == 4 * h && bias.shape == [4 * h],
      "LSTM: weights \(inputWeight.shape), \(recurrentWeight.shape) and bias \(bias.shape) do not fit [inputSize, 4h], [h, 4h], [4h]"
    )
    self.inputWeight = inputWeight
    self.recurrentWeight = recurrentWeight
    self.bias = bias
    super.init(inputSize: inputWeight.shape[0], hiddenSize: h)
  }

  public override var ownParameters: [Var] { [inputWeight, recurrentWeight, bias] }

  /// The hidden state h and the cell state c.
  public override var stateCount: Int { 2 }

  /// The hidden states of every step, and the final (h, c).
  public override func unrolled(_ input: Var, initialState: [Var]? = nil) -> (
    outputs: [Var], final: [Var]
  ) {
    let (batch, steps, input) = dimensions(of: input)
    let initial = states(initialState, batch: batch, dtype: input.dtype)
    var (h, c) = (initial[0], initial[1])
    let projections = Self.inputProjections(input, weight: inputWeight, bias: bias)
    var outputs: [Var] = []
    for t in 0..<steps {
      let z = projections.rows((t * batch)..<((t + 1) * batch)) + h.matmul(recurrentWeight)
      c = Var.lstmCellState(preactivations: z, cell: c)
      h = Var.lstmHiddenState(preactivations: z, cell: c)
      outputs.append(h)
    }
    return (outputs, [h, c])
  }

  /// The hidden state at every step, `[batch, time, hiddenSize]`, from a zero state.
  ///
  /// The whole sequence is one op of the engine,
  /// ``Autodiff/Var/lstmSequence(inputProjections:recurrentWeight:bias:hidden:cell:batchMajor:)``,
  /// whose backward is backpropagation through time in one sweep; it reads the input
  /// projections and writes the hidden states in the batch's own order, so neither is
  /// transposed, and adds the bias itself. ``unrolled(_:initialState:)`` builds the same computation step by step,
  /// with a node per step to inspect.
  public override func callAsFunction(_ input: Var) -> Var {
    let (batch, steps, input) = dimensions(of: input)
    let zeros = states(nil, batch: batch, dtype: input.dtype)[0]
    let projections = input.reshaped([batch * steps, inputSize]).matmul(inputWeight)
    let hidden = Var.lstmSequence(
      inputProjections: projections, recurrentWeight: recurrentWeight, bias: bias,
      hidden: zeros, cell: zeros, batchMajor: true)
    return hidden.reshaped([batch, steps, hiddenSize])
  }

  public override var summary: String { "LSTM(\(inputSize) → \(hiddenSize))" }
}
