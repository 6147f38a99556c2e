import Autodiff

/// Classification metrics from scores (one row per sample) and true labels.
public enum Metrics {
  /// The fraction of rows whose largest score is at the true label. Rows labelled −1
  /// (padded steps of a sequence) are not counted.
  public static func accuracy(scores: Tensor, labels: [Int]) -> Double {
    let predicted = scores.argmaxRows
    require(
      predicted.count == labels.count,
      "accuracy: \(predicted.count) predictions for \(labels.count) labels")
    let counted = zip(predicted, labels).filter { $0.1 >= 0 }
    guard !counted.isEmpty else { return 0 }
    return Double(counted.filter { $0 == $1 }.count) / Double(counted.count)
  }

  /// Q3, the secondary-structure score: the fraction of residues whose three-state class
  /// (helix, strand, coil) is predicted correctly. It is the accuracy over three classes.
  public static func q3(scores: Tensor, labels: [Int]) -> Double {
    require(
      scores.rank == 2 && scores.shape[1] == 3,
      "q3: needs three class scores per residue, got \(scores.shape)")
    return accuracy(scores: scores, labels: labels)
  }

  /// counts[true][predicted].
  public static func confusionMatrix(predicted: [Int], labels: [Int], classes: Int) -> [[Int]] {
    var counts = Array(repeating: Array(repeating: 0, count: classes), count: classes)
    for (p, t) in zip(predicted, labels) { counts[t][p] += 1 }
    return counts
  }

  /// Per class: precision = TP / (TP + FP), recall = TP / (TP + FN); 0 when undefined.
  public static func precisionAndRecall(confusion: [[Int]]) -> [(precision: Double, recall: Double)]
  {
    let k = confusion.count
    return (0..<k).map { c in
      let tp = Double(confusion[c][c])
      let predicted = Double((0..<k).reduce(0) { $0 + confusion[$1][c] })
      let actual = Double(confusion[c].reduce(0, +))
      return (predicted > 0 ? tp / predicted : 0, actual > 0 ? tp / actual : 0)
    }
  }
}

extension Tensor {
  /// The entries of a vector of class labels as integers.
  public var labels: [Int] { scalars.map { Int($0) } }
}
