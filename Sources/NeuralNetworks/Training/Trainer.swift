import Autodiff
import Foundation

/// The one training driver: every model in the library is trained by it.
///
/// Each epoch it shuffles the training set with its seeded generator, cuts minibatches, and
/// for each batch runs the course's loop:
///
/// ```
/// set the batch → evaluate the graph → zero the gradients → backward → check → clip → update
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
/// let history = try trainer.fit(train, validation: test, epochs: 20, batchSize: 32)
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
///
/// Before every update the loss and the gradients are checked: at the first NaN or
/// infinity, ``fit(_:validation:epochs:batchSize:dropLast:earlyStopping:checkpointing:stoppingAfter:)``
/// throws a ``NonFiniteError`` that names the op which produced it, and the parameters are
/// those of the last finite step. A run can be checkpointed every few steps and resumed
/// with ``resume(from:)``, ending exactly where an uninterrupted run ends.
public final class Trainer {
  /// A quantity reported each epoch besides the loss.
  public enum Metric: Sendable {
    /// Classification accuracy; targets are class labels.
    case accuracy
    /// Q3: accuracy over three secondary-structure classes.
    case q3
  }

  /// What ``fit(_:validation:epochs:batchSize:dropLast:earlyStopping:checkpointing:stoppingAfter:)``
  /// records per epoch.
  public struct EpochRecord: Sendable, Codable {
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

  /// Where and how often to write a checkpoint during a run.
  public struct Checkpointing: Sendable {
    public var url: URL
    /// A checkpoint is written after every `everySteps` updates, and at the end of the run.
    public var everySteps: Int
    public init(url: URL, everySteps: Int) {
      require(everySteps > 0, "Checkpointing: every \(everySteps) steps must be positive")
      self.url = url
      self.everySteps = everySteps
    }
  }

  /// The result of a training run.
  public struct History: Sendable, Codable {
    public var epochs: [EpochRecord] = []
    /// The epoch whose parameters the model holds after early stopping, if it stopped.
    public var bestEpoch: Int?
    public var stoppedEarly = false
    /// The number of updates made, in this run and in the runs it resumed.
    public var steps = 0
  }

  /// A loss or a gradient that is NaN or infinite: where it appeared and what made it.
  public struct NonFiniteError: Error, CustomStringConvertible {
    /// The update (counted from 1) that would have used it; it was not applied.
    public var step: Int
    public var epoch: Int
    /// The loss of the batch.
    public var loss: Double
    /// The op whose value was the first non-finite one, as `name(argument shapes)`, or the
    /// op whose gradient rule made the first non-finite gradient.
    public var op: String
    /// Whether the value (true) or only a gradient (false) went non-finite.
    public var inValue: Bool

    public var description: String {
      let kind = inValue ? "value" : "gradient"
      return
        "step \(step) (epoch \(epoch)): the loss is \(loss) and the first non-finite \(kind) comes from \(op); the parameters are those of the last finite step"
    }
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
  /// How `fit` reports its progress on standard output.
  public enum Progress: Sendable, Equatable {
    /// ``live`` when standard output is a terminal, ``lines`` otherwise (a pipe, a file, a
    /// notebook). The environment variable `AUTODIFF_PROGRESS` (`live`, `lines` or `none`)
    /// overrides the choice.
    case automatic
    /// One line rewritten in place after every epoch, with an estimate of the time left.
    case live
    /// At most 20 lines per `fit` (every ⌈epochs / 20⌉-th epoch and the last), without
    /// clock times, so that the same run prints the same text: what logs and notebooks
    /// keep.
    case lines
    /// Nothing.
    case none

    /// What ``automatic`` means here and now.
    var resolved: Progress {
      guard self == .automatic else { return self }
      switch ProcessInfo.processInfo.environment["AUTODIFF_PROGRESS"] {
      case "live": return .live
      case "lines": return .lines
      case "none": return .none
      default: return isatty(1) != 0 ? .live : .lines
      }
    }
  }

  /// How `fit` reports its progress: by default ``Progress/automatic``.
  public var progress = Progress.automatic

  /// Whether `fit` reports progress at all: false is ``Progress/none``, true
  /// ``Progress/automatic``.
  public var showsProgress: Bool {
    get { progress != .none }
    set { progress = newValue ? .automatic : .none }
  }

