/// How a loss combines its per-element (or per-sample) terms.
public enum LossReduction: Sendable {
  /// The average: over all elements, or over samples for losses that sum within a sample.
  case mean
  /// The total.
  case sum
}

@available(*, deprecated, renamed: "LossReduction")
public typealias Reduction = LossReduction
