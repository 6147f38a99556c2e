import Autodiff

/// Samples in rows: `inputs[i]` goes with `targets[i]`.
///
/// Targets are class labels stored as numbers (shape [n]) for classification, or rows of
/// values (shape [n, k]) for regression and reconstruction.
public struct Dataset: Sendable {
  public var inputs: Tensor
  public var targets: Tensor

  public init(inputs: Tensor, targets: Tensor) {
    require(
      inputs.rank >= 1 && targets.rank >= 1 && inputs.shape[0] == targets.shape[0],
      "Dataset: \(inputs.shape) inputs and \(targets.shape) targets differ in sample count")
    self.inputs = inputs
    self.targets = targets
  }

  /// The number of samples.
  public var count: Int { inputs.shape[0] }

  /// The samples at `indices`, in that order.
  public func subset(_ indices: [Int]) -> Dataset {
    Dataset(inputs: inputs.gatheringRows(indices), targets: targets.gatheringRows(indices))
  }

  /// The samples in a random order.
  public func shuffled(using generator: inout some RandomNumberGenerator) -> Dataset {
    subset(Array(0..<count).shuffled(using: &generator))
  }

  /// Splits into consecutive parts with the given fractions of the samples (the last part
  /// takes the remainder): `split([0.8, 0.2])` gives training and validation sets.
  public func split(_ fractions: [Double]) -> [Dataset] {
    require(
      !fractions.isEmpty && fractions.allSatisfy { $0 >= 0 }, "split: bad fractions \(fractions)")
    var parts: [Dataset] = []
    var start = 0
    for (i, fraction) in fractions.enumerated() {
      let end =
        i == fractions.count - 1
        ? count : min(count, start + Int((fraction * Double(count)).rounded()))
      parts.append(subset(Array(start..<end)))
      start = end
    }
    return parts
  }

  /// Minibatches for one epoch: shuffled when a generator is given; the last smaller batch
  /// is kept unless `dropLast`. 300 samples in batches of 38 give 7 of 38 and one of 34.
  public func batches(
    size: Int, dropLast: Bool = false, shuffledBy generator: inout some RandomNumberGenerator
  ) -> [Dataset] {
    batches(size: size, dropLast: dropLast, order: Array(0..<count).shuffled(using: &generator))
  }

  /// Minibatches in the stored order.
  public func batches(size: Int, dropLast: Bool = false) -> [Dataset] {
    batches(size: size, dropLast: dropLast, order: Array(0..<count))
  }

  func batches(size: Int, dropLast: Bool, order: [Int]) -> [Dataset] {
    batchRanges(size: size, dropLast: dropLast).map { subset(Array(order[$0])) }
  }

  /// The positions in an epoch's order of each minibatch's samples.
  func batchRanges(size: Int, dropLast: Bool) -> [Range<Int>] {
    require(size > 0, "batches: size \(size) must be positive")
    var result: [Range<Int>] = []
    var start = 0
    while start < count {
      let end = min(start + size, count)
      if end - start < size && dropLast { break }
      result.append(start..<end)
      start = end
    }
    return result
  }
}

extension Tensor {
  /// Labels 0..<classes as one-hot rows, [n, classes].
  public static func oneHot(_ labels: [Int], classes: Int, dtype: DType = .default) -> Tensor {
    var t = Tensor.zeros([labels.count, classes], dtype: dtype)
    for (i, label) in labels.enumerated() {
      require(
        label >= 0 && label < classes, "oneHot: label \(label) out of range 0..<\(classes)")
      t[i, label] = 1
    }
    return t
  }

  /// The index of the largest entry of each row of a matrix.
  public var argmaxRows: [Int] {
    require(rank == 2, "argmaxRows: needs a matrix, got \(shape)")
    let (n, k) = (shape[0], shape[1])
    let all = scalars
    return (0..<n).map { i in
      var best = 0
      for j in 1..<k where all[i * k + j] > all[i * k + best] { best = j }
      return best
    }
  }
}

/// Per-column standardization: (x − mean) / standard deviation, with the statistics
/// measured on training data and applied to any data.
public struct Standardizer: Sendable {
  public var means: [Double]
  public var standardDeviations: [Double]

  /// Measures the mean and standard deviation of each column of a matrix.
  public init(fitting data: Tensor) {
    require(data.rank == 2, "Standardizer: needs a matrix, got \(data.shape)")
    let (n, d) = (data.shape[0], data.shape[1])
    let all = data.scalars
    let count = Double(max(n, 1))
    let means = (0..<d).map { j in (0..<n).reduce(0) { $0 + all[$1 * d + j] } / count }
    self.means = means
    standardDeviations = (0..<d).map { j in
      let v =
        (0..<n).reduce(0) { $0 + (all[$1 * d + j] - means[j]) * (all[$1 * d + j] - means[j]) }
        / count
      return v > 0 ? v.squareRoot() : 1
    }
  }

