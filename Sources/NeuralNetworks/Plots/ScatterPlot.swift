import Autodiff
import Foundation

/// A scatter plot of points in classes, each class with its colour and marker shape, and
/// optionally the decision regions of a classifier behind them.
///
/// ```swift
/// let plot = ScatterPlot(
///   title: "XOR", xAxis: Axis("x₁"), yAxis: Axis("x₂"),
///   x: [0, 0, 1, 1], y: [0, 1, 0, 1], classes: [0, 1, 1, 0], classNames: ["0", "1"],
///   regions: DecisionRegions { x, y in model.classify(x, y) })
/// try plot.write(to: URL(fileURLWithPath: "figures/xor.svg"))
/// ```
///
/// Points that cannot be drawn (NaN or infinite coordinates, or outside an axis range given
/// explicitly) are counted in the legend as not drawn.
public struct ScatterPlot: Figure {
  /// The points of one class.
  public struct Group: Sendable {
    /// The class name in the legend; groups with an empty label are left out of it.
    public var label: String
    public var x: [Double]
    public var y: [Double]
    /// The colour, or nil for the palette's colour for this group's position.
    public var color: Color?
    /// The marker, or nil for circle, square, triangle, diamond in turn.
    public var marker: MarkerShape?

    /// - Precondition: `x` and `y` have the same length.
    public init(
      _ label: String, x: [Double], y: [Double], color: Color? = nil, marker: MarkerShape? = nil
    ) {
      require(
        x.count == y.count,
        "ScatterPlot.Group '\(label)': \(x.count) x values for \(y.count) y values")
      self.label = label
      self.x = x
      self.y = y
      self.color = color
      self.marker = marker
    }
  }

  public var title: String
  public var xAxis: Axis
  public var yAxis: Axis
  /// The classes; group k is class k for ``regions``.
  public var groups: [Group]
  /// A classifier's regions drawn behind the points, or nil.
  public var regions: DecisionRegions?
  public var width: Double
  public var height: Double

  public init(
    title: String = "", xAxis: Axis = Axis(), yAxis: Axis = Axis(), groups: [Group] = [],
    regions: DecisionRegions? = nil, width: Double = 560, height: Double = 440
  ) {
    self.title = title
    self.xAxis = xAxis
    self.yAxis = yAxis
    self.groups = groups
    self.regions = regions
    self.width = width
    self.height = height
  }

  /// A plot of points (x[i], y[i]) in class `classes[i]`, one group per class 0, 1, 2, …
  /// up to the largest, named by `classNames` (or "class k").
  ///
  /// - Precondition: `x`, `y` and `classes` have the same length; classes are not negative.
  public init(
    title: String = "", xAxis: Axis = Axis(), yAxis: Axis = Axis(), x: [Double], y: [Double],
    classes: [Int], classNames: [String] = [], regions: DecisionRegions? = nil,
    width: Double = 560, height: Double = 440
  ) {
    require(
      x.count == y.count && y.count == classes.count,
      "ScatterPlot: \(x.count) x values, \(y.count) y values and \(classes.count) classes")
    require(classes.allSatisfy { $0 >= 0 }, "ScatterPlot: a class is negative")
    let count = max(classes.max().map { $0 + 1 } ?? 0, classNames.count)
    let groups = (0..<count).map { k in
      let members = classes.indices.filter { classes[$0] == k }
      return Group(
        k < classNames.count ? classNames[k] : "class \(k)", x: members.map { x[$0] },
        y: members.map { y[$0] })
    }
    self.init(
      title: title, xAxis: xAxis, yAxis: yAxis, groups: groups, regions: regions, width: width,
      height: height)
  }

