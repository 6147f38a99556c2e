import Foundation

/// The title, scale and range of a chart's axis.
///
/// By default an axis fits the data: a linear axis extends to the nearest ticks around it,
/// a logarithmic one to whole powers of ten. A series that never changes, or a range of
/// zero width, still gets an axis with ticks around its value.
///
/// ```swift
/// Axis("epoch")
/// Axis("loss", scale: .logarithmic)
/// Axis("accuracy", range: 0...1)
/// ```
public struct Axis: Sendable {
  /// How values map to positions along the axis.
  public enum Scale: Sendable {
    /// Equal differences take equal lengths.
    case linear
    /// Equal ratios take equal lengths (base 10); values that are not positive are not
    /// drawn.
    case logarithmic
  }

  /// The axis title, drawn beside it; empty for none.
  public var title: String
  /// Linear or logarithmic.
  public var scale: Scale
  /// The values shown, or nil to fit the data.
  public var range: ClosedRange<Double>?

  /// - Precondition: `range`, when given, is finite, and positive on a logarithmic axis.
  public init(_ title: String = "", scale: Scale = .linear, range: ClosedRange<Double>? = nil) {
    if let range {
      require(
        range.lowerBound.isFinite && range.upperBound.isFinite,
        "Axis '\(title)': range \(range) is not finite")
      require(
        scale == .linear || range.lowerBound > 0,
        "Axis '\(title)': a logarithmic axis needs a positive range, got \(range)")
    }
    self.title = title
    self.scale = scale
    self.range = range
  }
}

/// An axis fitted to data: the range drawn, its ticks and their labels.
struct ResolvedAxis {
  let scale: Axis.Scale
  let lower: Double
  let upper: Double
  let ticks: [Double]
  let labels: [String]

  /// Fits `axis` to `data`; `includingZero` extends a linear range to 0 (bar charts).
  init(_ axis: Axis, data: [Double], includingZero: Bool = false) {
    scale = axis.scale
    let usable = data.filter { $0.isFinite && (axis.scale == .linear || $0 > 0) }
    switch axis.scale {
    case .linear:
      var (lo, hi) =
        axis.range.map { ($0.lowerBound, $0.upperBound) }
        ?? (usable.min() ?? 0, usable.max() ?? 1)
      if includingZero && axis.range == nil { (lo, hi) = (min(lo, 0), max(hi, 0)) }
      if lo == hi {
        let pad = lo == 0 ? 1 : abs(lo) * 0.1
        (lo, hi) = (lo - pad, hi + pad)
      }
      let step = niceStep(hi / 5 - lo / 5)
      if axis.range == nil {
        (lo, hi) = ((lo / step).rounded(.down) * step, (hi / step).rounded(.up) * step)
      }
      lower = lo
      upper = hi
      // The tolerance keeps a tick on an end that rounding puts a hair outside (1.2 / 0.2).
      let first = (lo / step - 1e-9).rounded(.up)
      let count = Int(((hi / step + 1e-9).rounded(.down) - first).rounded()) + 1
      ticks = (0..<max(count, 0)).map { (first + Double($0)) * step }
      labels = linearLabels(ticks, step: step)
    case .logarithmic:
      var (lo, hi) =
        axis.range.map { ($0.lowerBound, $0.upperBound) }
        ?? (usable.min() ?? 1, usable.max() ?? 10)
      if lo == hi { (lo, hi) = (lo / 10, hi * 10) }
      if axis.range == nil {
        // Whole decades, as many below as it takes for the ticks to reach both ends.
        let (first, last) = (log10(lo).rounded(.down), log10(hi).rounded(.up))
        let every = decadesPerTick(Int(last - first))
        let extra = (every - Int(last - first) % every) % every
        lo = pow(10, first - Double(extra))
        hi = pow(10, last)
      }
      lower = lo
      upper = hi
      var marks = logarithmicTicks(lo, hi)
      if marks.count < 2 {
        // Less than a factor of two apart: evenly spaced ticks read better.
        let step = niceStep(hi / 5 - lo / 5)
        let first = (lo / step - 1e-9).rounded(.up)
        marks = (0...Int(((hi / step + 1e-9).rounded(.down) - first).rounded())).map {
          (first + Double($0)) * step
        }.filter { $0 > 0 }
        labels = linearLabels(marks, step: step)
      } else {
        labels = marks.map { shortLabel($0) }
      }
      ticks = marks
    }
  }

