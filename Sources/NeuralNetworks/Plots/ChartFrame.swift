/// A rectangle on the canvas.
struct Rectangle {
  var x: Double
  var y: Double
  var width: Double
  var height: Double

  var right: Double { x + width }
  var bottom: Double { y + height }

  func contains(_ p: Point) -> Bool {
    p.x >= x - 1e-9 && p.x <= right + 1e-9 && p.y >= y - 1e-9 && p.y <= bottom + 1e-9
  }
}

/// How a legend entry shows its series.
enum LegendSwatch {
  case line(dash: String?)
  case marker(MarkerShape)
  case box
}

/// One line of a legend.
struct LegendEntry {
  var label: String
  var color: Color
  var swatch: LegendSwatch
}

/// The parts that line charts, scatter plots and bar charts share: the layout of the
/// canvas into margins and a plot area, the mapping from data to pixels, grid lines, axes
/// with ticks and labels, titles and the legend.
///
/// Draw with ``drawGrid()`` first, then the data, then ``drawAxesAndLegend()`` so that the
/// frame and ticks stay on top.
struct ChartFrame {
  var writer: SVGWriter
  let plot: Rectangle
  let x: ResolvedAxis?
  let y: ResolvedAxis
  private let title: String
  private let xTitle: String
  private let yTitle: String
  private let categories: [String]
  private let legend: [LegendEntry]
  private let legendWidth: Double

  static let minimumSize = (width: 160.0, height: 120.0)

  /// Lays out a chart. `x` is nil for a chart whose horizontal axis holds `categories`.
  init(
    width: Double, height: Double, title: String, x: ResolvedAxis?, xTitle: String,
    categories: [String] = [], y: ResolvedAxis, yTitle: String, legend: [LegendEntry],
    figure: String
  ) {
    require(
      width >= Self.minimumSize.width && height >= Self.minimumSize.height,
      "\(figure): a canvas of \(width) × \(height) is too small (at least 160 × 120)")
    writer = SVGWriter(width: width, height: height)
    self.x = x
    self.y = y
    self.title = title
    self.xTitle = xTitle
    self.yTitle = yTitle
    self.categories = categories
    self.legend = legend
    let labelWidth = legend.map { estimatedWidth(of: $0.label) }.max() ?? 0
    legendWidth = legend.isEmpty ? 0 : min(labelWidth + 34, width / 3)
    let top = title.isEmpty ? 14.0 : 40
    let bottom = 8 + 6 + 16 + (xTitle.isEmpty ? 0 : 20) + 4.0
    let yLabelWidth = y.labels.map { estimatedWidth(of: $0) }.max() ?? 0
    let left = 10 + (yTitle.isEmpty ? 0 : 20) + yLabelWidth + 12
    let right = legend.isEmpty ? 20 : legendWidth + 24
    plot = Rectangle(
      x: left, y: top, width: max(width - left - right, 20), height: max(height - top - bottom, 20))
  }

  /// The canvas position of a data point, or nil when either coordinate cannot be drawn
  /// (NaN, infinite, or not positive on a logarithmic axis). The point may lie outside the
  /// plot area.
  func position(_ dataX: Double, _ dataY: Double) -> Point? {
    guard let x, let fx = x.fraction(dataX), let fy = y.fraction(dataY) else { return nil }
    return Point(plot.x + fx * plot.width, plot.bottom - fy * plot.height)
  }

  /// The vertical canvas position of `value` on the y axis, or nil when it cannot be drawn.
  func yPosition(_ value: Double) -> Double? {
    y.fraction(value).map { plot.bottom - $0 * plot.height }
  }

  /// Light grid lines at every tick, under the data.
  mutating func drawGrid() {
    writer.beginGroup([("class", "grid")])
    for tick in y.ticks {
      guard let py = yPosition(tick) else { continue }
      writer.line(from: Point(plot.x, py), to: Point(plot.right, py), stroke: .grid)
    }
    if let x {
      for tick in x.ticks {
        guard let fx = x.fraction(tick) else { continue }
        let px = plot.x + fx * plot.width
        writer.line(from: Point(px, plot.y), to: Point(px, plot.bottom), stroke: .grid)
      }
    }
    writer.endGroup()
  }

  /// The frame, ticks, tick labels, axis titles, chart title and legend.
  mutating func drawAxesAndLegend() {
    writer.rect(
      x: plot.x, y: plot.y, width: plot.width, height: plot.height, fill: nil, stroke: .axis,
      class: "frame")
    drawYAxis()
    if x != nil { drawXAxis() } else { drawCategories() }
    if !title.isEmpty {
      writer.text(
        title, at: Point(writer.width / 2, 24), anchor: .middle, size: 15, bold: true,
        class: "title")
    }
    if !xTitle.isEmpty {
      writer.text(
        xTitle, at: Point(plot.x + plot.width / 2, writer.height - 10), anchor: .middle,
        class: "axis-title")
    }
    if !yTitle.isEmpty {
      writer.text(
        yTitle, at: Point(16, plot.y + plot.height / 2), anchor: .middle, rotation: -90,
        class: "axis-title")
    }
    drawLegend()
  }

