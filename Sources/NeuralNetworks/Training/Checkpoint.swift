import Autodiff
import Foundation

/// A checkpoint that cannot be resumed: its file is corrupt, or it was saved by another
/// model, optimizer or run. The message says what does not match.
public struct CheckpointError: Error, CustomStringConvertible {
  public var description: String
  init(_ description: String) { self.description = description }
}

/// A checkpoint holds everything a run needs to go on as if it had never stopped: the
/// model's parameters and buffers, the optimizer's state, where the run is (epoch, batch,
/// the epoch's shuffled order, the partial sums of the epoch, the history), the state of
/// every random source (the trainer's own, for shuffling and input noise, and the model's:
/// dropout masks, a VAE's noise), and early stopping's best epoch with its parameters.
///
/// The file is a safetensors file, so any tool can read its tensors: `model.*` for the
/// module's named state, `optimizer.i.j` for slot j of parameter i, `best.*` for the best
/// epoch's state; its header's metadata holds the rest as JSON, and an FNV-1a checksum of
/// the JSON and of every tensor's bytes. It is written atomically (to a temporary file,
/// then renamed), so a crash while writing leaves the previous checkpoint intact.
extension Trainer {
  /// What the metadata holds, as JSON.
  struct CheckpointRecord: Codable {
    var format = 1
    var settings: RunState.Settings
    var history: History
    var epoch: Int
    var order: [Int]?
    var batch: Int
    var lossSum: Double
    var seen: Int
    var tally: MetricTally
    var bestLoss: Double?
    var bestEpoch: Int?
    /// Generator states as decimal strings (JSON numbers lose 64-bit integers).
    var generator: [String]
    var randomSources: [[String]]
    var optimizerCounters: [String: Int]
    var optimizerSlots: [Int]
    var learningRate: Double
    var baseLearningRate: Double
  }

  static let recordKey = "autodiff.trainer"
  static let checksumKey = "autodiff.checksum"

  func writeCheckpoint(_ run: RunState, to url: URL) throws {
    let state = model.namedState
    let optimizerState = optimizer.state(for: model.parameters)
    var tensors = state.map { (name: "model.\($0.name)", tensor: $0.value.value) }
    for (i, slots) in optimizerState.tensors.enumerated() {
      for (j, t) in slots.enumerated() { tensors.append(("optimizer.\(i).\(j)", t)) }
    }
    if let best = run.best {
      for ((name, _), t) in zip(state, best.state) { tensors.append(("best.\(name)", t)) }
    }
    let record = CheckpointRecord(
      settings: run.settings, history: run.history, epoch: run.epoch, order: run.order,
      batch: run.batch, lossSum: run.lossSum, seen: run.seen, tally: run.tally,
      bestLoss: run.best?.loss, bestEpoch: run.best?.epoch,
      generator: generator.state.map(String.init),
      randomSources: model.randomSources.map { $0.state.map(String.init) },
      optimizerCounters: optimizerState.counters,
      optimizerSlots: optimizerState.tensors.map(\.count), learningRate: optimizer.learningRate,
      baseLearningRate: baseLearningRate)
    let json = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
    try SafeTensors.write(
      tensors,
      metadata: [
        Self.recordKey: json,
        Self.checksumKey: Self.checksum(json, tensors.sorted { $0.name < $1.name }.map(\.tensor)),
      ], to: url)
  }

