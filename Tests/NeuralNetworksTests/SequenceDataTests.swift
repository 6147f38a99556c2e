import Autodiff
import Foundation
import NeuralNetworks
import Testing

@Suite("Sequence data")
struct SequenceDataTests {
  @Test func sequencesOfDifferentLengthsAreRefusedWithTheLengths() {
    let sequences = [Tensor.zeros([3, 2]), Tensor.zeros([3, 2]), Tensor.zeros([5, 2])]
    #expect(throws: Dataset.UnequalLengths.self) {
      try Dataset(sequences: sequences, targets: Tensor([0, 1, 0]))
    }
    do {
      _ = try Dataset(sequences: sequences, targets: Tensor([0, 1, 0]))
    } catch {
      #expect("\(error)".contains("sequences 0 and 2 have 3 and 5 steps"))
    }
    let equal = try? Dataset(sequences: Array(sequences.prefix(2)), targets: Tensor([0, 1]))
    #expect(equal?.inputs.shape == [2, 3, 2])
  }

  /// Padding at the end changes nothing: a recurrent layer is causal, and the padded steps
  /// are labelled −1, which the loss and the accuracy leave out.
  @Test func paddedStepsDoNotChangeTheLossOrTheAccuracy() {
    var rng = SeededGenerator(seed: 1)
    let model = Sequential(
      GRU(inputSize: 2, hiddenSize: 4, dtype: .float64, using: &rng),
      Linear(inputSize: 4, outputSize: 3, dtype: .float64, using: &rng))
    let lengths = [2, 5, 3]
    let sequences = lengths.map { Tensor.normal([$0, 2], dtype: .float64, using: &rng) }
    let labels = lengths.map { (0..<$0).map { _ in Int.random(in: 0..<3, using: &rng) } }
    let data = Dataset.padded(sequences: sequences, stepLabels: labels, dtype: .float64)
    #expect(data.inputs.shape == [3, 5, 2])
    #expect(
      data.targets.rowScalars[0] == [labels[0][0], labels[0][1], -1, -1, -1].map(Double.init))

    let padded = crossEntropy(logits: model(Var(data.inputs)), labels: Var(data.targets))
    var total = 0.0
    for (sequence, steps) in zip(sequences, labels) {
      let logits = model(Var(sequence.reshaped([1, sequence.shape[0], 2])))
      total +=
        crossEntropy(
          logits: logits, labels: Var(Tensor(steps.map(Double.init), shape: [1, steps.count])),
          reduction: .sum
        ).value.scalar
    }
    let steps = Double(lengths.reduce(0, +))
    #expect(abs(padded.value.scalar - total / steps) < 1e-12)

    let scores = Tensor([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    #expect(Metrics.accuracy(scores: scores, labels: [0, -1, 1]) == 0.5)
  }
}