  public var svg: String {
    let xAxis = ResolvedAxis(self.xAxis, data: groups.flatMap(\.x))
    let yAxis = ResolvedAxis(self.yAxis, data: groups.flatMap(\.y))
    let colors = groups.indices.map { groups[$0].color ?? Color.palette($0) }
    let markers = groups.indices.map {
      groups[$0].marker ?? MarkerShape.allCases[$0 % MarkerShape.allCases.count]
    }
    // A point is drawn when both coordinates fall on their axes' ranges.
    func isDrawable(_ x: Double, _ y: Double) -> Bool {
      guard let fx = xAxis.fraction(x), let fy = yAxis.fraction(y) else { return false }
      return (-1e-9...(1 + 1e-9)).contains(fx) && (-1e-9...(1 + 1e-9)).contains(fy)
    }
    let notDrawn = groups.map { g in zip(g.x, g.y).filter { !isDrawable($0.0, $0.1) }.count }
    var frame = ChartFrame(
      width: width, height: height, title: title, x: xAxis, xTitle: self.xAxis.title, y: yAxis,
      yTitle: self.yAxis.title, legend: legendEntries(colors, markers, notDrawn: notDrawn),
      figure: "ScatterPlot")
    let positions = groups.map { g in
      zip(g.x, g.y).map { isDrawable($0.0, $0.1) ? frame.position($0.0, $0.1) : nil }
    }
    let classes = regions?.classes(in: frame)
    if let regions, let classes {
      regions.drawCells(classes, in: &frame) { k in k < colors.count ? colors[k] : Color.palette(k)
      }
    }
    frame.drawGrid()
    if let regions, let classes { regions.drawBoundaries(classes, in: &frame) }
    for (k, points) in positions.enumerated() {
      frame.writer.beginGroup([("class", "points"), ("id", "class-\(k)")])
      for case let p? in points {
        frame.drawMarker(markers[k], at: p, color: colors[k])
      }
      frame.writer.endGroup()
    }
    frame.drawAxesAndLegend()
    return frame.writer.text
  }

  private func legendEntries(
    _ colors: [Color], _ markers: [MarkerShape], notDrawn: [Int]
  ) -> [LegendEntry] {
    groups.indices.compactMap { k in
      guard !groups[k].label.isEmpty else { return nil }
      let missing = notDrawn[k]
      let note =
        missing == 0 ? "" : " (\(missing) not drawn)"
      return LegendEntry(
        label: groups[k].label + note, color: colors[k], swatch: .marker(markers[k]))
    }
  }
}

/// The regions where a classifier answers each class, drawn behind a ``ScatterPlot``.
///
/// The classifier is evaluated at the centres of a `resolution` × `resolution` grid over
/// the plot area. Each cell is tinted with its class's colour, and the boundaries between
/// classes are drawn as lines through the midpoints between cells of different classes
/// (marching squares), so a straight boundary looks straight at modest resolutions.
///
/// Pass a closure that runs the model. For a network, evaluating the whole grid at once is
/// much faster than point by point:
///
/// ```swift
/// DecisionRegions(resolution: 80) { grid in   // grid: [n, 2] Float64, one point per row
///   noGrad { model(Var.constant(grid)) }.value.argmaxRows
/// }
/// ```
public struct DecisionRegions {
  /// The number of grid cells along each axis.
  public var resolution: Int
  private let classify: (Tensor) -> [Int]

  /// Regions from a classifier of one point at a time.
  ///
  /// - Precondition: `resolution` is at least 2.
  public init(resolution: Int = 80, classify: @escaping (Double, Double) -> Int) {
    self.init(resolution: resolution) { (grid: Tensor) -> [Int] in
      grid.rowScalars.map { classify($0[0], $0[1]) }
    }
  }

  /// Regions from a classifier of a whole grid at once: it receives the points as the rows
  /// of a `[n, 2]` Float64 tensor and returns n classes.
  ///
  /// - Precondition: `resolution` is at least 2.
  public init(resolution: Int = 80, classifyingRows: @escaping (Tensor) -> [Int]) {
    require(resolution >= 2, "DecisionRegions: resolution \(resolution) is below 2")
    self.resolution = resolution
    self.classify = classifyingRows
  }

