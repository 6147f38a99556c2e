// What a forward saves for its backward. An op's closures capture one of these, never the
// op's output: the forward refreshes it on every evaluation and the backward reads it.

/// Storage that a forward writes and the matching backward reads: a value saved for the
/// backward that is refreshed on every evaluation.
public final class SavedTensor {
  public var tensor = Tensor.empty
  public init() {}
}

/// Positions that a forward saves for its backward (the argmax of a max reduction).
final class SavedPositions {
  var positions: [Int] = []
}
