import Autodiff
import NeuralNetworks
import Testing

@Suite("Data and training")
struct TrainingTests {
  @Test func courseDataLoaderBatches() {
    var rng = SeededGenerator(seed: 0)
    let data = Dataset(inputs: Tensor.zeros([300, 2]), targets: Tensor.zeros([300]))
    let sizes = data.batches(size: 38, shuffledBy: &rng).map(\.count)
    #expect(sizes == Array(repeating: 38, count: 7) + [34])
    #expect(data.batches(size: 38, dropLast: true).count == 7)
  }

  @Test func shufflingKeepsPairsTogether() {
    var rng = SeededGenerator(seed: 1)
    let x = Tensor((0..<10).map(Double.init), shape: [10, 1])
    let data = Dataset(inputs: x, targets: Tensor((0..<10).map { Double($0) * 2 }))
    let shuffled = data.shuffled(using: &rng)
    #expect(shuffled.inputs.scalars != x.scalars)
    #expect(zip(shuffled.inputs.scalars, shuffled.targets.scalars).allSatisfy { $1 == 2 * $0 })
    let parts = data.split([0.6, 0.2, 0.2])
    #expect(parts.map(\.count) == [6, 2, 2])
  }

  @Test func oneHotAndStandardization() {
    #expect(
      Tensor.oneHot([2, 0], classes: 3, dtype: .float64).rowScalars == [[0, 0, 1], [1, 0, 0]])
    let data = Tensor([[1, 10], [3, 30]])
    let s = Standardizer(fitting: data)
    #expect(s.transform(data).rowScalars == [[-1, -1], [1, 1]])
  }

  @Test func metrics() {
    let scores = Tensor([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    let labels = [0, 1, 2, 1]
    #expect(Metrics.accuracy(scores: scores, labels: labels) == 0.75)
    let confusion = Metrics.confusionMatrix(
      predicted: scores.argmaxRows, labels: labels, classes: 3)
    #expect(confusion == [[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    let pr = Metrics.precisionAndRecall(confusion: confusion)
    #expect(pr[0].precision == 0.5 && pr[0].recall == 1)
    #expect(pr[1].precision == 1 && pr[1].recall == 0.5)
    #expect(Metrics.q3(scores: scores, labels: labels) == 0.75)
  }

  @Test func seededMLPLearnsXOR() throws {
    var rng = SeededGenerator(seed: 2)
    let data = Dataset(
      inputs: Tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype: .float32),
      targets: Tensor([[0], [1], [1], [0]], dtype: .float32))
    let mlp = MLP(
      sizes: [2, 2, 1], activation: .sigmoid, outputActivation: .sigmoid,
      initialization: .normal(standardDeviation: 1), using: &rng)
    let trainer = Trainer(
      model: mlp, optimizer: SGD(learningRate: 0.5, momentum: 0.9),
      loss: { binaryCrossEntropy(predicted: $0, target: $1) }, seed: 2)
    trainer.showsProgress = false
    let history = try trainer.fit(data, epochs: 2000, batchSize: 4)
    #expect(history.epochs.last!.trainingLoss < 0.1)
    let output = trainer.predict(data.inputs).scalars
    #expect(zip(output, [0.0, 1, 1, 0]).allSatisfy { abs($0 - $1) < 0.5 })
  }

  @Test(arguments: [false, true])
  func seededAutoencoderLearns838(tied: Bool) throws {
    let patterns: [[Double]] = [
      [1, 0, 1, 0, 0, 1, 1, 0], [0, 1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 1, 0, 0, 1],
      [1, 0, 0, 0, 1, 0, 1, 1], [1, 0, 0, 1, 0, 1, 0, 1],
    ]
    let x = Tensor(patterns, dtype: .float32)
    var rng = SeededGenerator(seed: 1)
    let model = Autoencoder(sizes: [8, 3], tiedWeights: tied, using: &rng)
    let trainer = Trainer(
      model: model, optimizer: SGD(learningRate: 0.1, momentum: 0.9),
      loss: { binaryCrossEntropy(predicted: $0, target: $1) })
    trainer.showsProgress = false
    try trainer.fit(Dataset(inputs: x, targets: x), epochs: 5000, batchSize: 5)
    let y = trainer.predict(x).scalars.map { $0 >= 0.5 ? 1.0 : 0.0 }
    #expect(y == patterns.flatMap { $0 })
  }

  @Test func classifierWithValidationAndEarlyStopping() throws {
    // Two Gaussian blobs; the validation set is drawn from the same distribution.
    var rng = SeededGenerator(seed: 7)
    func blobs(_ n: Int) -> Dataset {
      var x = Tensor.normal([n, 2], dtype: .float32, using: &rng)
      var labels: [Double] = []
      for i in 0..<n {
        let label = i % 2
        x[i, 0] += label == 0 ? -2 : 2
        labels.append(Double(label))
      }
      return Dataset(inputs: x, targets: Tensor(labels, dtype: .float32))
    }
    let train = blobs(200)
    let validation = blobs(100)
    let model = MLP(sizes: [2, 8, 2], using: &rng)
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 0.01),
      loss: { crossEntropy(logits: $0, labels: $1) }, metric: .accuracy, seed: 3)
    trainer.showsProgress = false
    var seen = 0
    trainer.callbacks.append { _ in seen += 1 }
    let history = try trainer.fit(
      train, validation: validation, epochs: 200, batchSize: 16,
      earlyStopping: .init(patience: 5))
    #expect(history.stoppedEarly)
    #expect(seen == history.epochs.count)
    let best = history.epochs[history.bestEpoch! - 1]
    #expect(best.validationMetric! > 0.95)
    // The restored parameters are the best epoch's.
    let (loss, _) = trainer.evaluate(validation)
    #expect(abs(loss - best.validationLoss!) < 1e-5)
  }

  @Test func l2PenaltyShrinksWeights() throws {
    func train(_ penalty: Double) throws -> Double {
      var rng = SeededGenerator(seed: 9)
      let x = Tensor.normal([32, 4], dtype: .float64, using: &rng)
      let data = Dataset(inputs: x, targets: Tensor.normal([32, 1], dtype: .float64, using: &rng))
      let model = MLP(sizes: [4, 16, 1], dtype: .float64, using: &rng)
      let trainer = Trainer(
        model: model, optimizer: SGD(learningRate: 0.05),
        loss: { meanSquaredError(predicted: $0, target: $1) })
      trainer.showsProgress = false
      trainer.l2Penalty = penalty
      try trainer.fit(data, epochs: 100, batchSize: 8)
      return model.parameters.map { $0.value.scalars.map { $0 * $0 }.reduce(0, +) }.reduce(0, +)
    }
    #expect(try train(0.1) < 0.7 * train(0))
  }
}

