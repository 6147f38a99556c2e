import Autodiff
import Foundation

/// The one training driver: every model in the library is trained by it.
///
/// Each epoch it shuffles the training set with its seeded generator, cuts minibatches, and
/// for each batch runs the course's loop:
///
/// ```
/// set the batch → evaluate the graph → zero the gradients → backward → clip → update
/// ```
///
/// The graph (model, loss and regularization terms) is built once per batch shape and then
/// re-evaluated with `Var.evaluate()`; a training run of many steps therefore builds a
/// graph or two and no more. Validation runs after every epoch in evaluation mode; early
/// stopping restores the best parameters.
///
/// ```swift
/// let trainer = Trainer(
///   model: mlp, optimizer: SGD(learningRate: 0.5),
///   loss: { crossEntropy(logits: $0, labels: $1) }, metric: .accuracy)
/// let history = trainer.fit(train, validation: test, epochs: 20, batchSize: 32)
/// ```
///
/// What is minimized is an ``Objective`` built from the batch's input and target. The
/// `loss:` form above is the common case, `loss(model(input), target)`; every other kind of
/// model states its objective in the same way and needs no loop of its own:
///
/// - sequence models take inputs `[batch, time, features]` and targets per sequence or per
///   step; a graph is built for each sequence length and re-evaluated, and
///   backpropagation through time is `backward()` on the unrolled graph;
/// - unsupervised models train on datasets whose targets are their inputs;
/// - energy-based models return their energy as the loss;
/// - models whose loss needs their internals build it themselves (a VAE adds its KL term);
/// - random nodes (dropout masks, a VAE's noise) draw fresh values on every evaluation.
public final class Trainer {
  /// A quantity reported each epoch besides the loss.
  public enum Metric: Sendable {
    /// Classification accuracy; targets are class labels.
    case accuracy
    /// Q3: accuracy over three secondary-structure classes.
    case q3
  }

  /// What ``fit(_:validation:epochs:batchSize:dropLast:earlyStopping:)`` records per epoch.
  public struct EpochRecord: Sendable {
    public var epoch: Int
    public var trainingLoss: Double
    public var validationLoss: Double?
    public var trainingMetric: Double?
    public var validationMetric: Double?
    public var learningRate: Double
    public var seconds: Double
  }

  /// Stop when the validation loss has not improved by `minimumImprovement` for
  /// `patience` epochs, and restore the parameters of the best epoch.
  public struct EarlyStopping: Sendable {
    public var patience: Int
    public var minimumImprovement: Double
    public init(patience: Int, minimumImprovement: Double = 0) {
      self.patience = patience
      self.minimumImprovement = minimumImprovement
    }
  }

  /// The result of a training run.
  public struct History: Sendable {
    public var epochs: [EpochRecord] = []
    /// The epoch whose parameters the model holds after early stopping, if it stopped.
    public var bestEpoch: Int?
    public var stoppedEarly = false
  }

  public let model: Module
  public let optimizer: Optimizer
  /// Builds the loss and output of a batch from its input and target nodes.
  public let objective: (_ input: Var, _ target: Var) -> Objective
  public var metric: Metric?
  /// Adjusts the optimizer's learning rate per epoch.
  public var schedule: (any LearningRateSchedule)?
  /// L2 penalty λ/2 · Σθ² added to the loss (the course's weight decay as a loss term).
  public var l2Penalty: Double = 0
  /// L1 penalty λ · Σ|θ| added to the loss.
  public var l1Penalty: Double = 0
  /// Standard deviation of Gaussian noise added to training inputs.
  public var inputNoise: Double = 0
  /// Clip the global gradient norm to this value before each update.
  public var gradientClipNorm: Double?
  /// Clip every gradient element to ±this value before each update.
  public var gradientClipValue: Double?
  /// Called after every epoch.
  public var callbacks: [(EpochRecord) -> Void] = []
  /// Whether to show a one-line progress display; by default only when standard output is
  /// a terminal.
  public var showsProgress = isatty(1) != 0

  private var generator: SeededGenerator
  private var graphs: [[Int]: (input: Var, target: Var, loss: Var, output: Var, isFresh: Bool)] =
    [:]
  private var baseLearningRate: Double

