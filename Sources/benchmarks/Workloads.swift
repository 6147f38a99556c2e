import Autodiff
import Foundation
import NeuralNetworks

extension Benchmarks {
  /// C = A·B for square Float32 matrices.
  static func gemm(_ options: Options) throws {
    var rng = SeededGenerator(seed: 1)
    let sizes = options.quick ? [128, 256] : [128, 256, 512, 1024]
    for n in options.size.map({ [$0] }) ?? sizes {
      let a = Var.constant(Tensor.normal([n, n], dtype: .float32, using: &rng))
      let b = Var.constant(Tensor.normal([n, n], dtype: .float32, using: &rng))
      let c = a.matmul(b)
      let timed = options.quick ? 2 : max(10, Int(2e10 / Double(2 * n * n * n)))
      // One element of B is rewritten before each product, so that every product packs B
      // as a product with a new B does (a B used unchanged is packed only once).
      let seconds = median(warmup: options.quick ? 1 : 3, timed: timed) {
        b.updateValue { $0[0, 0] = $0[0, 0] }
        c.evaluate()
      }
      report([
        ("workload", "gemm"), ("n", n), ("metric", "gflops"),
        ("value", 2 * Double(n * n * n) / seconds / 1e9), ("threads", options.threads),
        ("dtype", "f32"), ("reps", timed), ("kernels", ComputeSettings.kernelName),
      ])
    }
  }

  /// Trains an MLP classifier with the library's driver on random data.
  static func mlpStep(
    name: String, sizes: [Int], activation: ActivationFunction, batch: Int, warmup: Int,
    timed: Int, options: Options
  ) throws {
    var rng = SeededGenerator(seed: 1)
    let batch = options.batch ?? batch
    let model = MLP(sizes: sizes, activation: activation, using: &rng)
    let x = Tensor.normal([batch, sizes[0]], dtype: .float32, using: &rng)
    let labels = (0..<batch).map { _ in Int.random(in: 0..<sizes.last!, using: &rng) }
    let data = Dataset(inputs: x, targets: Tensor(labels.map(Double.init), dtype: .float32))
    let trainer = Trainer(
      model: model, optimizer: SGD(learningRate: 0.1),
      loss: { crossEntropy(logits: $0, labels: $1) })
    let first = try trainer.step(on: data).loss
    let (w, t) = options.quick ? (2, 5) : (warmup, timed)
    var last = first
    let seconds = try median(warmup: w, timed: t) { last = try trainer.step(on: data).loss }
    stepReport(
      name, seconds: seconds, threads: options.threads, dtype: .float32, reps: t,
      firstLoss: first, lastLoss: last, extra: [("batch", batch)])
  }

  static func mlpMNIST(_ options: Options) throws {
    try mlpStep(
      name: "mlp-mnist", sizes: [784, 256, 10], activation: .relu, batch: 64, warmup: 20,
      timed: 200, options: options)
  }

  static func mlpQS(_ options: Options) throws {
    try mlpStep(
      name: "mlp-qs", sizes: [13 * 21, 40, 3], activation: .sigmoid, batch: 32, warmup: 50,
      timed: 1000, options: options)
  }

  /// A micrograd-style MLP 2 → 16 → 16 → 1 where every number is its own scalar `Var`.
  static func scalarMLP(_ options: Options) throws {
    var rng = SeededGenerator(seed: 1)
    func neuron(_ inputs: Int) -> (w: [Var], b: Var) {
      (
        (0..<inputs).map { _ in Var(Double.random(in: -1...1, using: &rng), dtype: .float64) },
        Var(0.0, dtype: .float64)
      )
    }
    let sizes = [2, 16, 16, 1]
    let layers = (0..<3).map { l in (0..<sizes[l + 1]).map { _ in neuron(sizes[l]) } }
    let parameters = layers.flatMap { $0.flatMap { $0.w + [$0.b] } }
    let points = (0..<100).map { _ in
      [Double.random(in: -2...2, using: &rng), Double.random(in: -2...2, using: &rng)]
    }
    let targets = points.map { Foundation.sin($0[0]) * Foundation.cos($0[1]) }

    let buildStart = DispatchTime.now().uptimeNanoseconds
    var squaredErrors: [Var] = []
    for (point, target) in zip(points, targets) {
      var activations = point.map { Var($0, dtype: .float64, requiresGrad: false) }
      for (l, layer) in layers.enumerated() {
        activations = layer.map { neuron in
          var total = neuron.b
          for (w, a) in zip(neuron.w, activations) { total = total + w * a }
          return l < 2 ? total.relu() : total
        }
      }
      let difference = activations[0] - target
      squaredErrors.append(difference * difference)
    }
    var loss = squaredErrors[0]
    for e in squaredErrors.dropFirst() { loss = loss + e }
    loss = loss * (1.0 / 100)

    let nodes = loss.topologicalOrder().count
    let buildSeconds = Double(DispatchTime.now().uptimeNanoseconds - buildStart) / 1e9
    func step() {
      loss.evaluate()
      for p in parameters { p.grad?.fill(with: 0) }
      loss.backward()
      for p in parameters {
        let g = p.grad![flat: 0]
        p.updateValue { $0[flat: 0] -= 0.05 * g }
      }
    }
    let first = loss.value.scalar
    let (w, t) = options.quick ? (1, 3) : (2, 20)
    let seconds = median(warmup: w, timed: t, step)
    stepReport(
      "scalar-mlp", seconds: seconds, threads: options.threads, dtype: .float64, reps: t,
      firstLoss: first, lastLoss: loss.value.scalar,
      extra: [
        ("nodes", nodes), ("build_ms", buildSeconds * 1000),
        ("ns_per_node_step", seconds / Double(nodes) * 1e9),
      ])
  }