  /// The standardized data.
  public func transform(_ data: Tensor) -> Tensor {
    require(
      data.rank == 2 && data.shape[1] == means.count,
      "Standardizer: shape \(data.shape) does not have \(means.count) columns")
    var out = data
    let d = means.count
    for i in 0..<out.count {
      out[flat: i] = (out[flat: i] - means[i % d]) / standardDeviations[i % d]
    }
    return out
  }
}

/// Minibatches of a dataset, epoch after epoch: shuffled with its own seeded generator
/// when `shuffle` is set, the last smaller batch kept unless `dropLast`.
///
/// ```swift
/// var loader = DataLoader(data, batchSize: 38, shuffle: true, seed: 1)
/// for batch in loader.nextEpoch() { … }  // 300 samples: 7 batches of 38 and one of 34
/// ```
public struct DataLoader: Sendable {
  public let dataset: Dataset
  public let batchSize: Int
  public let shuffle: Bool
  public let dropLast: Bool
  private var generator: SeededGenerator

  public init(
    _ dataset: Dataset, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false,
    seed: UInt64 = 0
  ) {
    require(batchSize > 0, "DataLoader: batch size \(batchSize) must be positive")
    self.dataset = dataset
    self.batchSize = batchSize
    self.shuffle = shuffle
    self.dropLast = dropLast
    generator = SeededGenerator(seed: seed)
  }

  /// The number of batches per epoch.
  public var batchCount: Int {
    dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
  }

  /// The batches of the next epoch.
  public mutating func nextEpoch() -> [Dataset] {
    shuffle
      ? dataset.batches(size: batchSize, dropLast: dropLast, shuffledBy: &generator)
      : dataset.batches(size: batchSize, dropLast: dropLast)
  }
}

extension Dataset {
  /// Sequences that differ in length, given one by one.
  public struct UnequalLengths: Error, CustomStringConvertible {
    /// The number of steps of each sequence.
    public var lengths: [Int]
    public var description: String {
      let first = lengths.indices.first { lengths[$0] != lengths[0] } ?? 0
      return
        "sequences 0 and \(first) have \(lengths[0]) and \(lengths[first]) steps: a batch holds sequences of one length; group them by length, or pad them and label every step with Dataset.padded(sequences:stepLabels:)"
    }
  }

  /// Sequences of one length with one target row each: inputs `[count, time, features]`
  /// from `count` tensors `[time, features]`.
  ///
  /// - Throws: ``UnequalLengths`` when the sequences do not all have the same number of
  ///   steps.
  public init(sequences: [Tensor], targets: Tensor) throws {
    require(!sequences.isEmpty, "Dataset: no sequences")
    let features = sequences[0].shape.last ?? 1
    for (i, sequence) in sequences.enumerated() {
      require(
        sequence.rank == 2 && sequence.shape[1] == features,
        "Dataset: sequence \(i) has shape \(sequence.shape), not [time, \(features)]")
    }
    let lengths = sequences.map { $0.shape[0] }
    guard Set(lengths).count == 1 else { throw UnequalLengths(lengths: lengths) }
    let values = sequences.flatMap(\.scalars)
    self.init(
      inputs: Tensor(
        values, shape: [sequences.count, lengths[0], features], dtype: sequences[0].dtype),
      targets: targets)
  }

  /// Sequences of different lengths with a class label per step, padded at the end with
  /// zero steps to the longest: inputs `[count, longest, features]`, and labels
  /// `[count, longest]` that are −1 on the padded steps. `crossEntropy(logits:labels:)` and
  /// the accuracy metric leave those steps out, so padding changes nothing but the shape.
  public static func padded(
    sequences: [Tensor], stepLabels: [[Int]], dtype: DType = .default
  ) -> Dataset {
    require(
      !sequences.isEmpty && sequences.count == stepLabels.count,
      "Dataset.padded: \(sequences.count) sequences and \(stepLabels.count) label lists")
    let features = sequences[0].shape.last ?? 1
    let longest = sequences.map { $0.shape.first ?? 0 }.max()!
    var inputs = [Double](repeating: 0, count: sequences.count * longest * features)
    var labels = [Double](repeating: -1, count: sequences.count * longest)
    for (i, (sequence, steps)) in zip(sequences, stepLabels).enumerated() {
      require(
        sequence.rank == 2 && sequence.shape[1] == features && steps.count == sequence.shape[0],
        "Dataset.padded: sequence \(i) of shape \(sequence.shape) with \(steps.count) labels")
      for (k, value) in sequence.scalars.enumerated() {
        inputs[i * longest * features + k] = value
      }
      for (t, label) in steps.enumerated() { labels[i * longest + t] = Double(label) }
    }
    return Dataset(
      inputs: Tensor(inputs, shape: [sequences.count, longest, features], dtype: dtype),
      targets: Tensor(labels, shape: [sequences.count, longest], dtype: dtype))
  }
}