  var generator: SeededGenerator
  private var graphs: [[Int]: (input: Var, target: Var, loss: Var, output: Var, isFresh: Bool)] =
    [:]
  /// The graph used last, tried first.
  private var lastGraph: (input: Var, target: Var, loss: Var, output: Var, isFresh: Bool)?
  var baseLearningRate: Double
  /// The progress of an interrupted run, set by ``resume(from:)`` and picked up by the next
  /// call to `fit`.
  var resumed: RunState?

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
      lastGraph = cached
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
    lastGraph = entry
    return entry
  }

  /// The graph for the batch of `data`'s samples at `rows`, with those samples written
  /// into its input and target nodes; the same as `graph(for: data.subset(rows))`, without
  /// making the batch when the last graph used fits it.
  private func graph(forRows rows: ArraySlice<Int>, of data: Dataset) -> (
    input: Var, target: Var, loss: Var, output: Var, isFresh: Bool
  ) {
    if var last = lastGraph, inputNoise == 0,
      fits(last.input.shape, rows.count, data.inputs.shape),
      fits(last.target.shape, rows.count, data.targets.shape),
      last.input.dtype == data.inputs.dtype, last.target.dtype == data.targets.dtype
    {
      last.input.updateValue { $0.assign(rowsOf: data.inputs, at: rows) }
      last.target.updateValue { $0.assign(rowsOf: data.targets, at: rows) }
      last.isFresh = false
      return last
    }
    var batch = data.subset(Array(rows))
    if inputNoise > 0 { batch.inputs = addingNoise(batch.inputs) }
    return graph(for: batch)
  }

  /// Whether a node of `shape` holds `rows` samples of a tensor of shape `all`.
  private func fits(_ shape: [Int], _ rows: Int, _ all: [Int]) -> Bool {
    shape.count == all.count && shape.first == rows && shape.dropFirst() == all.dropFirst()
  }

  /// One training step on a batch: forward, loss, backward, a check that the loss and the
  /// gradients are finite, update. Returns the loss and the model's output.
  ///
  /// - Throws: ``NonFiniteError`` (with step and epoch 0) instead of updating, when the
  ///   loss or a gradient is NaN or infinite.
  @discardableResult
  public func step(on batch: Dataset) throws -> (loss: Double, output: Tensor) {
    try step(on: batch, number: 0, epoch: 0)
  }

  private func step(on batch: Dataset, number: Int, epoch: Int) throws -> (
    loss: Double, output: Tensor
  ) {
    model.isTraining = true
    var batch = batch
    if inputNoise > 0 {
      batch.inputs = addingNoise(batch.inputs)
    }
    return try step(on: graph(for: batch), number: number, epoch: epoch)
  }

  /// A training step on the graph of a batch whose samples are in place, built or found in
  /// training mode.
  private func step(
    on g: (input: Var, target: Var, loss: Var, output: Var, isFresh: Bool), number: Int,
    epoch: Int
  ) throws -> (loss: Double, output: Tensor) {
    if !g.isFresh { g.loss.evaluate() }
    model.zeroGradients()
    g.loss.backward()
    let parameters = model.parameters
    let loss = g.loss.value.scalar
    if !loss.isFinite || !parameters.allSatisfy({ $0.grad?.isFinite ?? true }) {
      throw nonFinite(g.loss, loss: loss, step: number, epoch: epoch)
    }
    if let gradientClipNorm { clipGradients(parameters, maxNorm: gradientClipNorm) }
    if let gradientClipValue { clipGradients(parameters, maxValue: gradientClipValue) }
    optimizer.update(parameters)
    return (loss, g.output.value)
  }

  /// The error for a non-finite loss or gradient, naming the op that made it.
  private func nonFinite(_ loss: Var, loss value: Double, step: Int, epoch: Int)
    -> NonFiniteError
  {
    if let node = loss.firstNonFiniteNode() {
      let op = node.creator.map { "\($0)" } ?? "a leaf (\(node.name ?? "unnamed"))"
      return NonFiniteError(step: step, epoch: epoch, loss: value, op: op, inValue: true)
    }
    // The values are finite: the first non-finite gradient, in backward order, was made by
    // the rule of an op that uses that node.
    let node = loss.firstNonFiniteGradient()
    let users = loss.topologicalOrder().compactMap(\.creator).filter { op in
      op.args.contains { $0 === node }
    }
    let op =
      users.first.map { "the backward rule of \($0)" }
      ?? "the gradient of \(node?.name ?? "a node")"
    return NonFiniteError(step: step, epoch: epoch, loss: value, op: op, inValue: false)
  }

