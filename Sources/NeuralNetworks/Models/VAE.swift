import Autodiff

/// A variational autoencoder (Kingma & Welling, 2014) with a Gaussian encoder and a
/// Bernoulli decoder, for data in [0, 1] such as pixel intensities.
///
/// The encoder maps an input x to the mean and log-variance of a diagonal Gaussian over a
/// latent code, q(z | x) = N(μ(x), diag σ²(x)); the decoder maps a code z to the logits ℓ(z)
/// of independent Bernoulli pixels, p(x | z) = Π σ(ℓᵢ)^xᵢ (1 − σ(ℓᵢ))^(1−xᵢ); the prior is
/// p(z) = N(0, I). Training maximizes the evidence lower bound (ELBO) of each image,
/// ```
/// ln p(x) ≥ ELBO(x) = E_q[ln p(x | z)] − KL(q(z | x) ‖ p(z)),
/// ```
/// by minimizing, per image and in nats,
/// ```
/// L(x) = Σᵢ BCE(σ(ℓᵢ(z)), xᵢ) + β · ½ Σⱼ (σⱼ² + μⱼ² − ln σⱼ² − 1),
/// z = μ + ε ⊙ exp(½ ln σ²),  ε ~ N(0, I),
/// ```
/// where the sum of binary cross-entropies is −ln p(x | z) for one sample z (an unbiased
/// estimate of the expectation) and the second term is the Gaussian KL divergence in closed
/// form. With β = 1, L is the negative ELBO. Writing z as a function of μ, σ and noise that
/// does not depend on them (the reparameterization) lets the gradient reach the encoder
/// through an ordinary graph: ∂z/∂μ = 1, ∂z/∂(ln σ²) = ½ ε ⊙ σ.
///
/// The network is
/// ```
/// x → Linear → ReLU → h,   μ = Linear_μ(h),   ln σ² = Linear_σ(h)
/// z → Linear → ReLU → Linear → ℓ,   reconstruction probabilities σ(ℓ)
/// ```
/// and the noise ε is a graph node drawn afresh from the model's ``noise`` source every time
/// a built graph is evaluated, so the ``Trainer`` builds the loss graph once and each step
/// sees new samples:
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let vae = VAE(inputSize: 64, hiddenSize: 128, latentSize: 8, using: &rng)
/// print(vae)
/// // VAE(64 → 128 → 8 → 128 → 64): 19792 parameters
/// //   Sequential: 8320 parameters
/// //     Linear(64 → 128): 8320 parameters
/// //     ReLU
/// //   Linear(128 → 8): 1032 parameters
/// //   Linear(128 → 8): 1032 parameters
/// //   Sequential: 9408 parameters
/// //     Linear(8 → 128): 1152 parameters
/// //     ReLU
/// //     Linear(128 → 64): 8256 parameters
/// let trainer = Trainer(
///   model: vae, optimizer: Adam(learningRate: 1e-3), objective: vae.objective(input:target:))
/// try trainer.fit(Dataset(inputs: images, targets: images), epochs: 100, batchSize: 64)
/// ```
///
/// Sampling or the mean: the loss terms and ``objective(input:target:)`` always sample z,
/// in training and in evaluation mode alike, since the ELBO is defined as an expectation
/// over q(z | x) (``Trainer/evaluate(_:batchSize:)`` therefore reports a one-sample
/// estimate of the negative ELBO). ``callAsFunction(_:)``, the reconstruction, samples z in
/// training mode and uses z = μ in evaluation mode, which gives a deterministic
/// reconstruction to look at; the mode is read each time its graph is evaluated.
public final class VAE: Module {
  /// x → ReLU(x·W + b): the hidden layer shared by the two heads.
  public let encoder: Sequential
  /// h → μ.
  public let meanHead: Linear
  /// h → ln σ².
  public let logVarianceHead: Linear
  /// z → ReLU → logits ℓ of the Bernoulli pixels.
  public let decoder: Sequential
  /// The weight of the KL term; 1 gives the negative ELBO.
  public let beta: Double
  /// Where the noise ε of the reparameterized sample comes from: drawn from on every
  /// evaluation of a graph that samples.
  public let noise: RandomSource

