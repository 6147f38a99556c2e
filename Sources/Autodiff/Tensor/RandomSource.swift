/// A source of random bits that an op can draw from each time it is evaluated.
///
/// Ops such as dropout need fresh randomness on every evaluation of a built graph, so they
/// hold a reference to a generator rather than a copy. With `replaysEachDraw`, every draw
/// restarts from the seed: the same mask every time, which is what a gradient check needs.
public final class RandomSource {
  private var generator: SeededGenerator
  private let seed: UInt64
  private let replaysEachDraw: Bool

  public init(seed: UInt64, replaysEachDraw: Bool = false) {
    self.seed = seed
    self.replaysEachDraw = replaysEachDraw
    generator = SeededGenerator(seed: seed)
  }

  /// The state of the generator: where the draws continue. Checkpoints save it and set it
  /// back, so that a resumed run draws the same masks and noise as one never stopped.
  public var state: [UInt64] {
    get { generator.state }
    set { generator = SeededGenerator(state: newValue) }
  }

  /// Calls `body` with the generator.
  public func draw<R>(_ body: (inout SeededGenerator) -> R) -> R {
    if replaysEachDraw { generator = SeededGenerator(seed: seed) }
    return body(&generator)
  }
}
