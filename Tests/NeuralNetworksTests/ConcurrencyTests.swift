import Autodiff
import NeuralNetworks
import Testing

// The patterns of docs/concurrency.md, compiled and run. Graphs, Vars and modules belong
// to one task (or actor) at a time; tensors, datasets, histories and state snapshots are
// Sendable values that cross between them.

/// A model owned by an actor: callers from any task send tensors in and get tensors back.
actor Classifier {
  private let model: MLP

  init(seed: UInt64) {
    var rng = SeededGenerator(seed: seed)
    model = MLP(sizes: [2, 8, 2], using: &rng)
  }

  func train(on data: Dataset, epochs: Int) throws -> Trainer.History {
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 0.05),
      loss: { crossEntropy(logits: $0, labels: $1) }, seed: 1)
    trainer.showsProgress = false
    return try trainer.fit(data, epochs: epochs, batchSize: 16)
  }

  func predict(_ inputs: Tensor) -> Tensor {
    model.isTraining = false
    return noGrad { model(Var.constant(inputs)).value }
  }

  func snapshot() -> [String: Tensor] { model.stateSnapshot }
}

@Suite("Concurrency")
struct ConcurrencyTests {
  static func data(seed: UInt64) -> Dataset {
    var rng = SeededGenerator(seed: seed)
    let x = Tensor.normal([64, 2], using: &rng)
    let labels = (0..<64).map { x[$0, 0] * x[$0, 1] > 0 ? 1.0 : 0.0 }
    return Dataset(inputs: x, targets: Tensor(labels))
  }

  @Test func anActorOwnsTheModel() async throws {
    let classifier = Classifier(seed: 1)
    let data = Self.data(seed: 2)
    let history = try await classifier.train(on: data, epochs: 30)
    #expect(history.epochs.last!.trainingLoss < history.epochs.first!.trainingLoss)
    let scores = await classifier.predict(data.inputs)
    #expect(scores.shape == [64, 2])

    // The state leaves the actor as values and rebuilds an identical model elsewhere.
    let snapshot = await classifier.snapshot()
    var rng = SeededGenerator(seed: 99)
    let copy = MLP(sizes: [2, 8, 2], using: &rng)
    try copy.load(snapshot)
    copy.isTraining = false
    #expect(noGrad { copy(Var.constant(data.inputs)).value } == scores)
  }

  @Test func tasksTrainTheirOwnModels() async throws {
    let data = Self.data(seed: 3)
    // Each child task builds, trains and drops its own graph; only values come back.
    let losses = try await withThrowingTaskGroup(of: (UInt64, Double).self) { group in
      for seed: UInt64 in 1...4 {
        group.addTask {
          var rng = SeededGenerator(seed: seed)
          let model = MLP(sizes: [2, 8, 2], using: &rng)
          let trainer = Trainer(
            model: model, optimizer: Adam(learningRate: 0.05),
            loss: { crossEntropy(logits: $0, labels: $1) }, seed: seed)
          trainer.showsProgress = false
          let history = try ComputeSettings.withThreads(1) {
            try trainer.fit(data, epochs: 20, batchSize: 16)
          }
          return (seed, history.epochs.last!.trainingLoss)
        }
      }
      var losses: [UInt64: Double] = [:]
      for try await (seed, loss) in group { losses[seed] = loss }
      return losses
    }
    #expect(losses.count == 4)
    #expect(losses.values.allSatisfy { $0.isFinite && $0 < 0.7 })
  }
}
