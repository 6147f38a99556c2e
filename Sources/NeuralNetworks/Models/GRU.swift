import Autodiff

/// A gated recurrent unit layer (Cho et al., 2014), in the form PyTorch also uses:
/// ```
/// r_t = σ(x_t W_r + b_r + h_{t−1} U_r + c_r)          reset gate
/// z_t = σ(x_t W_z + b_z + h_{t−1} U_z + c_z)          update gate
/// n_t = tanh(x_t W_n + b_n + r_t ⊙ (h_{t−1} U_n + c_n))  candidate
/// h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
/// ```
/// A lighter relative of the ``LSTM``: one state instead of two, three gates' weights
/// instead of four, and the same path for gradients through time while z ≈ 1. The gates'
/// weights sit side by side in the order reset, update, candidate: ``inputWeight`` is
/// `[inputSize, 3·hiddenSize]` (W), ``recurrentWeight`` `[hiddenSize, 3·hiddenSize]` (U), and
/// each has a bias (b and c). Composed from engine ops.
public final class GRU: RecurrentLayer {
  /// W: `[inputSize, 3·hiddenSize]`.
  public let inputWeight: Var
  /// U: `[hiddenSize, 3·hiddenSize]`.
  public let recurrentWeight: Var
  /// b: `[3·hiddenSize]`, added to the input products.
  public let inputBias: Var
  /// c: `[3·hiddenSize]`, added to the recurrent products (inside the reset gate's product
  /// for the candidate).
  public let recurrentBias: Var

  /// A layer with weights and biases drawn from U(−1/√h, 1/√h).
  public init(
    inputSize: Int, hiddenSize: Int, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) {
    let h = hiddenSize
    inputWeight = Var(
      recurrentWeights([inputSize, 3 * h], hiddenSize: h, dtype: dtype, using: &generator),
      name: "W")
    recurrentWeight = Var(
      recurrentWeights([h, 3 * h], hiddenSize: h, dtype: dtype, using: &generator), name: "U")
    inputBias = Var(
      recurrentWeights([3 * h], hiddenSize: h, dtype: dtype, using: &generator), name: "b")
    recurrentBias = Var(
      recurrentWeights([3 * h], hiddenSize: h, dtype: dtype, using: &generator), name: "c")
    super.init(inputSize: inputSize, hiddenSize: hiddenSize)
  }

  /// A layer with the given parameters.
  public init(inputWeight: Var, recurrentWeight: Var, inputBias: Var, recurrentBias: Var) {
    let h = recurrentWeight.shape.first ?? 0
    require(
      inputWeight.rank == 2 && inputWeight.shape[1] == 3 * h && recurrentWeight.shape == [h, 3 * h]
        && inputBias.shape == [3 * h] && recurrentBias.shape == [3 * h],
      "GRU: weights \(inputWeight.shape), \(recurrentWeight.shape) and biases \(inputBias.shape), \(recurrentBias.shape) do not fit [inputSize, 3h], [h, 3h], [3h], [3h]"
    )
    self.inputWeight = inputWeight
    self.recurrentWeight = recurrentWeight
    self.inputBias = inputBias
    self.recurrentBias = recurrentBias
    super.init(inputSize: inputWeight.shape[0], hiddenSize: h)
  }

  public override var ownParameters: [Var] {
    [inputWeight, recurrentWeight, inputBias, recurrentBias]
  }

  /// The hidden states of every step, and the final one.
  public override func unrolled(_ input: Var, initialState: [Var]? = nil) -> (
    outputs: [Var], final: [Var]
  ) {
    let (batch, steps, input) = dimensions(of: input)
    let h3 = 3 * hiddenSize
    var h = states(initialState, batch: batch, dtype: input.dtype)[0]
    let projections = Self.inputProjections(input, weight: inputWeight, bias: inputBias)
    var outputs: [Var] = []
    for t in 0..<steps {
      let x = projections.rows((t * batch)..<((t + 1) * batch))
      let r = h.matmul(recurrentWeight) + recurrentBias
      let gates = (x.columns(0..<(2 * hiddenSize)) + r.columns(0..<(2 * hiddenSize))).sigmoid()
      let reset = gates.columns(0..<hiddenSize)
      let update = gates.columns(hiddenSize..<(2 * hiddenSize))
      let candidate =
        (x.columns((2 * hiddenSize)..<h3) + reset * r.columns((2 * hiddenSize)..<h3)).tanh()
      h = candidate + update * (h - candidate)
      outputs.append(h)
    }
    return (outputs, [h])
  }

  public override var summary: String { "GRU(\(inputSize) → \(hiddenSize))" }
}
