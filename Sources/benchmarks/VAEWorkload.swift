import Autodiff
import NeuralNetworks

extension Benchmarks {
  /// One training step of the digits VAE through the library's `VAE` and `Trainer`:
  /// 64 → Linear 128 → ReLU → (μ, ln σ²) of 8 → z = μ + ε·σ → Linear 128 → ReLU → Linear 64,
  /// Bernoulli reconstruction (binary cross-entropy from the logits, summed over pixels) plus
  /// KL, mean over a batch of 64 images, Adam lr 1e-3. The noise ε is drawn afresh each step.
  static func vae(_ options: Options) throws {
    var rng = SeededGenerator(seed: 1)
    let batch = 64
    let model = VAE(
      inputSize: 64, hiddenSize: 128, latentSize: 8, noise: RandomSource(seed: 2), using: &rng)
    let images = Tensor.uniform([batch, 64], in: 0...1, dtype: .float32, using: &rng)
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 1e-3, epsilonPlacement: .outsideSquareRoot),
      objective: model.objective(input:target:))
    let data = Dataset(inputs: images, targets: images)
    let first = try trainer.step(on: data).loss
    let (w, t) = options.quick ? (2, 5) : (20, 200)
    var last = first
    let seconds = try median(warmup: w, timed: t) { last = try trainer.step(on: data).loss }
    stepReport(
      "vae", seconds: seconds, threads: options.threads, dtype: .float32, reps: t,
      firstLoss: first, lastLoss: last, extra: [("batch", batch)])
  }
}