@Suite("Models learn")
struct ModelsLearnTests {
  @Test func seededLogisticRegressionLearnsASeparableSet() throws {
    var rng = SeededGenerator(seed: 11)
    let x = Tensor.normal([200, 3], dtype: .float32, using: &rng)
    let labels = (0..<200).map { i in x[i, 0] - 2 * x[i, 2] > 0 ? 1.0 : 0.0 }
    let model = LogisticRegression(inputSize: 3, using: &rng)
    let trainer = Trainer(
      model: model, optimizer: SGD(learningRate: 0.5),
      loss: { binaryCrossEntropy(logits: $0, target: $1) }, seed: 1)
    trainer.showsProgress = false
    let data = Dataset(inputs: x, targets: Tensor(labels, shape: [200, 1], dtype: .float32))
    try trainer.fit(data, epochs: 50, batchSize: 20)
    let predicted = trainer.predict(x).scalars.map { $0 > 0 ? 1.0 : 0.0 }
    let accuracy = Double(zip(predicted, labels).filter { $0 == $1 }.count) / 200
    #expect(accuracy >= 0.97)
  }

  @Test func seededConvolutionalNetLearnsDigits() throws {
    var rng = SeededGenerator(seed: 12)
    var digits = try Datasets.digits().subset(Array(0..<400))
    digits.inputs = digits.inputs.reshaped([400, 1, 8, 8])
    let parts = digits.split([0.75, 0.25])
    let model = Sequential(
      Conv2D(inputChannels: 1, outputChannels: 6, kernelSize: 3, padding: 1, using: &rng),
      Activation(.relu), MaxPool2D(size: 2), Flatten(),
      Linear(inputSize: 6 * 4 * 4, outputSize: 10, using: &rng))
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 0.01),
      loss: { crossEntropy(logits: $0, labels: $1) }, metric: .accuracy, seed: 1)
    trainer.showsProgress = false
    let history = try trainer.fit(parts[0], validation: parts[1], epochs: 15, batchSize: 25)
    #expect(history.epochs.last!.validationMetric! > 0.85)
  }
}