  /// Hopfield recall: 1024 bipolar units, 100 Hebbian patterns (W = XᵀX/P − I, no bias),
  /// 100 probes with 20% of the bits flipped, synchronous updates x ← sign(x·W) by
  /// `HopfieldNetwork.recallSynchronously` until nothing changes (≤ 20 sweeps), with the
  /// tie rule sign(0) = 1. W is built from the network's parameters at the first recall and
  /// kept while they are unchanged (`weightValue`), as the peers build W once outside the
  /// timed loop; the product keeps W's packed panels across sweeps and recalls.
  static func hopfield(_ options: Options) throws {
    let (n, p) = (1024, 100)
    var rng = SeededGenerator(seed: 1)
    var patterns = Tensor.zeros([p, n], dtype: .float32)
    for i in 0..<patterns.count { patterns[flat: i] = Bool.random(using: &rng) ? 1 : -1 }
    let network = HopfieldNetwork(unitCount: n)
    network.storeHebbian(patterns, meanBias: false)
    var probes = patterns
    for i in 0..<probes.count where Double.random(in: 0..<1, using: &rng) < 0.2 {
      probes[flat: i] = -probes[flat: i]
    }
    var recall: HopfieldNetwork.Recall?
    let (warmup, timed) = options.quick ? (1, 2) : (2, 10)
    let seconds = median(warmup: warmup, timed: timed) {
      recall = network.recallSynchronously(probes, maxSweeps: 20)
    }
    let final = recall!.states.rowScalars
    let exact = zip(final, patterns.rowScalars).filter { $0 == $1 }.count
    // Sweeps run: the changing ones, plus the one that found no change when all settled.
    let settled = recall!.isFixedPoint.allSatisfy { $0 }
    let sweeps = min(recall!.sweeps.max()! + (settled ? 1 : 0), 20)
    stepReport(
      "hopfield", metric: "recall_ms", seconds: seconds, threads: options.threads, dtype: .float32,
      reps: timed, extra: [("sweeps", sweeps)])
    report([
      ("workload", "hopfield"), ("metric", "recall_accuracy"), ("value", Double(exact) / Double(p)),
      ("threads", options.threads), ("dtype", "f32"),
    ])
  }

  /// The course's 8-3-8 autoencoder trained for 5000 full-batch epochs by the driver.
  static func autoencoder(_ options: Options) throws {
    let patterns: [[Double]] = [
      [1, 0, 1, 0, 0, 1, 1, 0], [0, 1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 1, 0, 0, 1],
      [1, 0, 0, 0, 1, 0, 1, 1], [1, 0, 0, 1, 0, 1, 0, 1],
    ]
    let x = Tensor(patterns, dtype: .float32)
    let data = Dataset(inputs: x, targets: x)
    var finalLoss = 0.0
    var firstLoss = 0.0
    let epochs = options.quick ? 500 : 5000
    let seconds = try median(warmup: options.quick ? 0 : 1, timed: options.quick ? 1 : 5) {
      var rng = SeededGenerator(seed: 1)
      let model = Autoencoder(sizes: [8, 3], using: &rng)
      let trainer = Trainer(
        model: model, optimizer: SGD(learningRate: 0.1, momentum: 0.9),
        loss: { binaryCrossEntropy(predicted: $0, target: $1) })
      trainer.showsProgress = false
      let history = try trainer.fit(data, epochs: epochs, batchSize: 5)
      firstLoss = history.epochs.first!.trainingLoss
      finalLoss = history.epochs.last!.trainingLoss
    }
    stepReport(
      "autoencoder", metric: "run_ms", seconds: seconds, threads: options.threads, dtype: .float32,
      reps: options.quick ? 1 : 5, firstLoss: firstLoss, lastLoss: finalLoss,
      extra: [("epochs", epochs), ("final_loss", finalLoss)])
  }
}