  private func addingNoise(_ x: Tensor) -> Tensor {
    var noisy = x
    let noise = Tensor.normal(
      x.shape, standardDeviation: inputNoise, dtype: x.dtype, using: &generator)
    for i in 0..<noisy.count { noisy[flat: i] += noise[flat: i] }
    return noisy
  }

  /// The mean loss and metric on a dataset, in evaluation mode and in batches; the model's
  /// mode is restored afterwards.
  public func evaluate(_ data: Dataset, batchSize: Int = 256) -> (loss: Double, metric: Double?) {
    let wasTraining = model.isTraining
    model.isTraining = false
    defer { model.isTraining = wasTraining }
    var total = 0.0
    var tally = MetricTally()
    for batch in data.batches(size: batchSize) {
      let g = graph(for: batch)
      if !g.isFresh { g.loss.evaluate() }
      total += g.loss.value.scalar * Double(batch.count)
      if metric != nil { tally.add(scores: g.output.value, targets: batch.targets) }
    }
    return (total / Double(max(data.count, 1)), metric.map { _ in tally.value })
  }

  /// The model's output for `inputs`, in evaluation mode, without recording a graph; the
  /// model's mode is restored afterwards.
  public func predict(_ inputs: Tensor) -> Tensor {
    let wasTraining = model.isTraining
    model.isTraining = false
    defer { model.isTraining = wasTraining }
    return noGrad { model(Var.constant(inputs)).value }
  }

  /// Trains for up to `epochs` epochs and returns the per-epoch history.
  ///
  /// After ``resume(from:)``, the run continues where the checkpoint left it: the same
  /// epoch, the same next batch, the same random draws, so it ends exactly where the
  /// interrupted run would have.
  ///
  /// - Parameters:
  ///   - checkpointing: Where and how often to write checkpoints.
  ///   - stoppingAfter: Stop after this many updates in all (counting those of resumed
  ///     runs), as an interrupted run would.
  /// - Throws: ``NonFiniteError`` at the first NaN or infinity in the loss or the
  ///   gradients, with the parameters of the last finite step in the model; the errors of
  ///   writing a checkpoint; ``CheckpointError`` when a resumed run does not match the
  ///   data or the settings it was saved with.
  @discardableResult
  public func fit(
    _ data: Dataset, validation: Dataset? = nil, epochs: Int, batchSize: Int,
    dropLast: Bool = false, earlyStopping: EarlyStopping? = nil,
    checkpointing: Checkpointing? = nil, stoppingAfter maximumSteps: Int? = nil
  ) throws -> History {
    require(
      epochs >= 0 && batchSize > 0,
      "fit: epochs \(epochs) and batch size \(batchSize) must be positive")
    let settings = RunState.Settings(
      samples: data.count, batchSize: batchSize, dropLast: dropLast, epochs: epochs)
    var run = resumed ?? RunState(settings: settings)
    resumed = nil
    guard run.settings == settings else {
      throw CheckpointError(
        "the checkpoint was saved by a run over \(run.settings), this one is over \(settings)")
    }
    let start = Date()
    let progress = self.progress.resolved
    defer { if progress == .live { FileHandle.standardOutput.write(Data("\n".utf8)) } }
    while run.epoch <= epochs && !run.history.stoppedEarly {
      if run.order == nil {
        if let schedule {
          optimizer.learningRate = schedule.learningRate(
            base: baseLearningRate, step: run.epoch - 1)
        }
        run.order = Array(0..<data.count).shuffled(using: &generator)
        run.epochStart = Date()
      }
      let batches = data.batchRanges(size: batchSize, dropLast: dropLast)
      while run.batch < batches.count {
        if let maximumSteps, run.history.steps >= maximumSteps { return run.history }
        let rows = run.order![batches[run.batch]]
        model.isTraining = true
        let g = graph(forRows: rows, of: data)
        let (loss, output) = try step(on: g, number: run.history.steps + 1, epoch: run.epoch)
        run.lossSum += loss * Double(rows.count)
        run.seen += rows.count
        if metric != nil { run.tally.add(scores: output, targets: g.target.value) }
        run.batch += 1
        run.history.steps += 1
        if let checkpointing, run.history.steps % checkpointing.everySteps == 0 {
          try writeCheckpoint(run, to: checkpointing.url)
        }
      }
      var record = EpochRecord(
        epoch: run.epoch, trainingLoss: run.lossSum / Double(max(run.seen, 1)),
        validationLoss: nil, trainingMetric: metric.map { _ in run.tally.value },
        validationMetric: nil, learningRate: optimizer.learningRate,
        seconds: Date().timeIntervalSince(run.epochStart))
      if let validation {
        let (loss, value) = evaluate(validation)
        record.validationLoss = loss
        record.validationMetric = value
      }
      run.finishEpoch(record)
      for callback in callbacks { callback(record) }
      switch progress {
      case .live:
        let line = Self.progressLine(record, of: epochs)
        let elapsed = Date().timeIntervalSince(start)
        let left = elapsed / Double(record.epoch) * Double(epochs - record.epoch)
        FileHandle.standardOutput.write(
          Data(("\r" + line + "  \(Int(left.rounded()))s left   ").utf8))
      case .lines:
        if Self.reportsLine(after: record.epoch, of: epochs) {
          print(Self.progressLine(record, of: epochs))
        }
      case .automatic, .none: break
      }
      if let earlyStopping, let loss = record.validationLoss {
        if run.best == nil || loss < run.best!.loss - earlyStopping.minimumImprovement {
          run.best = (loss, record.epoch, model.namedState.map(\.value.value))
        } else if record.epoch - run.best!.epoch >= earlyStopping.patience {
          run.history.stoppedEarly = true
        }
      }
    }
    if let best = run.best {
      for ((_, v), value) in zip(model.namedState, best.state) { v.updateValue { $0 = value } }
      run.history.bestEpoch = best.epoch
    }
    if let checkpointing { try writeCheckpoint(run, to: checkpointing.url) }
    return run.history
  }