  /// A trainer that minimizes `loss(model(input), target)`.
  ///
  /// - Parameters:
  ///   - model: The network; its parameters are what the optimizer updates.
  ///   - optimizer: The update rule.
  ///   - loss: The loss of a batch from the model's output and the target `Var`.
  ///   - metric: An extra quantity to report per epoch.
  ///   - seed: Seeds the shuffling and input noise.
  public convenience init(
    model: Module, optimizer: Optimizer, loss: @escaping (Var, Var) -> Var, metric: Metric? = nil,
    seed: UInt64 = 0
  ) {
    self.init(
      model: model, optimizer: optimizer,
      objective: { input, target in
        let output = model(input)
        return Objective(loss: loss(output, target), output: output)
      }, metric: metric, seed: seed)
  }

  /// A trainer that minimizes an objective built from the batch's input and target, for
  /// models whose loss is more than a function of their output (an energy, a VAE's
  /// reconstruction and KL terms).
  ///
  /// - Parameters:
  ///   - model: The network; its parameters are what the optimizer updates.
  ///   - optimizer: The update rule.
  ///   - objective: Builds the loss and output graph of a batch from its input and target
  ///     nodes; called once per batch shape.
  ///   - metric: An extra quantity to report per epoch, computed from the objective's output.
  ///   - seed: Seeds the shuffling and input noise.
  public init(
    model: Module, optimizer: Optimizer,
    objective: @escaping (_ input: Var, _ target: Var) -> Objective, metric: Metric? = nil,
    seed: UInt64 = 0
  ) {
    self.model = model
    self.optimizer = optimizer
    self.objective = objective
    self.metric = metric
    self.generator = SeededGenerator(seed: seed)
    self.baseLearningRate = optimizer.learningRate
  }

  /// The graph for batches of this input and target shape, built on first use.
  private func graph(for batch: Dataset) -> (
    input: Var, target: Var, loss: Var, output: Var, isFresh: Bool
  ) {
    let key = batch.inputs.shape + [-1] + batch.targets.shape
    if var cached = graphs[key] {
      cached.input.set(batch.inputs)
      cached.target.set(batch.targets)
      cached.isFresh = false
      return cached
    }
    let input = Var(batch.inputs, name: "x", requiresGrad: false)
    let target = Var(batch.targets, name: "t", requiresGrad: false)
    let built = objective(input, target)
    let output = built.output
    var loss = built.loss
    require(
      loss.shape.reduce(1, *) == 1,
      "Trainer: the objective's loss must be a scalar, got shape \(loss.shape)")
    let parameters = model.parameters
    if l2Penalty > 0 {
      loss = loss + parameters.map { $0.squared().sum() }.reduce(+) * (l2Penalty / 2)
    }
    if l1Penalty > 0 {
      loss = loss + parameters.map { $0.abs().sum() }.reduce(+) * l1Penalty
    }
    let entry = (input, target, loss, output, true)
    graphs[key] = entry
    return entry
  }

  /// One training step on a batch: forward, loss, backward, update. Returns the loss and
  /// the model's output.
  @discardableResult
  public func step(on batch: Dataset) -> (loss: Double, output: Tensor) {
    model.isTraining = true
    var batch = batch
    if inputNoise > 0 {
      batch.inputs = addingNoise(batch.inputs)
    }
    let g = graph(for: batch)
    if !g.isFresh { g.loss.evaluate() }
    model.zeroGradients()
    g.loss.backward()
    let parameters = model.parameters
    if let gradientClipNorm { clipGradients(parameters, maxNorm: gradientClipNorm) }
    if let gradientClipValue { clipGradients(parameters, maxValue: gradientClipValue) }
    optimizer.update(parameters)
    return (g.loss.value.scalar, g.output.value)
  }

  private func addingNoise(_ x: Tensor) -> Tensor {
    var noisy = x
    let noise = Tensor.normal(
      x.shape, standardDeviation: inputNoise, dtype: x.dtype, using: &generator)
    for i in 0..<noisy.count { noisy[flat: i] += noise[flat: i] }
    return noisy
  }

  /// The mean loss and metric on a dataset, in evaluation mode and in batches.
  public func evaluate(_ data: Dataset, batchSize: Int = 256) -> (loss: Double, metric: Double?) {
    model.isTraining = false
    defer { model.isTraining = true }
    var total = 0.0
    var outputs: [Tensor] = []
    for batch in data.batches(size: batchSize) {
      let g = graph(for: batch)
      if !g.isFresh { g.loss.evaluate() }
      total += g.loss.value.scalar * Double(batch.count)
      outputs.append(g.output.value)
    }
    return (total / Double(max(data.count, 1)), metric.map { measure($0, outputs, data.targets) })
  }

