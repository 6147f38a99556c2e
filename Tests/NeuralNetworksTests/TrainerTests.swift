import Autodiff
import NeuralNetworks
import Testing

/// The training driver's bookkeeping, on models small enough to follow by hand: which
/// batches it trains on, what it averages, when it stops, what it hands the optimizer.
@Suite("Trainer")
struct TrainerTests {
  /// y = w·x with one `Double` weight.
  final class Scale: Module {
    let weight: Var
    init(_ w: Double) { weight = Var(Tensor([w], dtype: .float64), name: "w") }
    override var ownParameters: [Var] { [weight] }
    override func callAsFunction(_ x: Var) -> Var { x * weight }
  }

  /// Ten samples x = 0…9 with target 0: the loss of sample i is i², whatever the training.
  static var squares: Dataset {
    Dataset(
      inputs: Tensor((0..<10).map(Double.init), shape: [10, 1], dtype: .float64),
      targets: Tensor.zeros([10, 1], dtype: .float64))
  }

  /// A trainer whose loss does not depend on any parameter: the model has none, and the
  /// objective is the squared error of the input itself.
  static func fixedLossTrainer() -> Trainer {
    let trainer = Trainer(
      model: Module(), optimizer: SGD(learningRate: 0.1),
      objective: { input, target in
        Objective(loss: meanSquaredError(predicted: input, target: target), output: input)
      })
    trainer.showsProgress = false
    return trainer
  }

  /// `evaluate` and `predict` run in evaluation mode and leave the model in the mode they
  /// found it in.
  @Test func evaluateAndPredictRestoreTheModelsMode() {
    let model = Scale(2)
    let trainer = Trainer(
      model: model, optimizer: SGD(learningRate: 0.1),
      loss: { meanSquaredError(predicted: $0, target: $1) })
    trainer.showsProgress = false
    for mode in [false, true] {
      model.isTraining = mode
      _ = trainer.evaluate(Self.squares)
      #expect(model.isTraining == mode)
      let y = trainer.predict(Tensor([3], shape: [1, 1], dtype: .float64))
      #expect(y.scalars == [6])
      #expect(model.isTraining == mode)
    }
  }

  @Test func everyBatchIsTrainedOnTheLastSmallerOneToo() throws {
    // 10 samples in batches of 4: 4, 4 and 2.
    let history = try Self.fixedLossTrainer().fit(Self.squares, epochs: 2, batchSize: 4)
    #expect(history.steps == 6)
    let dropped = try Self.fixedLossTrainer().fit(
      Self.squares, epochs: 2, batchSize: 4, dropLast: true)
    #expect(dropped.steps == 4)
  }

  /// `fit` trains on exactly the batches its seeded shuffle makes, as `step(on:)` on those
  /// batches does: it writes each batch into the graph built for its shape (switching
  /// between the full batches and the smaller last one), so both end with the same
  /// parameters, bit for bit, and the same losses.
  @Test func fitEqualsStepsOnTheShuffledBatches() throws {
    var rng = SeededGenerator(seed: 3)
    let data = Dataset(
      inputs: Tensor.normal([10, 4], dtype: .float32, using: &rng),
      targets: Tensor.normal([10, 2], dtype: .float32, using: &rng))
    func trainer() -> Trainer {
      var seeds = SeededGenerator(seed: 5)
      let model = MLP(sizes: [4, 6, 2], activation: .tanh, using: &seeds)
      let trainer = Trainer(
        model: model, optimizer: SGD(learningRate: 0.1, momentum: 0.9),
        loss: { meanSquaredError(predicted: $0, target: $1) }, seed: 11)
      trainer.showsProgress = false
      return trainer
    }
    let (fitted, stepped) = (trainer(), trainer())
    let history = try fitted.fit(data, epochs: 3, batchSize: 4)
    var shuffle = SeededGenerator(seed: 11)
    for epoch in 0..<3 {
      let order = Array(0..<10).shuffled(using: &shuffle)
      var total = 0.0
      for range in [0..<4, 4..<8, 8..<10] {
        let (loss, _) = try stepped.step(on: data.subset(Array(order[range])))
        total += loss * Double(range.count)
      }
      #expect(history.epochs[epoch].trainingLoss == total / 10)
    }
    for (p, q) in zip(fitted.model.parameters, stepped.model.parameters) {
      #expect(p.value == q.value)
    }
  }

  @Test func theEpochLossIsTheMeanOverSamplesNotOverBatches() throws {
    // The batches have means over 4, 4 and 2 samples; the epoch's loss is Σ i² / 10.
    let history = try Self.fixedLossTrainer().fit(Self.squares, epochs: 3, batchSize: 4)
    for record in history.epochs { #expect(record.trainingLoss == 28.5) }
  }

  @Test func earlyStoppingStopsAfterPatienceEpochsWithoutImprovement() throws {
    // The validation loss never improves after epoch 1: with a patience of 2, epochs 2 and
    // 3 are the two without improvement, and the run stops after epoch 3.
    let history = try Self.fixedLossTrainer().fit(
      Self.squares, validation: Self.squares, epochs: 10, batchSize: 4,
      earlyStopping: .init(patience: 2))
    #expect(history.stoppedEarly)
    #expect(history.bestEpoch == 1)
    #expect(history.epochs.count == 3)
  }

  @Test func theScheduleStartsFromTheBaseRate() throws {
    let trainer = Self.fixedLossTrainer()
    trainer.schedule = StepDecay(stepSize: 1, factor: 0.5)
    let history = try trainer.fit(Self.squares, epochs: 3, batchSize: 4)
    #expect(history.epochs.map(\.learningRate) == [0.1, 0.05, 0.025])
  }

  /// y = w·x on x = [1, 2], t = 2x, one batch: ∂L/∂w = 5(w − 2) for the mean squared error.
  static func fit(epochs: Int, configure: (Trainer) -> Void = { _ in }) throws -> Double {
    let model = Scale(0)
    let data = Dataset(
      inputs: Tensor([[1], [2]], dtype: .float64), targets: Tensor([[2], [4]], dtype: .float64))
    let trainer = Trainer(
      model: model, optimizer: SGD(learningRate: 0.1),
      loss: { meanSquaredError(predicted: $0, target: $1) })
    trainer.showsProgress = false
    configure(trainer)
    try trainer.fit(data, epochs: epochs, batchSize: 2)
    return model.weight.value[0]
  }

  @Test func eachStepUsesOnlyItsOwnGradient() throws {
    // w₁ = 0 − 0.1 · 5(0 − 2) = 1, w₂ = 1 − 0.1 · 5(1 − 2) = 1.5; gradients left over from
    // the first step would give 2.5.
    #expect(abs(try Self.fit(epochs: 2) - 1.5) < 1e-12)
  }

  @Test func gradientsAreClippedBeforeTheUpdate() throws {
    // ∂L/∂w = −10 at w = 0: clipped to norm 0.5 it moves w by 0.1 · 0.5.
    #expect(abs(try Self.fit(epochs: 1) { $0.gradientClipNorm = 0.5 } - 0.05) < 1e-12)
    #expect(abs(try Self.fit(epochs: 1) { $0.gradientClipValue = 0.25 } - 0.025) < 1e-12)
  }
}