  /// Whether ``Progress/lines`` prints a line after `epoch`: every ⌈epochs / 20⌉-th epoch and
  /// the last, at most 20 lines.
  public static func reportsLine(after epoch: Int, of epochs: Int) -> Bool {
    let every = Swift.max(1, (epochs + 19) / 20)
    return epoch % every == 0 || epoch == epochs
  }

  /// An epoch's progress line: the numbers only, no clock.
  static func progressLine(_ record: EpochRecord, of epochs: Int) -> String {
    var line = "epoch \(record.epoch)/\(epochs)  loss \(format(record.trainingLoss))"
    if let m = record.trainingMetric { line += "  metric \(format(m))" }
    if let v = record.validationLoss { line += "  validation \(format(v))" }
    if let m = record.validationMetric { line += " / \(format(m))" }
    return line
  }
}

/// Where a run is: what a checkpoint holds besides the model and the optimizer.
struct RunState {
  /// What the run was started over: a resumed run must be given the same.
  struct Settings: Equatable, Codable, CustomStringConvertible {
    var samples: Int
    var batchSize: Int
    var dropLast: Bool
    var epochs: Int
    var description: String {
      "\(samples) samples in batches of \(batchSize)\(dropLast ? " (last dropped)" : ""), \(epochs) epochs"
    }
  }

  var settings: Settings
  var history = Trainer.History()
  /// The epoch being trained, from 1.
  var epoch = 1
  /// The shuffled order of this epoch's samples, once drawn.
  var order: [Int]?
  /// The batches of this epoch done so far.
  var batch = 0
  var lossSum = 0.0
  var seen = 0
  var tally = MetricTally()
  var epochStart = Date()
  /// The best validation loss so far, its epoch, and the model's state then.
  var best: (loss: Double, epoch: Int, state: [Tensor])?

  init(settings: Settings) { self.settings = settings }

  mutating func finishEpoch(_ record: Trainer.EpochRecord) {
    history.epochs.append(record)
    epoch += 1
    order = nil
    batch = 0
    lossSum = 0
    seen = 0
    tally = MetricTally()
  }
}

/// Running counts for accuracy and Q3: correct predictions among labelled rows (labels of
/// −1, padding, are not counted).
struct MetricTally: Codable {
  var correct = 0
  var counted = 0

  mutating func add(scores: Tensor, targets: Tensor) {
    let k = scores.shape.last ?? 1
    let labels = targets.labels
    let rows = scores.count / Swift.max(k, 1)
    require(
      rows == labels.count, "metric: \(rows) rows of scores for \(labels.count) labels")
    let values = scores.scalars
    for (i, label) in labels.enumerated() where label >= 0 {
      var best = 0
      for j in 1..<k where values[i * k + j] > values[i * k + best] { best = j }
      counted += 1
      if best == label { correct += 1 }
    }
  }

  var value: Double { counted == 0 ? 0 : Double(correct) / Double(counted) }
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