  /// The model's output for `inputs`, in evaluation mode, without recording a graph.
  public func predict(_ inputs: Tensor) -> Tensor {
    model.isTraining = false
    defer { model.isTraining = true }
    return noGrad { model(Var.constant(inputs)).value }
  }

  private func measure(_ metric: Metric, _ outputs: [Tensor], _ targets: Tensor) -> Double {
    let rows = outputs.flatMap { $0.scalars }
    let k = outputs.first?.shape.last ?? 1
    let scores = Tensor(rows, shape: [rows.count / k, k])
    switch metric {
    case .accuracy: return Metrics.accuracy(scores: scores, labels: targets.labels)
    case .q3: return Metrics.q3(scores: scores, labels: targets.labels)
    }
  }

  /// Trains for up to `epochs` epochs and returns the per-epoch history.
  @discardableResult
  public func fit(
    _ data: Dataset, validation: Dataset? = nil, epochs: Int, batchSize: Int,
    dropLast: Bool = false, earlyStopping: EarlyStopping? = nil
  ) -> History {
    require(
      epochs >= 0 && batchSize > 0,
      "fit: epochs \(epochs) and batch size \(batchSize) must be positive")
    var history = History()
    var best: (loss: Double, epoch: Int, parameters: [Tensor])?
    let start = Date()
    for epoch in 1...max(epochs, 1) where epochs > 0 {
      let epochStart = Date()
      if let schedule {
        optimizer.learningRate = schedule.learningRate(base: baseLearningRate, step: epoch - 1)
      }
      var total = 0.0
      var outputs: [Tensor] = []
      var order: [Int] = []
      let batches = data.batches(size: batchSize, dropLast: dropLast, shuffledBy: &generator)
      for batch in batches {
        let (loss, output) = step(on: batch)
        total += loss * Double(batch.count)
        if metric != nil {
          outputs.append(output)
          order.append(contentsOf: batch.targets.labels)
        }
      }
      let seen = batches.reduce(0) { $0 + $1.count }
      var record = EpochRecord(
        epoch: epoch, trainingLoss: total / Double(max(seen, 1)), validationLoss: nil,
        trainingMetric: metric.map { measure($0, outputs, Tensor(order.map(Double.init))) },
        validationMetric: nil, learningRate: optimizer.learningRate,
        seconds: Date().timeIntervalSince(epochStart))
      if let validation {
        let (loss, value) = evaluate(validation)
        record.validationLoss = loss
        record.validationMetric = value
      }
      history.epochs.append(record)
      for callback in callbacks { callback(record) }
      if showsProgress {
        showProgress(record, of: epochs, elapsed: Date().timeIntervalSince(start))
      }

      if let earlyStopping, let loss = record.validationLoss {
        if best == nil || loss < best!.loss - earlyStopping.minimumImprovement {
          best = (loss, epoch, model.parameters.map(\.value))
        } else if epoch - best!.epoch >= earlyStopping.patience {
          history.stoppedEarly = true
          break
        }
      }
    }
    if showsProgress { FileHandle.standardOutput.write(Data("\n".utf8)) }
    if let best {
      for (p, value) in zip(model.parameters, best.parameters) { p.updateValue { $0 = value } }
      history.bestEpoch = best.epoch
    }
    return history
  }

  private func showProgress(_ record: EpochRecord, of epochs: Int, elapsed: Double) {
    let left = elapsed / Double(record.epoch) * Double(epochs - record.epoch)
    var line = "epoch \(record.epoch)/\(epochs)  loss \(format(record.trainingLoss))"
    if let m = record.trainingMetric { line += "  metric \(format(m))" }
    if let v = record.validationLoss { line += "  validation \(format(v))" }
    if let m = record.validationMetric { line += " / \(format(m))" }
    line += "  \(Int(left.rounded()))s left"
    FileHandle.standardOutput.write(Data(("\r" + line + "   ").utf8))
  }
}

/// A number with four significant digits, for progress lines.
func format(_ x: Double) -> String {
  String(format: "%.4g", x)
}

extension Array where Element == Var {
  /// The sum of the nodes, left to right.
  func reduce(_ combine: (Var, Var) -> Var) -> Var {
    require(!isEmpty, "reduce: no nodes")
    return dropFirst().reduce(self[0], combine)
  }
}

/// What a ``Trainer`` minimizes on a batch: a scalar loss, and the output that metrics and
/// predictions read (the model's output, for most models).
public struct Objective {
  /// The scalar to minimize.
  public var loss: Var
  /// The output that metrics are computed from.
  public var output: Var

  public init(loss: Var, output: Var) {
    self.loss = loss
    self.output = output
  }
}