/// Two runs with the same seed are the same run: same losses every epoch, same parameters
/// bit for bit, with dropout, input noise, shuffling and two threads in play.
@Suite("Reproducibility")
struct ReproducibilityTests {
  static func run(seed: UInt64) throws -> (Trainer.History, [[Double]]) {
    var rng = SeededGenerator(seed: seed)
    let inputs = Tensor.normal([96, 6], using: &rng)
    let labels = (0..<96).map { i in inputs[i, 0] + inputs[i, 1] > 0 ? 1.0 : 0.0 }
    let data = Dataset(inputs: inputs, targets: Tensor(labels))
    let model = Sequential([
      Linear(inputSize: 6, outputSize: 64, using: &rng), Activation(.relu),
      Dropout(rate: 0.3, seed: seed), Linear(inputSize: 64, outputSize: 2, using: &rng),
    ])
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 0.01),
      loss: { crossEntropy(logits: $0, labels: $1) }, seed: seed)
    trainer.inputNoise = 0.05
    trainer.showsProgress = false
    let history = try ComputeSettings.withThreads(2, minimumWork: 0) {
      try trainer.fit(data, validation: data, epochs: 4, batchSize: 16)
    }
    return (history, model.parameters.map(\.value.scalars))
  }

  @Test func identicallySeededRunsAreIdentical() throws {
    let (first, firstParameters) = try Self.run(seed: 7)
    let (second, secondParameters) = try Self.run(seed: 7)
    #expect(first.epochs.map(\.trainingLoss) == second.epochs.map(\.trainingLoss))
    #expect(first.epochs.map(\.validationLoss) == second.epochs.map(\.validationLoss))
    #expect(firstParameters == secondParameters)
    // And the seed matters: another seed is another run.
    let (other, _) = try Self.run(seed: 8)
    #expect(first.epochs.map(\.trainingLoss) != other.epochs.map(\.trainingLoss))
  }
}

@Suite("Progress")
struct ProgressTests {
  @Test(arguments: [1, 7, 20, 21, 60, 99, 1000, 5000])
  func linesModePrintsAtMostTwentyLinesEndingWithTheLast(epochs: Int) {
    let printed = (1...epochs).filter { Trainer.reportsLine(after: $0, of: epochs) }
    #expect(printed.count <= 20 && printed.count >= min(epochs, 10))
    #expect(printed.last == epochs)
  }

  @Test func showsProgressIsAShorthand() {
    var rng = SeededGenerator(seed: 1)
    let trainer = Trainer(
      model: Linear(inputSize: 1, outputSize: 1, using: &rng), optimizer: SGD(learningRate: 0.1),
      loss: { meanSquaredError(predicted: $0, target: $1) })
    #expect(trainer.progress == .automatic)
    trainer.showsProgress = false
    #expect(trainer.progress == .none)
    trainer.progress = .lines
    #expect(trainer.showsProgress)
  }
}