  /// The position of `value` as a fraction of the axis length from the lower end (may be
  /// outside 0...1), or nil when the value cannot be drawn on this axis.
  func fraction(_ value: Double) -> Double? {
    guard value.isFinite else { return nil }
    let f: Double
    switch scale {
    case .linear:
      f = (value - lower) / (upper - lower)
    case .logarithmic:
      guard value > 0 else { return nil }
      f = (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
    }
    // Far outside the axis the exact position does not matter, only the direction; keeping
    // it bounded keeps the arithmetic finite.
    return min(max(f, -1e4), 1e4)
  }
}

/// A step of 1, 2 or 5 times a power of ten close to `rough`.
private func niceStep(_ rough: Double) -> Double {
  let rough = rough > 0 && rough.isFinite ? rough : 1
  let magnitude = pow(10, log10(rough).rounded(.down))
  let f = rough / magnitude
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude
}

/// Powers of ten in `lo...hi` (every k-th when there are many), with 2× and 5× marks when
/// the range spans two decades or less.
private func logarithmicTicks(_ lo: Double, _ hi: Double) -> [Double] {
  let (first, last) = (Int(log10(lo).rounded(.down)), Int(log10(hi).rounded(.up)))
  let every = decadesPerTick(last - first)
  let multiples: [Double] = last - first <= 2 ? [1, 2, 5] : [1]
  var ticks: [Double] = []
  for exponent in stride(from: first, through: last, by: every) {
    for m in multiples {
      let value = m * pow(10, Double(exponent))
      if value >= lo * (1 - 1e-9) && value <= hi * (1 + 1e-9) { ticks.append(value) }
    }
  }
  return ticks
}

/// Every decade gets a tick up to ten decades, then every second, third, …
private func decadesPerTick(_ decades: Int) -> Int { max(1, (decades + 9) / 10) }

/// Labels for evenly spaced ticks: the same number of decimals for all, or a shared
/// scientific form when the values are very large or very small.
private func linearLabels(_ ticks: [Double], step: Double) -> [String] {
  let largest = ticks.map { abs($0) }.max() ?? 0
  let stepExponent = Int(log10(step).rounded(.down))
  if largest >= 1e6 || (largest < 1e-3 && largest > 0) {
    let exponent = Int(log10(largest).rounded(.down))
    let decimals = max(0, exponent - stepExponent)
    return ticks.map { value in
      abs(value) < step / 2
        ? "0" : fixed(value / pow(10, Double(exponent)), decimals) + "e\(signed(exponent))"
    }
  }
  let decimals = max(0, -stepExponent)
  return ticks.map { fixed(abs($0) < step / 2 ? 0 : $0, decimals) }
}

/// A label for one value of the form m·10ᵏ: decimal when short, scientific otherwise.
func shortLabel(_ value: Double) -> String {
  guard value != 0 else { return "0" }
  let exponent = Int(log10(abs(value)).rounded(.down))
  let mantissa = value / pow(10, Double(exponent))
  let mantissaDecimals = abs(mantissa - mantissa.rounded()) < 1e-6 ? 0 : 1
  if exponent >= -3 && exponent <= 4 {
    return fixed(value, max(0, mantissaDecimals - exponent))
  }
  return fixed(mantissa, mantissaDecimals) + "e\(signed(exponent))"
}

/// `value` with exactly `decimals` decimals and a true minus sign, without Foundation's
/// formatting (the same text on every platform).
func fixed(_ value: Double, _ decimals: Int) -> String {
  guard value.isFinite else { return value.isNaN ? "NaN" : value < 0 ? "−∞" : "∞" }
  let scale = pow(10, Double(decimals))
  let scaled = (abs(value) * scale).rounded()
  guard scaled < 1e15 else { return "\(value)" }
  let digits = String(Int(scaled))
  let sign = value < 0 && scaled != 0 ? "−" : ""
  guard decimals > 0 else { return sign + digits }
  let padded = String(repeating: "0", count: max(0, decimals + 1 - digits.count)) + digits
  return sign + padded.dropLast(decimals) + "." + padded.suffix(decimals)
}

private func signed(_ exponent: Int) -> String { exponent < 0 ? "−\(-exponent)" : "\(exponent)" }