  public let inputSize: Int
  public let hiddenSize: Int
  public let latentSize: Int

  /// A VAE with weights drawn by `initialization` and zero biases.
  ///
  /// - Parameters:
  ///   - inputSize: The number of inputs (pixels), each in [0, 1].
  ///   - hiddenSize: The width of the encoder's and the decoder's hidden layer.
  ///   - latentSize: The dimension of the code z.
  ///   - beta: The weight β of the KL term (β-VAE); 1 for the ELBO.
  ///   - noise: The source of ε. Pass `RandomSource(seed:replaysEachDraw: true)` to draw the
  ///     same ε on every evaluation (for a gradient check).
  public init(
    inputSize: Int = 64, hiddenSize: Int = 128, latentSize: Int = 8, beta: Double = 1,
    initialization: Initialization = .scaledNormal, dtype: DType = .default,
    noise: RandomSource = RandomSource(seed: 0), using generator: inout some RandomNumberGenerator
  ) {
    require(
      inputSize > 0 && hiddenSize > 0 && latentSize > 0,
      "VAE: sizes must be positive, got \(inputSize) → \(hiddenSize) → \(latentSize)")
    require(beta >= 0, "VAE: β \(beta) must not be negative")
    func linear(_ from: Int, _ to: Int) -> Linear {
      Linear(
        inputSize: from, outputSize: to, initialization: initialization, dtype: dtype,
        using: &generator)
    }
    encoder = Sequential(linear(inputSize, hiddenSize), Activation(.relu))
    meanHead = linear(hiddenSize, latentSize)
    logVarianceHead = linear(hiddenSize, latentSize)
    decoder = Sequential(
      linear(latentSize, hiddenSize), Activation(.relu), linear(hiddenSize, inputSize))
    self.inputSize = inputSize
    self.hiddenSize = hiddenSize
    self.latentSize = latentSize
    self.beta = beta
    self.noise = noise
  }

  public override var children: [Module] { [encoder, meanHead, logVarianceHead, decoder] }

  public override var ownRandomSources: [RandomSource] { [noise] }

  /// The parameters of q(z | x) for inputs `[n, inputSize]`: μ and ln σ², each
  /// `[n, latentSize]`.
  public func encode(_ x: Var) -> (mean: Var, logVariance: Var) {
    require(
      x.rank == 2 && x.shape[1] == inputSize,
      "VAE: input of shape \(x.shape) is not [n, \(inputSize)]")
    let h = encoder(x)
    return (meanHead(h), logVarianceHead(h))
  }

  /// The reparameterized sample z = μ + ε ⊙ exp(½ ln σ²), ε ~ N(0, I) drawn from ``noise``
  /// afresh on every evaluation.
  ///
  /// Backward: ∂z/∂μ = 1, ∂z/∂(ln σ²) = ½ ε ⊙ exp(½ ln σ²); ε receives nothing.
  public func latentSample(mean: Var, logVariance: Var) -> Var {
    require(
      mean.shape == logVariance.shape,
      "VAE: mean \(mean.shape) and log-variance \(logVariance.shape) differ")
    let epsilon = Var.standardNormal(like: mean, source: noise)
    return mean + epsilon * (logVariance * 0.5).exp()
  }

  /// The decoder's logits ℓ(z) for codes `[n, latentSize]`: `[n, inputSize]`.
  public func decodedLogits(_ z: Var) -> Var {
    require(
      z.rank == 2 && z.shape[1] == latentSize,
      "VAE: code of shape \(z.shape) is not [n, \(latentSize)]")
    return decoder(z)
  }

  /// The Bernoulli means σ(ℓ(z)) for codes `[n, latentSize]`: the decoded images,
  /// `[n, inputSize]`, each value in (0, 1).
  public func decode(_ z: Var) -> Var { decodedLogits(z).sigmoid() }

