import Autodiff
import Foundation
import NeuralNetworks
import Testing

/// A model, its data and its trainer, built the same way every time from a seed.
struct Run {
  var model: Module
  var trainer: Trainer
  var data: Dataset
  var epochs: Int
  var batchSize: Int

  /// An MLP with dropout on two blobs, trained by Adam with a schedule.
  static func mlp(initialization seed: UInt64) -> Run {
    var rng = SeededGenerator(seed: 1)
    var x = Tensor.normal([60, 3], dtype: .float32, using: &rng)
    let labels = (0..<60).map { Double($0 % 2) }
    for i in 0..<60 { x[i, 0] += labels[i] * 2 }
    var weights = SeededGenerator(seed: seed)
    let model = Sequential(
      Linear(inputSize: 3, outputSize: 16, using: &weights), Activation(.relu),
      Dropout(rate: 0.3, seed: seed), Linear(inputSize: 16, outputSize: 2, using: &weights))
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 0.01),
      loss: { crossEntropy(logits: $0, labels: $1) }, metric: .accuracy, seed: 7)
    trainer.schedule = StepDecay(stepSize: 2, factor: 0.5)
    trainer.inputNoise = 0.05
    return Run(
      model: model, trainer: trainer,
      data: Dataset(inputs: x, targets: Tensor(labels, dtype: .float32)), epochs: 4,
      batchSize: 8)
  }

  /// An LSTM that remembers the first of 6 bits, trained by SGD with momentum.
  static func lstm(initialization seed: UInt64) -> Run {
    var rng = SeededGenerator(seed: 2)
    var inputs = Tensor.zeros([40, 6, 1], dtype: .float32)
    var labels = [Double](repeating: 0, count: 40)
    for i in 0..<40 {
      for t in 0..<6 { inputs[i, t, 0] = Bool.random(using: &rng) ? 1 : -1 }
      labels[i] = inputs[i, 0, 0] > 0 ? 1 : 0
    }
    var weights = SeededGenerator(seed: seed)
    let model = Sequential(
      LSTM(inputSize: 1, hiddenSize: 5, using: &weights), LastStep(),
      Linear(inputSize: 5, outputSize: 2, using: &weights))
    let trainer = Trainer(
      model: model, optimizer: SGD(learningRate: 0.1, momentum: 0.9),
      loss: { crossEntropy(logits: $0, labels: $1) }, seed: 8)
    trainer.gradientClipNorm = 1
    return Run(
      model: model, trainer: trainer,
      data: Dataset(inputs: inputs, targets: Tensor(labels, dtype: .float32)), epochs: 3,
      batchSize: 8)
  }

  /// A small VAE on random images, whose noise ε is drawn afresh at every step.
  static func vae(initialization seed: UInt64) -> Run {
    var rng = SeededGenerator(seed: 3)
    let images = Tensor.uniform([48, 6], dtype: .float32, using: &rng)
    var weights = SeededGenerator(seed: seed)
    let vae = VAE(
      inputSize: 6, hiddenSize: 8, latentSize: 2, noise: RandomSource(seed: seed),
      using: &weights)
    let trainer = Trainer(
      model: vae, optimizer: RMSProp(learningRate: 0.01), objective: vae.objective(input:target:),
      seed: 9)
    return Run(
      model: vae, trainer: trainer, data: Dataset(inputs: images, targets: images), epochs: 3,
      batchSize: 16)
  }
}

@Suite("Checkpoints")
struct CheckpointTests {
  static let runs: [(name: String, make: @Sendable (UInt64) -> Run)] = [
    ("MLP with dropout", Run.mlp), ("LSTM", Run.lstm), ("VAE", Run.vae),
  ]

