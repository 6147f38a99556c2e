/// A line chart: one or more series of (x, y) points joined by lines, with axes, ticks, a
/// legend and optional logarithmic scales. For loss and accuracy curves, gradient norms per
/// layer, capacity curves, tuning curves and voltage traces.
///
/// ```swift
/// var chart = LineChart(
///   title: "Training", xAxis: Axis("epoch"), yAxis: Axis("loss", scale: .logarithmic))
/// chart.series.append(.init("training", y: history.map(\.trainingLoss)))
/// chart.series.append(.init("validation", y: history.map(\.validationLoss), style: .dashed))
/// try chart.write(to: URL(fileURLWithPath: "figures/loss.svg"))
/// ```
///
/// A point whose value cannot be drawn (NaN, infinite, or not positive on a logarithmic
/// axis) breaks its line, and the legend says how many such points were left out. Lines
/// that leave an axis range given explicitly are cut at the frame.
public struct LineChart: Figure {
  /// One line of the chart.
  public struct Series: Sendable {
    /// How the line is stroked.
    public enum Style: Sendable {
      case solid, dashed, dotted
    }

    /// The name in the legend; series with an empty label are left out of it.
    public var label: String
    public var x: [Double]
    public var y: [Double]
    /// The colour, or nil for the palette's colour for this series' position.
    public var color: Color?
    public var style: Style
    /// Whether each point also gets a dot.
    public var showsMarkers: Bool

    /// A series of points (x[i], y[i]).
    ///
    /// - Precondition: `x` and `y` have the same length.
    public init(
      _ label: String, x: [Double], y: [Double], color: Color? = nil, style: Style = .solid,
      showsMarkers: Bool = false
    ) {
      require(
        x.count == y.count,
        "LineChart.Series '\(label)': \(x.count) x values for \(y.count) y values")
      self.label = label
      self.x = x
      self.y = y
      self.color = color
      self.style = style
      self.showsMarkers = showsMarkers
    }

    /// A series of points (i, y[i]) for i = 0, 1, 2, …
    public init(
      _ label: String, y: [Double], color: Color? = nil, style: Style = .solid,
      showsMarkers: Bool = false
    ) {
      self.init(
        label, x: y.indices.map(Double.init), y: y, color: color, style: style,
        showsMarkers: showsMarkers)
    }
  }

  public var title: String
  public var xAxis: Axis
  public var yAxis: Axis
  public var series: [Series]
  /// The canvas size in pixels.
  public var width: Double
  public var height: Double

  public init(
    title: String = "", xAxis: Axis = Axis(), yAxis: Axis = Axis(), series: [Series] = [],
    width: Double = 640, height: Double = 400
  ) {
    self.title = title
    self.xAxis = xAxis
    self.yAxis = yAxis
    self.series = series
    self.width = width
    self.height = height
  }

  public var svg: String {
    let xAxis = ResolvedAxis(self.xAxis, data: series.flatMap(\.x))
    let yAxis = ResolvedAxis(self.yAxis, data: series.flatMap(\.y))
    let colors = series.indices.map { series[$0].color ?? Color.palette($0) }
    var legend: [LegendEntry] = []
    for (s, color) in zip(series, colors) where !s.label.isEmpty {
      let missing = zip(s.x, s.y).filter {
        xAxis.fraction($0.0) == nil || yAxis.fraction($0.1) == nil
      }.count
      let note = missing == 0 ? "" : " (\(missing) not drawn)"
      legend.append(LegendEntry(label: s.label + note, color: color, swatch: .line(dash: s.dash)))
    }
    var frame = ChartFrame(
      width: width, height: height, title: title, x: xAxis, xTitle: self.xAxis.title, y: yAxis,
      yTitle: self.yAxis.title, legend: legend, figure: "LineChart")
    frame.drawGrid()
    for (index, (s, color)) in zip(series, colors).enumerated() {
      frame.writer.beginGroup([("class", "series"), ("id", "series-\(index)")])
      let points = zip(s.x, s.y).map { frame.position($0.0, $0.1) }
      for run in visibleRuns(points, in: frame.plot) {
        if run.count == 1 {
          // A point with no drawable neighbour would vanish as a line of length zero.
          frame.writer.circle(center: run[0], radius: 2, fill: color)
        } else {
          frame.writer.polyline(thinned(run), stroke: color, width: 1.8, dash: s.dash)
        }
      }
      if s.showsMarkers {
        for case let p? in points where frame.plot.contains(p) {
          frame.writer.circle(center: p, radius: 2.5, fill: color)
        }
      }
      frame.writer.endGroup()
    }
    frame.drawAxesAndLegend()
    return frame.writer.text
  }
}

extension LineChart.Series {
  fileprivate var dash: String? {
    switch style {
    case .solid: return nil
    case .dashed: return "6 4"
    case .dotted: return "2 3"
    }
  }
}

/// The points of a polyline without those within half a pixel of the last one kept (but
/// always the last): a trace of 10,000 steps across 500 pixels keeps its shape, to the
/// eye, at a fraction of the size.
func thinned(_ points: [Point]) -> [Point] {
  guard points.count > 2 else { return points }
  var kept = [points[0]]
  for p in points.dropFirst().dropLast() {
    let last = kept[kept.count - 1]
    if abs(p.x - last.x) >= 0.5 || abs(p.y - last.y) >= 0.5 { kept.append(p) }
  }
  kept.append(points[points.count - 1])
  return kept
}

/// Splits a line through `points` into the polylines to draw: a nil point breaks the line,
/// and each segment is cut to `box`. A drawable point whose neighbours are both nil is a
/// run of one.
func visibleRuns(_ points: [Point?], in box: Rectangle) -> [[Point]] {
  var runs: [[Point]] = []
  var current: [Point] = []
  func finish() {
    if !current.isEmpty { runs.append(current) }
    current = []
  }
  for i in points.indices {
    guard let p = points[i] else {
      finish()
      continue
    }
    let previous = i > 0 ? points[i - 1] : nil
    let next = i + 1 < points.count ? points[i + 1] : nil
    if previous == nil && next == nil {
      finish()
      if box.contains(p) { runs.append([p]) }
      continue
    }
    guard let previous else { continue }
    guard let (a, b) = clip(previous, p, to: box) else {
      finish()
      continue
    }
    if current.last != a {
      finish()
      current.append(a)
    }
    current.append(b)
    if b != p { finish() }
  }
  finish()
  return runs
}