  /// The reconstruction probabilities σ(ℓ(z)) of inputs `[n, inputSize]`, with z sampled
  /// from q(z | x) in training mode and z = μ in evaluation mode (read at evaluation).
  public override func callAsFunction(_ x: Var) -> Var {
    let (mean, logVariance) = encode(x)
    let epsilon = Var.standardNormal(like: mean, source: noise)
    // One built graph serves both modes; the graph holds the module (never the reverse).
    let gated = Var.composite(name: "noiseInTraining", args: [epsilon]) { [self] e in
      isTraining ? e[0] : e[0] * 0
    }
    return decode(mean + gated * (logVariance * 0.5).exp())
  }

  /// The two terms of the loss of a batch, each a mean over its images, in nats per image.
  public struct LossTerms {
    /// −ln p(x | z) for one sampled z: Σᵢ BCE(σ(ℓᵢ), tᵢ) over the pixels, mean over images.
    public var reconstruction: Var
    /// KL(q(z | x) ‖ N(0, I)) = ½ Σⱼ (σⱼ² + μⱼ² − ln σⱼ² − 1), mean over images.
    public var klDivergence: Var
    /// reconstruction + β · klDivergence: the negative ELBO when β = 1.
    public var loss: Var
    /// The decoder's logits ℓ of the sampled codes, `[n, inputSize]`.
    public var logits: Var
  }

  /// The loss terms of a batch of inputs `[n, inputSize]` reconstructing `target` (the inputs
  /// themselves, for a plain VAE), with a sampled z.
  ///
  /// Backward (through the engine), for the loss L of a batch of n images:
  /// ```
  /// ∂L/∂ℓ      = (σ(ℓ) − t) / n
  /// ∂L/∂μ      = ∂L/∂z + β μ / n
  /// ∂L/∂ln σ²  = ∂L/∂z ⊙ ½ ε ⊙ σ + β (σ² − 1) / 2n
  /// ```
  public func lossTerms(input: Var, target: Var) -> LossTerms {
    require(
      target.shape == input.shape,
      "VAE: target \(target.shape) and input \(input.shape) differ")
    let (mean, logVariance) = encode(input)
    let logits = decodedLogits(latentSample(mean: mean, logVariance: logVariance))
    let reconstruction =
      binaryCrossEntropy(logits: logits, target: target, reduction: .sum)
      / input.count(along: 0)
    let klDivergence = gaussianKLDivergence(
      mean: mean, logVariance: logVariance, reduction: .mean)
    let loss = beta == 1 ? reconstruction + klDivergence : reconstruction + klDivergence * beta
    return LossTerms(
      reconstruction: reconstruction, klDivergence: klDivergence, loss: loss, logits: logits)
  }

  /// What the ``Trainer`` minimizes: the mean over the batch's images of
  /// reconstruction + β·KL (the negative ELBO in nats per image when β = 1). Its output is
  /// the decoder's logits of the sampled codes.
  ///
  /// ```swift
  /// Trainer(model: vae, optimizer: Adam(), objective: vae.objective(input:target:))
  /// ```
  public func objective(input: Var, target: Var) -> Objective {
    let terms = lossTerms(input: input, target: target)
    return Objective(loss: terms.loss, output: terms.logits)
  }

  /// `count` images decoded from codes drawn from the prior N(0, I) with `generator`: the
  /// Bernoulli means, `[count, inputSize]`.
  public func generatedImages(count: Int, using generator: inout some RandomNumberGenerator)
    -> Tensor
  {
    require(count > 0, "VAE: cannot generate \(count) images")
    let dtype = meanHead.weight.dtype
    let z = Tensor.normal([count, latentSize], dtype: dtype, using: &generator)
    return noGrad { decode(Var.constant(z)).value }
  }

  public override var summary: String {
    let sizes = [inputSize, hiddenSize, latentSize, hiddenSize, inputSize]
    return "VAE(" + sizes.map(String.init).joined(separator: " → ")
      + (beta == 1 ? ")" : ", β = \(beta))")
  }
}