  /// A run stopped after a few steps and resumed from its last checkpoint, by new objects
  /// initialized differently, ends bit for bit where an uninterrupted run ends.
  @Test(arguments: runs.indices)
  func resumedRunEndsWhereAnUninterruptedOneEnds(_ index: Int) throws {
    let make = Self.runs[index].make
    let straight = make(11)
    straight.trainer.showsProgress = false
    let history = try straight.trainer.fit(
      straight.data, epochs: straight.epochs, batchSize: straight.batchSize)

    let url = temporaryFile()
    defer { try? FileManager.default.removeItem(at: url) }
    let interrupted = make(11)
    interrupted.trainer.showsProgress = false
    let stopped = try interrupted.trainer.fit(
      interrupted.data, epochs: interrupted.epochs, batchSize: interrupted.batchSize,
      checkpointing: .init(url: url, everySteps: 3), stoppingAfter: 7)
    #expect(stopped.steps == 7)

    let resumed = make(99)  // other initial weights and random sources: all are restored
    resumed.trainer.showsProgress = false
    try resumed.trainer.resume(from: url)
    let finished = try resumed.trainer.fit(
      resumed.data, epochs: resumed.epochs, batchSize: resumed.batchSize)

    #expect(finished.steps == history.steps)
    #expect(finished.epochs.map(\.trainingLoss) == history.epochs.map(\.trainingLoss))
    #expect(finished.epochs.map(\.trainingMetric) == history.epochs.map(\.trainingMetric))
    for ((name, a), (_, b)) in zip(straight.model.namedState, resumed.model.namedState) {
      #expect(a.value == b.value, "\(Self.runs[index].name): \(name) differs")
    }
  }

  @Test func earlyStoppingStateSurvivesAResume() throws {
    func make() -> (Trainer, Module, Dataset, Dataset) {
      var rng = SeededGenerator(seed: 4)
      let x = Tensor.normal([40, 2], dtype: .float32, using: &rng)
      let y = Tensor((0..<40).map { x[$0, 0] > 0 ? 1.0 : 0 }, dtype: .float32)
      let data = Dataset(inputs: x, targets: y)
      let parts = data.split([0.5, 0.5])
      let model = MLP(sizes: [2, 8, 2], using: &rng)
      let trainer = Trainer(
        model: model, optimizer: SGD(learningRate: 0.5),
        loss: { crossEntropy(logits: $0, labels: $1) }, seed: 4)
      trainer.showsProgress = false
      return (trainer, model, parts[0], parts[1])
    }
    let stopping = Trainer.EarlyStopping(patience: 3)
    let (a, modelA, train, validation) = make()
    let straight = try a.fit(
      train, validation: validation, epochs: 60, batchSize: 5, earlyStopping: stopping)
    let url = temporaryFile()
    defer { try? FileManager.default.removeItem(at: url) }
    let (b, _, _, _) = make()
    try b.fit(
      train, validation: validation, epochs: 60, batchSize: 5, earlyStopping: stopping,
      checkpointing: .init(url: url, everySteps: 4), stoppingAfter: 4 * straight.steps / 5)
    let (c, modelC, _, _) = make()
    try c.resume(from: url)
    let resumed = try c.fit(
      train, validation: validation, epochs: 60, batchSize: 5, earlyStopping: stopping)
    #expect(resumed.bestEpoch == straight.bestEpoch)
    #expect(resumed.stoppedEarly == straight.stoppedEarly)
    for (p, q) in zip(modelA.parameters, modelC.parameters) { #expect(p.value == q.value) }
  }

  @Test func aCorruptCheckpointIsRefused() throws {
    let run = Run.mlp(initialization: 1)
    run.trainer.showsProgress = false
    let url = temporaryFile()
    defer { try? FileManager.default.removeItem(at: url) }
    try run.trainer.fit(
      run.data, epochs: 1, batchSize: 8, checkpointing: .init(url: url, everySteps: 2))
    var bytes = try Data(contentsOf: url)
    bytes[bytes.count - 3] ^= 0x40  // one bit of the last tensor
    try bytes.write(to: url)
    let other = Run.mlp(initialization: 1)
    #expect {
      try other.trainer.resume(from: url)
    } throws: { error in
      "\(error)".contains("checksum does not match")
    }
    try bytes.prefix(bytes.count / 2).write(to: url)
    #expect(throws: DataFileError.self) { try other.trainer.resume(from: url) }
  }

