/// A bar chart: a value per category for one or more series, the series' bars side by side
/// in each category.
///
/// ```swift
/// let chart = BarChart(
///   title: "Test error", categories: ["plain", "weight decay", "dropout"],
///   yAxis: Axis("test MSE"), series: [.init("", values: [0.018, 0.012, 0.0115])])
/// ```
///
/// Bars start at zero on a linear axis and at the bottom of a logarithmic one. A value that
/// cannot be drawn (NaN, infinite, or not positive on a logarithmic axis) gets no bar but
/// the mark "n/a" in its place.
public struct BarChart: Figure {
  /// One value per category.
  public struct Series: Sendable {
    /// The name in the legend; series with an empty label are left out of it.
    public var label: String
    public var values: [Double]
    /// The colour, or nil for the palette's colour for this series' position.
    public var color: Color?

    public init(_ label: String, values: [Double], color: Color? = nil) {
      self.label = label
      self.values = values
      self.color = color
    }
  }

  public var title: String
  /// The names under the groups of bars.
  public var categories: [String]
  /// The title under the categories.
  public var categoryTitle: String
  public var yAxis: Axis
  public var series: [Series]
  public var width: Double
  public var height: Double

  /// - Precondition: every series has one value per category.
  public init(
    title: String = "", categories: [String], categoryTitle: String = "", yAxis: Axis = Axis(),
    series: [Series], width: Double = 640, height: Double = 400
  ) {
    for s in series {
      require(
        s.values.count == categories.count,
        "BarChart: series '\(s.label)' has \(s.values.count) values for \(categories.count) categories"
      )
    }
    self.title = title
    self.categories = categories
    self.categoryTitle = categoryTitle
    self.yAxis = yAxis
    self.series = series
    self.width = width
    self.height = height
  }

  public var svg: String {
    let yAxis = ResolvedAxis(self.yAxis, data: series.flatMap(\.values), includingZero: true)
    let colors = series.indices.map { series[$0].color ?? Color.palette($0) }
    let legend = zip(series, colors).filter { !$0.0.label.isEmpty }.map {
      LegendEntry(label: $0.0.label, color: $0.1, swatch: .box)
    }
    var frame = ChartFrame(
      width: width, height: height, title: title, x: nil, xTitle: categoryTitle,
      categories: categories, y: yAxis, yTitle: self.yAxis.title, legend: legend,
      figure: "BarChart")
    frame.drawGrid()
    let plot = frame.plot
    // The bars grow from zero, or from the bottom when zero is below the axis.
    let base = min(
      max(frame.yPosition(yAxis.scale == .linear ? 0 : yAxis.lower)!, plot.y), plot.bottom)
    let groupWidth = plot.width / Double(max(categories.count, 1))
    let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
    for (k, (s, color)) in zip(series, colors).enumerated() {
      frame.writer.beginGroup([("class", "bars"), ("id", "series-\(k)"), ("fill", color.hex)])
      for (i, value) in s.values.enumerated() {
        let left = plot.x + Double(i) * groupWidth + groupWidth * 0.1 + Double(k) * barWidth
        guard let top = frame.yPosition(value) else {
          frame.writer.text(
            "n/a", at: Point(left + barWidth / 2, base - 4), anchor: .middle, size: 10,
            color: .secondaryText, class: "not-drawn")
          continue
        }
        let clamped = min(max(top, plot.y), plot.bottom)
        frame.writer.element(
          "rect",
          numbers: [
            ("x", left), ("y", min(clamped, base)), ("width", barWidth),
            ("height", abs(base - clamped)),
          ])
      }
      frame.writer.endGroup()
    }
    frame.drawAxesAndLegend()
    return frame.writer.text
  }
}