  /// The class at each cell centre, row by row from the top.
  func classes(in frame: ChartFrame) -> [[Int]] {
    let n = resolution
    var coordinates: [Double] = []
    coordinates.reserveCapacity(2 * n * n)
    for row in 0..<n {
      for column in 0..<n {
        let (fx, fy) = ((Double(column) + 0.5) / Double(n), 1 - (Double(row) + 0.5) / Double(n))
        coordinates.append(value(at: fx, on: frame.x!))
        coordinates.append(value(at: fy, on: frame.y))
      }
    }
    let answers = classify(Tensor(coordinates, shape: [n * n, 2], dtype: .float64))
    require(
      answers.count == n * n,
      "DecisionRegions: the classifier returned \(answers.count) classes for \(n * n) points")
    return (0..<n).map { Array(answers[($0 * n)..<(($0 + 1) * n)]) }
  }

  /// The data value at a fraction of the axis.
  private func value(at fraction: Double, on axis: ResolvedAxis) -> Double {
    switch axis.scale {
    case .linear: return axis.lower + fraction * (axis.upper - axis.lower)
    case .logarithmic: return axis.lower * pow(axis.upper / axis.lower, fraction)
    }
  }

  /// Tints each cell with its class's colour.
  func drawCells(_ grid: [[Int]], in frame: inout ChartFrame, color: (Int) -> Color) {
    let n = resolution
    let plot = frame.plot
    let (cellWidth, cellHeight) = (plot.width / Double(n), plot.height / Double(n))
    frame.writer.beginGroup([("class", "regions"), ("shape-rendering", "crispEdges")])
    for (row, classes) in grid.enumerated() {
      // One rectangle per run of equal classes along the row.
      var start = 0
      while start < n {
        var end = start + 1
        while end < n && classes[end] == classes[start] { end += 1 }
        if classes[start] >= 0 {
          frame.writer.rect(
            x: plot.x + Double(start) * cellWidth, y: plot.y + Double(row) * cellHeight,
            width: Double(end - start) * cellWidth, height: cellHeight,
            fill: color(classes[start]).lightened(0.78))
        }
        start = end
      }
    }
    frame.writer.endGroup()
  }

  /// Draws the lines between cells of different classes.
  func drawBoundaries(_ grid: [[Int]], in frame: inout ChartFrame) {
    let n = resolution
    let plot = frame.plot
    let (cellWidth, cellHeight) = (plot.width / Double(n), plot.height / Double(n))
    func center(_ row: Double, _ column: Double) -> Point {
      Point(plot.x + (column + 0.5) * cellWidth, plot.y + (row + 0.5) * cellHeight)
    }
    // Marching squares on the lattice of cell centres: in each square of four centres, the
    // edges whose ends differ in class are crossed by a boundary at their midpoints. Two
    // crossings are joined; three or four (three classes meet, or a saddle) meet in the
    // middle.
    var segments: [(Point, Point)] = []
    for row in 0..<(n - 1) {
      for column in 0..<(n - 1) {
        let (r, c) = (Double(row), Double(column))
        let (a, b) = (grid[row][column], grid[row][column + 1])
        let (d, e) = (grid[row + 1][column], grid[row + 1][column + 1])
        var crossings: [Point] = []
        if a != b { crossings.append(center(r, c + 0.5)) }
        if b != e { crossings.append(center(r + 0.5, c + 1)) }
        if e != d { crossings.append(center(r + 1, c + 0.5)) }
        if d != a { crossings.append(center(r + 0.5, c)) }
        if crossings.count == 2 {
          segments.append((crossings[0], crossings[1]))
        } else if crossings.count > 2 {
          let middle = center(r + 0.5, c + 0.5)
          segments += crossings.map { ($0, middle) }
        }
      }
    }
    frame.writer.segments(segments, stroke: Color(hex: "444444"), width: 1.2, class: "boundary")
  }
}