  @Test func aCheckpointOfAnotherModelOrRunIsRefusedSayingWhat() throws {
    let run = Run.lstm(initialization: 1)
    run.trainer.showsProgress = false
    let url = temporaryFile()
    defer { try? FileManager.default.removeItem(at: url) }
    try run.trainer.fit(
      run.data, epochs: 1, batchSize: 8, checkpointing: .init(url: url, everySteps: 2))

    var rng = SeededGenerator(seed: 1)
    let wider = Sequential(
      LSTM(inputSize: 1, hiddenSize: 6, using: &rng), LastStep(),
      Linear(inputSize: 6, outputSize: 2, using: &rng))
    let trainer = Trainer(
      model: wider, optimizer: SGD(learningRate: 0.1, momentum: 0.9),
      loss: { crossEntropy(logits: $0, labels: $1) })
    #expect {
      try trainer.resume(from: url)
    } throws: { error in
      "\(error)".contains(
        "'0.Wx' is [1, 20] (f32) in the checkpoint and [1, 24] (f32) in the model")
    }
    let before = wider.parameters.map(\.value)
    #expect(wider.parameters.map(\.value) == before)  // nothing changed

    let same = Run.lstm(initialization: 1)
    try same.trainer.resume(from: url)
    #expect {
      try same.trainer.fit(same.data, epochs: 1, batchSize: 4)
    } throws: { error in
      "\(error)".contains("batches of 8") && "\(error)".contains("batches of 4")
    }
  }
}

@Suite("Non-finite values in training")
struct NonFiniteTrainingTests {
  /// log of a negative output: the first step's loss is NaN, the op is named, and no update
  /// is made.
  @Test func aNaNLossStopsTrainingNamingTheOp() throws {
    var rng = SeededGenerator(seed: 1)
    let model = Linear(inputSize: 2, outputSize: 1, using: &rng)
    let start = model.parameters.map(\.value)
    let trainer = Trainer(
      model: model, optimizer: SGD(learningRate: 0.1), loss: { y, _ in (y - 100).log().mean() })
    trainer.showsProgress = false
    let data = Dataset(
      inputs: Tensor.ones([4, 2], dtype: .float32), targets: Tensor.zeros([4, 1], dtype: .float32))
    do {
      try trainer.fit(data, epochs: 3, batchSize: 4)
      Issue.record("fit did not throw")
    } catch let error as Trainer.NonFiniteError {
      #expect(error.step == 1 && error.epoch == 1 && error.loss.isNaN && error.inValue)
      #expect(error.op == "log([4, 1])")
      #expect(error.description.contains("the first non-finite value comes from log([4, 1])"))
    }
    #expect(model.parameters.map(\.value) == start)
  }

  /// A learning rate that makes the weights overflow after a few steps: training stops at
  /// the first step whose loss is infinite, keeping the finite parameters before it.
  @Test func aDivergingRunKeepsItsLastFiniteParameters() throws {
    let w = Var(Tensor([[1.0]], dtype: .float32), name: "w")
    let model = Linear(weight: w, bias: nil)
    let trainer = Trainer(
      model: model, optimizer: SGD(learningRate: 10),
      loss: { meanSquaredError(predicted: $0, target: $1) })
    trainer.showsProgress = false
    let data = Dataset(
      inputs: Tensor.ones([1, 1], dtype: .float32), targets: Tensor.zeros([1, 1], dtype: .float32))
    do {
      try trainer.fit(data, epochs: 1000, batchSize: 1)
      Issue.record("fit did not throw")
    } catch let error as Trainer.NonFiniteError {
      #expect(error.step > 5)
      #expect(w.value.isFinite)
    }
  }

  /// √x at 0 is finite, its derivative is not: the error names the op whose rule made it.
  @Test func aNonFiniteGradientIsTracedToTheRuleThatMadeIt() throws {
    let w = Var(Tensor([[0.0]], dtype: .float32), name: "w")
    let model = Linear(weight: w, bias: nil)
    let trainer = Trainer(
      model: model, optimizer: SGD(learningRate: 0.1), loss: { y, _ in y.sqrt().sum() })
    trainer.showsProgress = false
    let data = Dataset(
      inputs: Tensor.ones([1, 1], dtype: .float32), targets: Tensor.zeros([1, 1], dtype: .float32))
    #expect {
      try trainer.fit(data, epochs: 1, batchSize: 1)
    } throws: { error in
      let error = error as? Trainer.NonFiniteError
      return error?.inValue == false && error?.op == "the backward rule of sqrt([1, 1])"
    }
    #expect(w.value.scalars == [0])
  }
}

func temporaryFile() -> URL {
  FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-\(UUID()).safetensors")
}