  /// Restores the model, the optimizer and this trainer from a checkpoint written by
  /// ``fit(_:validation:epochs:batchSize:dropLast:earlyStopping:checkpointing:stoppingAfter:)``;
  /// the next call to `fit`, with the same data and settings, continues the run from where
  /// the checkpoint was written.
  ///
  /// Nothing is changed unless the whole checkpoint fits.
  ///
  /// - Throws: `DataFileError` when the file cannot be read; ``CheckpointError`` when its
  ///   checksum does not match its contents (a corrupt file) or when it was saved by a model
  ///   or an optimizer of another structure.
  public func resume(from url: URL) throws {
    let file = url.lastPathComponent
    let (tensors, metadata) = try SafeTensors.readWithMetadata(url)
    guard let json = metadata[Self.recordKey], let checksum = metadata[Self.checksumKey] else {
      throw CheckpointError("\(file): no training state in the header: not a checkpoint")
    }
    guard Self.checksum(json, tensors.keys.sorted().map { tensors[$0]! }) == checksum else {
      throw CheckpointError(
        "\(file): the checksum does not match the contents: the file is corrupt")
    }
    let record: CheckpointRecord
    do {
      record = try JSONDecoder().decode(CheckpointRecord.self, from: Data(json.utf8))
    } catch {
      throw CheckpointError("\(file): the training state is not readable: \(error)")
    }
    guard record.format == 1 else {
      throw CheckpointError("\(file): checkpoint format \(record.format), expected 1")
    }

    // Check everything before changing anything.
    let state = model.namedState
    for (name, v) in state {
      guard let t = tensors["model.\(name)"] else {
        throw CheckpointError("\(file): the model has '\(name)', the checkpoint does not")
      }
      guard t.shape == v.shape && t.dtype == v.dtype else {
        throw CheckpointError(
          "\(file): '\(name)' is \(t.shape) (\(t.dtype)) in the checkpoint and \(v.shape) (\(v.dtype)) in the model"
        )
      }
    }
    let modelNames = Set(state.map { "model.\($0.name)" })
    if let extra = tensors.keys.filter({ $0.hasPrefix("model.") && !modelNames.contains($0) })
      .sorted().first
    {
      throw CheckpointError(
        "\(file): the checkpoint has '\(extra.dropFirst(6))', the model does not")
    }
    let parameters = model.parameters
    guard record.optimizerSlots.count == parameters.count else {
      throw CheckpointError(
        "\(file): the optimizer state is for \(record.optimizerSlots.count) parameters, the model has \(parameters.count)"
      )
    }
    var slots: [[Tensor]] = []
    for (i, count) in record.optimizerSlots.enumerated() {
      var tensorsOfParameter: [Tensor] = []
      for j in 0..<count {
        guard let t = tensors["optimizer.\(i).\(j)"] else {
          throw CheckpointError("\(file): optimizer tensor \(i).\(j) is missing")
        }
        tensorsOfParameter.append(t)
      }
      slots.append(tensorsOfParameter)
    }
    let sources = model.randomSources
    guard record.randomSources.count == sources.count else {
      throw CheckpointError(
        "\(file): \(record.randomSources.count) random sources in the checkpoint, \(sources.count) in the model"
      )
    }
    let generatorState = try Self.words(record.generator, file)
    let sourceStates = try record.randomSources.map { try Self.words($0, file) }
    var best: (loss: Double, epoch: Int, state: [Tensor])?
    if let loss = record.bestLoss, let epoch = record.bestEpoch {
      let saved = try state.map { name, v -> Tensor in
        guard let t = tensors["best.\(name)"], t.shape == v.shape, t.dtype == v.dtype else {
          throw CheckpointError("\(file): the best epoch's '\(name)' is missing or misshapen")
        }
        return t
      }
      best = (loss, epoch, saved)
    }
    do {
      try optimizer.restore(
        OptimizerState(tensors: slots, counters: record.optimizerCounters), for: parameters)
    } catch {
      throw CheckpointError("\(file): \(error)")
    }

    for (name, v) in state { v.updateValue { $0 = tensors["model.\(name)"]! } }
    for (source, words) in zip(sources, sourceStates) { source.state = words }
    generator = SeededGenerator(state: generatorState)
    optimizer.learningRate = record.learningRate
    baseLearningRate = record.baseLearningRate
    var run = RunState(settings: record.settings)
    run.history = record.history
    run.epoch = record.epoch
    run.order = record.order
    run.batch = record.batch
    run.lossSum = record.lossSum
    run.seen = record.seen
    run.tally = record.tally
    run.best = best
    resumed = run
  }

  /// Four 64-bit words from decimal strings, a valid generator state.
  private static func words(_ strings: [String], _ file: String) throws -> [UInt64] {
    let words = strings.compactMap(UInt64.init)
    guard words.count == 4, strings.count == 4, words.contains(where: { $0 != 0 }) else {
      throw CheckpointError("\(file): a generator state is not four 64-bit words: \(strings)")
    }
    return words
  }

  /// FNV-1a (64 bits) of the JSON and of the tensors' bytes, the tensors in the order of
  /// their names.
  static func checksum(_ json: String, _ tensors: [Tensor]) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ bytes: UnsafeRawBufferPointer) {
      for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
      }
    }
    var text = json
    text.withUTF8 { mix(UnsafeRawBufferPointer($0)) }
    for t in tensors {
      switch t.dtype {
      case .float32: t.withUnsafeBufferPointer(as: Float.self) { mix(UnsafeRawBufferPointer($0)) }
      case .float64: t.withUnsafeBufferPointer(as: Double.self) { mix(UnsafeRawBufferPointer($0)) }
      }
    }
    return String(hash, radix: 16)
  }
}
