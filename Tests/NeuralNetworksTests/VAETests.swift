import Autodiff
import Foundation
import NeuralNetworks
import Testing

@Suite("Variational autoencoder")
struct VAETests {
  @Test func shapesAndParameterCount() {
    var rng = SeededGenerator(seed: 0)
    let vae = VAE(using: &rng)
    // Encoder 64·128 + 128, two heads 2 · (128·8 + 8), decoder 8·128 + 128 + 128·64 + 64.
    #expect(vae.parameterCount == 8320 + 2 * 1032 + 1152 + 8256)
    #expect(vae.description.hasPrefix("VAE(64 → 128 → 8 → 128 → 64): 19792 parameters"))
    #expect(
      vae.namedParameters.map(\.name) == [
        "0.0.W", "0.0.b", "1.W", "1.b", "2.W", "2.b", "3.0.W", "3.0.b", "3.2.W", "3.2.b",
      ])
    #expect(vae.parameters.allSatisfy { $0.dtype == .float32 })

    let x = Var.constant(Tensor.uniform([5, 64], dtype: .float32, using: &rng))
    let (mean, logVariance) = vae.encode(x)
    #expect(mean.shape == [5, 8] && logVariance.shape == [5, 8])
    #expect(vae.latentSample(mean: mean, logVariance: logVariance).shape == [5, 8])
    #expect(vae.decode(mean).shape == [5, 64])
    #expect(vae(x).shape == [5, 64])
    let terms = vae.lossTerms(input: x, target: x)
    for term in [terms.reconstruction, terms.klDivergence, terms.loss] { #expect(term.shape == []) }
    #expect(terms.logits.shape == [5, 64])
    #expect(terms.loss.dtype == .float32 && vae(x).dtype == .float32)
    let images = vae.generatedImages(count: 3, using: &rng)
    #expect(images.shape == [3, 64])
    #expect(images.scalars.allSatisfy { $0 > 0 && $0 < 1 })
    #expect(VAE(beta: 0.5, using: &rng).summary == "VAE(64 → 128 → 8 → 128 → 64, β = 0.5)")
  }

  /// A tiny Double instance with replayed noise, so that every evaluation of the finite
  /// differences sees the same ε.
  static func tinyVAE(beta: Double) -> VAE {
    var rng = SeededGenerator(seed: 3)
    return VAE(
      inputSize: 4, hiddenSize: 3, latentSize: 2, beta: beta, dtype: .float64,
      noise: RandomSource(seed: 5, replaysEachDraw: true), using: &rng)
  }

  @Test(arguments: [1.0, 0.5])
  func lossGradientCheck(beta: Double) {
    let vae = Self.tinyVAE(beta: beta)
    var rng = SeededGenerator(seed: 4)
    let x = Var(Tensor.uniform([3, 4], in: 0.1...0.9, dtype: .float64, using: &rng))
    let loss = vae.lossTerms(input: x, target: x).loss
    let result = GradientCheck.check(loss, withRespectTo: [x] + vae.parameters, name: "VAE loss")
    #expect(result.passed, "\(result)")
  }

  @Test func reconstructionGradientCheckInTraining() {
    let vae = Self.tinyVAE(beta: 1)
    var rng = SeededGenerator(seed: 6)
    let x = Var(Tensor.uniform([3, 4], in: 0.1...0.9, dtype: .float64, using: &rng))
    let result = GradientCheck.check(
      vae(x), withRespectTo: [x] + vae.parameters, name: "VAE reconstruction")
    #expect(result.passed, "\(result)")
  }

  @Test func noiseIsFreshOnEveryEvaluation() {
    var rng = SeededGenerator(seed: 7)
    let vae = VAE(inputSize: 6, hiddenSize: 5, latentSize: 3, using: &rng)
    let x = Var.constant(Tensor.uniform([4, 6], dtype: .float32, using: &rng))
    let terms = vae.lossTerms(input: x, target: x)
    let first = (terms.reconstruction.value, terms.klDivergence.value)
    terms.loss.evaluate()
    // ε changed; μ and σ did not, so the KL term is the same.
    #expect(terms.reconstruction.value != first.0)
    #expect(terms.klDivergence.value == first.1)

    // The reconstruction samples in training mode and decodes μ in evaluation mode; one built
    // graph follows the mode at each evaluation.
    let reconstruction = vae(x)
    let sampled = reconstruction.value
    reconstruction.evaluate()
    #expect(reconstruction.value != sampled)
    vae.isTraining = false
    reconstruction.evaluate()
    let atMean = reconstruction.value
    reconstruction.evaluate()
    #expect(reconstruction.value == atMean)
    #expect(atMean == noGrad { vae.decode(vae.encode(x).mean) }.value)
    // The loss terms sample in evaluation mode too: the ELBO is an expectation over q(z | x).
    let before = terms.reconstruction.value
    terms.loss.evaluate()
    #expect(terms.reconstruction.value != before)
  }