  private mutating func drawYAxis() {
    writer.beginGroup([("class", "y-axis")])
    for (tick, label) in zip(y.ticks, y.labels) {
      guard let py = yPosition(tick) else { continue }
      writer.line(from: Point(plot.x - 5, py), to: Point(plot.x, py), stroke: .axis)
      writer.text(label, at: Point(plot.x - 8, py + 4), anchor: .end, class: "tick")
    }
    writer.endGroup()
  }

  private mutating func drawXAxis() {
    guard let x else { return }
    let positions = x.ticks.map { x.fraction($0).map { plot.x + $0 * plot.width } }
    // Label every k-th tick when the labels would run into each other.
    let widest = x.labels.map { estimatedWidth(of: $0) }.max() ?? 0
    let spacing = x.ticks.count > 1 ? plot.width / Double(x.ticks.count - 1) : plot.width
    let every = max(1, Int(((widest + 8) / max(spacing, 1)).rounded(.up)))
    writer.beginGroup([("class", "x-axis")])
    for (i, (position, label)) in zip(positions, x.labels).enumerated() {
      guard let px = position else { continue }
      writer.line(from: Point(px, plot.bottom), to: Point(px, plot.bottom + 5), stroke: .axis)
      if i % every == 0 {
        writer.text(label, at: Point(px, plot.bottom + 19), anchor: .middle, class: "tick")
      }
    }
    writer.endGroup()
  }

  /// The centre of category `index` of `count` along the horizontal axis.
  func categoryCenter(_ index: Int, of count: Int) -> Double {
    plot.x + (Double(index) + 0.5) * plot.width / Double(max(count, 1))
  }

  private mutating func drawCategories() {
    let width = plot.width / Double(max(categories.count, 1))
    writer.beginGroup([("class", "x-axis")])
    for (i, name) in categories.enumerated() {
      let px = categoryCenter(i, of: categories.count)
      writer.line(from: Point(px, plot.bottom), to: Point(px, plot.bottom + 5), stroke: .axis)
      writer.text(
        truncated(name, toWidth: width - 4), at: Point(px, plot.bottom + 19), anchor: .middle,
        class: "tick")
    }
    writer.endGroup()
  }

  private mutating func drawLegend() {
    guard !legend.isEmpty else { return }
    let left = plot.right + 14
    let rowHeight = 18.0
    let fitting = max(1, Int((writer.height - plot.y) / rowHeight) - 1)
    let shown = legend.count <= fitting ? legend : Array(legend.prefix(fitting - 1))
    writer.beginGroup([("class", "legend")])
    for (i, entry) in shown.enumerated() {
      let cy = plot.y + 8 + Double(i) * rowHeight
      switch entry.swatch {
      case .line(let dash):
        writer.polyline(
          [Point(left, cy), Point(left + 20, cy)], stroke: entry.color, width: 2, dash: dash)
      case .marker(let shape):
        drawMarker(shape, at: Point(left + 10, cy), color: entry.color)
      case .box:
        writer.rect(x: left + 4, y: cy - 6, width: 12, height: 12, fill: entry.color)
      }
      writer.text(
        truncated(entry.label, toWidth: legendWidth - 28), at: Point(left + 26, cy + 4),
        class: "legend-label")
    }
    if shown.count < legend.count {
      let cy = plot.y + 8 + Double(shown.count) * rowHeight
      writer.text(
        "+ \(legend.count - shown.count) more", at: Point(left + 26, cy + 4),
        color: .secondaryText, class: "legend-label")
    }
    writer.endGroup()
  }

  /// Draws a marker of the given shape centred at `p`.
  mutating func drawMarker(_ shape: MarkerShape, at p: Point, color: Color, size: Double = 3.5) {
    switch shape {
    case .circle:
      writer.circle(center: p, radius: size, fill: color)
    case .square:
      let s = size * 0.9
      writer.rect(x: p.x - s, y: p.y - s, width: 2 * s, height: 2 * s, fill: color)
    case .triangle:
      let s = size * 1.2
      writer.polygon(
        [Point(p.x, p.y - s), Point(p.x + s, p.y + s * 0.8), Point(p.x - s, p.y + s * 0.8)],
        fill: color)
    case .diamond:
      let s = size * 1.25
      writer.polygon(
        [Point(p.x, p.y - s), Point(p.x + s, p.y), Point(p.x, p.y + s), Point(p.x - s, p.y)],
        fill: color)
    }
  }
}

/// The shape of a point marker.
public enum MarkerShape: Sendable, CaseIterable {
  case circle, square, triangle, diamond
}

/// The part of the segment from `a` to `b` inside `box` (Liang–Barsky), or nil when none
/// of it is.
func clip(_ a: Point, _ b: Point, to box: Rectangle) -> (Point, Point)? {
  let (dx, dy) = (b.x - a.x, b.y - a.y)
  var (t0, t1) = (0.0, 1.0)
  let edges = [
    (-dx, a.x - box.x), (dx, box.right - a.x), (-dy, a.y - box.y), (dy, box.bottom - a.y),
  ]
  for (p, q) in edges {
    if p == 0 {
      if q < 0 { return nil }
    } else {
      let t = q / p
      if p < 0 { t0 = max(t0, t) } else { t1 = min(t1, t) }
      if t0 > t1 { return nil }
    }
  }
  return (Point(a.x + t0 * dx, a.y + t0 * dy), Point(a.x + t1 * dx, a.y + t1 * dy))
}
