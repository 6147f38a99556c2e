import Autodiff

/// Dropout with rate α: in training, each unit is dropped with probability α and the kept
/// ones are scaled by 1/(1 − α) (inverted dropout); in evaluation, the identity.
///
/// Backward: 0 for dropped units, 1/(1 − α) for kept ones.
public final class Dropout: Module {
  public let rate: Double
  private let source: RandomSource

  public init(rate: Double, seed: UInt64 = 0) {
    require(rate >= 0 && rate < 1, "Dropout: rate \(rate) must be in [0, 1)")
    self.rate = rate
    source = RandomSource(seed: seed)
  }

  public override var ownRandomSources: [RandomSource] { [source] }

  public override func callAsFunction(_ x: Var) -> Var {
    // The mode is read when the graph is evaluated, so one built graph serves both modes.
    // The graph holds the module (the module never holds a graph: no cycle).
    x.dropout(rate: rate, source: source) { self.isTraining }
  }

  public override var summary: String { "Dropout(\(rate))" }
}