  @Test func replayedNoiseRepeatsEachEvaluation() {
    var rng = SeededGenerator(seed: 8)
    let vae = VAE(
      inputSize: 6, hiddenSize: 5, latentSize: 3,
      noise: RandomSource(seed: 1, replaysEachDraw: true),
      using: &rng)
    let x = Var.constant(Tensor.uniform([4, 6], dtype: .float32, using: &rng))
    let loss = vae.lossTerms(input: x, target: x).loss
    let first = loss.value
    loss.evaluate()
    #expect(loss.value == first)
  }

  @Test func trainerBuildsTheGraphOnceAndDrawsNoisePerStep() throws {
    var rng = SeededGenerator(seed: 9)
    let vae = VAE(inputSize: 6, hiddenSize: 5, latentSize: 3, using: &rng)
    let images = Tensor.uniform([64, 6], dtype: .float32, using: &rng)
    let data = Dataset(inputs: images, targets: images)
    var builds = 0
    let trainer = Trainer(
      model: vae, optimizer: SGD(learningRate: 1e-9),
      objective: { input, target in
        builds += 1
        return vae.objective(input: input, target: target)
      })
    trainer.showsProgress = false
    try trainer.fit(data, epochs: 3, batchSize: 32)
    #expect(builds == 1)
    // Evaluation re-uses that graph (one more for its batch shape) and draws new ε each time.
    let first = trainer.evaluate(data).loss
    let second = trainer.evaluate(data).loss
    #expect(builds == 2)
    #expect(first != second)
    #expect(abs(first - second) < 0.1 * first)
  }

  @Test func termsMatchTheClosedFormPerImage() {
    var rng = SeededGenerator(seed: 10)
    let vae = VAE(
      inputSize: 5, hiddenSize: 4, latentSize: 2, beta: 2, dtype: .float64, using: &rng)
    // Zero weights in the heads give every image the same hand-made μ and ln σ²; a zero
    // output layer gives logits 0, so every pixel costs BCE(½, t) = ln 2 whatever t is.
    let mean = [0.5, -1.0]
    let logVariance = [0.2, -0.7]
    vae.meanHead.weight.set(Tensor.zeros([4, 2], dtype: .float64))
    vae.meanHead.bias!.set(Tensor(mean, dtype: .float64))
    vae.logVarianceHead.weight.set(Tensor.zeros([4, 2], dtype: .float64))
    vae.logVarianceHead.bias!.set(Tensor(logVariance, dtype: .float64))
    let output = vae.decoder.layers[2] as! Linear
    output.weight.set(Tensor.zeros([4, 5], dtype: .float64))
    output.bias!.set(Tensor.zeros([5], dtype: .float64))

    let kl = zip(mean, logVariance).map { m, v in 0.5 * (exp(v) + m * m - v - 1) }.reduce(0, +)
    for n in [1, 3, 7] {
      let x = Var.constant(Tensor.uniform([n, 5], dtype: .float64, using: &rng))
      let terms = vae.lossTerms(input: x, target: x)
      #expect(abs(terms.klDivergence.value.scalar - kl) < 1e-12)
      #expect(abs(terms.reconstruction.value.scalar - 5 * log(2.0)) < 1e-12)
      #expect(abs(terms.loss.value.scalar - (5 * log(2.0) + 2 * kl)) < 1e-12)
    }
  }

  @Test func seededVAELearnsDigits() throws {
    var rng = SeededGenerator(seed: 11)
    let digits = try Datasets.digits().shuffled(using: &rng).subset(Array(0..<256))
    let data = Dataset(inputs: digits.inputs, targets: digits.inputs)
    let vae = VAE(using: &rng)
    let trainer = Trainer(
      model: vae, optimizer: Adam(learningRate: 3e-3), objective: vae.objective(input:target:),
      seed: 1)
    trainer.showsProgress = false
    let before = trainer.evaluate(data).loss
    try trainer.fit(data, epochs: 15, batchSize: 32)
    let after = trainer.evaluate(data).loss
    #expect(before > 40)
    #expect(after < 0.7 * before, "negative ELBO \(before) → \(after) nats per image")
  }

  @Test func saveAndLoadRoundTrip() throws {
    var rng = SeededGenerator(seed: 12)
    let vae = VAE(inputSize: 6, hiddenSize: 5, latentSize: 3, using: &rng)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vae-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("vae.safetensors")
    try vae.save(to: url)

    let copy = VAE(inputSize: 6, hiddenSize: 5, latentSize: 3, using: &rng)
    let z = Var.constant(Tensor.normal([4, 3], dtype: .float32, using: &rng))
    let x = Var.constant(Tensor.uniform([4, 6], dtype: .float32, using: &rng))
    #expect(copy.decode(z).value != vae.decode(z).value)
    try copy.load(from: url)
    #expect(copy.decode(z).value == vae.decode(z).value)
    #expect(copy.encode(x).mean.value == vae.encode(x).mean.value)
    #expect(copy.encode(x).logVariance.value == vae.encode(x).logVariance.value)

    let wider = VAE(inputSize: 6, hiddenSize: 5, latentSize: 4, using: &rng)
    #expect(throws: DataFileError.self) { try wider.load(from: url) }
  }
}
