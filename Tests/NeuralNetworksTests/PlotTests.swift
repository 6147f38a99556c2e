import Autodiff
import Foundation
import NeuralNetworks
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// An element of a parsed SVG document, with the classes of the groups around it.
private struct Element {
  var name: String
  var attributes: [String: String]
  var text = ""
  var enclosingClasses: [String]

  func number(_ key: String) -> Double? { attributes[key].flatMap(Double.init) }
  func isInside(_ className: String) -> Bool {
    enclosingClasses.contains(className) || attributes["class"] == className
  }
}

private final class Collector: NSObject, XMLParserDelegate {
  var elements: [Element] = []
  var open: [Int] = []
  var classes: [String] = []

  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
    qualifiedName: String?, attributes: [String: String]
  ) {
    elements.append(Element(name: name, attributes: attributes, enclosingClasses: classes))
    open.append(elements.count - 1)
    classes.append(attributes["class"] ?? "")
  }

  func parser(_ parser: XMLParser, foundCharacters string: String) {
    if let last = open.last { elements[last].text += string }
  }

  func parser(
    _ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?
  ) {
    open.removeLast()
    classes.removeLast()
  }
}

/// Parses `svg` with Foundation's XML parser, failing the test when it is not well formed
/// or not an SVG root.
private func parse(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Element] {
  let parser = XMLParser(data: Data(svg.utf8))
  let collector = Collector()
  parser.delegate = collector
  let parsed = parser.parse()
  #expect(
    parsed, "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")",
    sourceLocation: sourceLocation)
  #expect(collector.elements.first?.name == "svg", sourceLocation: sourceLocation)
  #expect(
    collector.elements.first?.attributes["xmlns"] == "http://www.w3.org/2000/svg",
    sourceLocation: sourceLocation)
  return collector.elements
}

/// Every number in an attribute that holds coordinates.
private func coordinates(of element: Element) -> [(x: Double?, y: Double?)] {
  func numbers(_ text: String) -> [Double] {
    text.split(whereSeparator: { !"0123456789.-".contains($0) }).compactMap { Double($0) }
  }
  var result: [(Double?, Double?)] = []
  let a = element.attributes
  for (xKey, yKey) in [("x", "y"), ("x1", "y1"), ("x2", "y2"), ("cx", "cy")] {
    if a[xKey] != nil || a[yKey] != nil {
      result.append((element.number(xKey), element.number(yKey)))
    }
  }
  if let x = element.number("x"), let y = element.number("y"), let w = element.number("width"),
    let h = element.number("height")
  {
    result.append((x + w, y + h))
  }
  for key in ["points", "d"] {
    if let text = a[key] {
      let values = numbers(text)
      for i in stride(from: 0, to: values.count - 1, by: 2) {
        result.append((values[i], values[i + 1]))
      }
    }
  }
  if let transform = a["transform"] {
    let values = numbers(transform)
    if values.count == 3 { result.append((values[1], values[2])) }
  }
  return result
}

/// Checks that every coordinate is a finite number inside the canvas.
private func expectInsideCanvas(
  _ elements: [Element], sourceLocation: SourceLocation = #_sourceLocation
) {
  guard let root = elements.first, let width = root.number("width"),
    let height = root.number("height")
  else {
    Issue.record("no canvas size", sourceLocation: sourceLocation)
    return
  }
  for element in elements.dropFirst() {
    for (x, y) in coordinates(of: element) {
      #expect(
        x.map { $0.isFinite && $0 >= 0 && $0 <= width } ?? true,
        "\(element.name) x \(String(describing: x)) outside 0...\(width)",
        sourceLocation: sourceLocation)
      #expect(
        y.map { $0.isFinite && $0 >= 0 && $0 <= height } ?? true,
        "\(element.name) y \(String(describing: y)) outside 0...\(height)",
        sourceLocation: sourceLocation)
    }
  }
}

private func tickLabels(_ elements: [Element], axis: String) -> [String] {
  elements.filter { $0.name == "text" && $0.isInside(axis) && $0.isInside("tick") }.map(\.text)
}

/// Compares `svg` with `Golden/<name>.svg`. Run with `UPDATE_GOLDEN=1` to rewrite the files
/// after an intended change of the drawings.
private func expectGolden(
  _ svg: String, _ name: String, filePath: String = #filePath,
  sourceLocation: SourceLocation = #_sourceLocation
) throws {
  if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
    let directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
      .appendingPathComponent("Golden")
    try Data(svg.utf8).write(to: directory.appendingPathComponent(name + ".svg"))
    return
  }
  let url = try #require(
    Bundle.module.url(forResource: name, withExtension: "svg", subdirectory: "Golden"),
    "missing Golden/\(name).svg", sourceLocation: sourceLocation)
  let expected = try String(contentsOf: url, encoding: .utf8)
  #expect(
    svg == expected, "\(name).svg differs from its golden file", sourceLocation: sourceLocation)
}

// MARK: - Sample figures (also the golden files)

private func sampleLineChart() -> LineChart {
  let epochs = (0..<40).map(Double.init)
  return LineChart(
    title: "Loss <training & validation>", xAxis: Axis("epoch"),
    yAxis: Axis("loss", scale: .logarithmic),
    series: [
      .init("training", x: epochs, y: epochs.map { 2 * exp(-$0 / 8) + 0.001 }),
      .init(
        "validation", x: epochs, y: epochs.map { $0 == 20 ? .nan : 2.2 * exp(-$0 / 10) + 0.05 },
        style: .dashed, showsMarkers: true),
    ])
}

private func sampleScatterPlot() -> ScatterPlot {
  var rng = SeededGenerator(seed: 3)
  let points = (0..<60).map { _ in
    (Double.random(in: -1...1, using: &rng), Double.random(in: -1...1, using: &rng))
  }
  let classes = points.map { $0.0 * $0.0 + $0.1 * $0.1 < 0.5 ? 0 : $0.0 > 0 ? 1 : 2 }
  return ScatterPlot(
    title: "Three classes", xAxis: Axis("x₁"), yAxis: Axis("x₂"), x: points.map(\.0),
    y: points.map(\.1), classes: classes, classNames: ["inside", "right", "left"],
    regions: DecisionRegions(resolution: 24) { x, y in x * x + y * y < 0.5 ? 0 : x > 0 ? 1 : 2 })
}

private func sampleBarChart() -> BarChart {
  BarChart(
    title: "Test error", categories: ["plain", "weight decay", "dropout", "more data"],
    categoryTitle: "regularization", yAxis: Axis("test MSE"),
    series: [
      .init("run 1", values: [0.018, 0.0122, 0.0115, 0.0093]),
      .init("run 2", values: [0.0173, 0.0125, .nan, 0.0095]),
    ])
}

private func samplePixelGrid() -> PixelGrid {
  let patterns = Tensor(
    (0..<4).flatMap { k in (0..<16).map { i in (i >> k) & 1 == 0 ? 1.0 : -1.0 } }, shape: [4, 16],
    dtype: .float64)
  return PixelGrid(
    title: "Patterns", rows: patterns, imageHeight: 4, imageWidth: 4,
    captions: ["p0", "p1", "p2", "p3"])
}

private func sampleGraph() -> GraphPicture {
  let x = Var(2.0, name: "x")
  let y = Var(3.0, name: "y")
  let f = x.sin() + x * y
  f.backward()
  return GraphPicture(of: f, showsValues: true, showsGradients: true, title: "f = sin(x) + x·y")
}

// MARK: - Tests

@Suite("Plots: SVG figures")
struct PlotTests {
  @Test func everyFigureIsWellFormedSVGInsideItsCanvas() {
    let figures: [any Figure] = [
      sampleLineChart(), sampleScatterPlot(), sampleBarChart(), samplePixelGrid(), sampleGraph(),
    ]
    for figure in figures {
      let elements = parse(figure.svg)
      #expect(elements.count > 5)
      expectInsideCanvas(elements)
    }
  }

  @Test func goldenFiles() throws {
    try expectGolden(sampleLineChart().svg, "line-chart")
    try expectGolden(sampleScatterPlot().svg, "scatter-plot")
    try expectGolden(sampleBarChart().svg, "bar-chart")
    try expectGolden(samplePixelGrid().svg, "pixel-grid")
    try expectGolden(sampleGraph().svg, "graph-picture")
  }

  @Test func drawingTwiceGivesTheSameText() {
    #expect(sampleLineChart().svg == sampleLineChart().svg)
    #expect(sampleScatterPlot().svg == sampleScatterPlot().svg)
    #expect(sampleGraph().svg == sampleGraph().svg)
  }

  @Test(arguments: [[2.0, 2, 2], [0, 0, 0], [-1e-9, -1e-9], [1e12, 1e12], [], [Double.nan]])
  func constantSeriesStillGetTicks(values: [Double]) {
    for scale in [Axis.Scale.linear, .logarithmic] {
      let chart = LineChart(yAxis: Axis(scale: scale), series: [.init("constant", y: values)])
      let elements = parse(chart.svg)
      expectInsideCanvas(elements)
      #expect(tickLabels(elements, axis: "y-axis").count >= 2, "\(scale) \(values)")
      #expect(Set(tickLabels(elements, axis: "y-axis")).count >= 2, "\(scale) \(values)")
      #expect(tickLabels(elements, axis: "x-axis").count >= 2, "\(scale) \(values)")
    }
  }

  @Test func zeroWidthRangesStillGetTicks() {
    let chart = LineChart(
      xAxis: Axis(range: 5...5), yAxis: Axis(scale: .logarithmic, range: 3...3),
      series: [.init("a", x: [5, 5], y: [3, 3])])
    let elements = parse(chart.svg)
    expectInsideCanvas(elements)
    #expect(Set(tickLabels(elements, axis: "x-axis")).count >= 2)
    #expect(Set(tickLabels(elements, axis: "y-axis")).count >= 2)
  }

  @Test func tickLabelsAreRoundNumbers() {
    let chart = LineChart(series: [.init("", x: [0.13, 0.87], y: [-3.2, 41])])
    let elements = parse(chart.svg)
    #expect(
      tickLabels(elements, axis: "x-axis") == [
        "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9",
      ])
    #expect(tickLabels(elements, axis: "y-axis") == ["−10", "0", "10", "20", "30", "40", "50"])
    let log = LineChart(
      yAxis: Axis(scale: .logarithmic), series: [.init("", y: [0.00042, 3, 17_000])])
    #expect(
      tickLabels(parse(log.svg), axis: "y-axis") == [
        "1e−4", "0.001", "0.01", "0.1", "1", "10", "100", "1000", "10000", "1e5",
      ])
  }

  @Test func nanPointsBreakTheLineAndAreCounted() {
    let chart = LineChart(series: [.init("loss", y: [1, 2, .nan, 3, 4, .infinity, 5, .nan])])
    let elements = parse(chart.svg)
    let series = elements.filter { $0.isInside("series") }
    // [1, 2] and [3, 4] are lines; 5 stands alone and gets a dot.
    #expect(series.filter { $0.name == "polyline" }.count == 2)
    #expect(series.filter { $0.name == "circle" }.count == 1)
    let legend = elements.filter { $0.isInside("legend-label") }.map(\.text)
    #expect(legend == ["loss (3 not drawn)"])
  }

  @Test func logarithmicAxisLeavesOutValuesThatAreNotPositive() {
    let chart = LineChart(
      yAxis: Axis(scale: .logarithmic), series: [.init("norm", y: [1, 0.1, 0, -1, 0.01])])
    let elements = parse(chart.svg)
    expectInsideCanvas(elements)
    #expect(elements.filter { $0.isInside("legend-label") }.map(\.text) == ["norm (2 not drawn)"])
  }

  @Test func linesLeavingAnExplicitRangeAreCutAtTheFrame() {
    let chart = LineChart(
      xAxis: Axis(range: 0...1), yAxis: Axis(range: 0...1),
      series: [.init("wide", x: [-5, 0.5, 1e300], y: [0.5, 0.5, -1e300])])
    let elements = parse(chart.svg)
    expectInsideCanvas(elements)
    let frame = try! #require(elements.first { $0.attributes["class"] == "frame" })
    let (left, top) = (frame.number("x")!, frame.number("y")!)
    let (right, bottom) = (left + frame.number("width")!, top + frame.number("height")!)
    for line in elements where line.name == "polyline" && line.isInside("series") {
      for (x, y) in coordinates(of: line) {
        #expect(x! >= left - 0.01 && x! <= right + 0.01 && y! >= top - 0.01 && y! <= bottom + 0.01)
      }
    }
  }

  @Test func textIsEscaped() {
    let title = "a < b && \"c\" > 'd' \u{7}"
    let chart = BarChart(
      title: title, categories: ["<x>"], series: [.init("&", values: [1])])
    let elements = parse(chart.svg)
    #expect(
      elements.contains { $0.attributes["class"] == "title" && $0.text == "a < b && \"c\" > 'd'  " }
    )
    #expect(elements.contains { $0.isInside("x-axis") && $0.text == "<x>" })
    #expect(elements.contains { $0.isInside("legend-label") && $0.text == "&" })
  }

  @Test func decisionRegionsFollowTheClassifier() {
    // Class 1 right of x = 0.5: the boundary is the vertical line x = 0.5.
    let plot = ScatterPlot(
      xAxis: Axis(range: 0...1), yAxis: Axis(range: 0...1), x: [0.2, 0.8], y: [0.5, 0.5],
      classes: [0, 1], regions: DecisionRegions(resolution: 20) { x, _ in x > 0.5 ? 1 : 0 })
    let elements = parse(plot.svg)
    expectInsideCanvas(elements)
    let frame = try! #require(elements.first { $0.attributes["class"] == "frame" })
    let middle = frame.number("x")! + frame.number("width")! / 2
    let boundary = try! #require(elements.first { $0.attributes["class"] == "boundary" })
    let xs = coordinates(of: boundary).map { $0.x! }
    #expect(!xs.isEmpty && xs.allSatisfy { abs($0 - middle) < 0.01 })
    // Each row of cells is two runs, one per class.
    #expect(elements.filter { $0.isInside("regions") && $0.name == "rect" }.count == 40)
  }

  @Test func batchedClassifierSeesTheGridAsRows() {
    var seen: [Int] = []
    let regions = DecisionRegions(resolution: 5) { (grid: Tensor) -> [Int] in
      seen = grid.shape
      return grid.rowScalars.map { $0[1] > 0 ? 1 : 0 }
    }
    let plot = ScatterPlot(x: [-1, 1], y: [-1, 1], classes: [0, 1], regions: regions)
    expectInsideCanvas(parse(plot.svg))
    #expect(seen == [25, 2])
  }

  @Test func scatterPointsOutsideAnExplicitRangeAreCounted() {
    let plot = ScatterPlot(
      xAxis: Axis(range: 0...1), x: [0.5, 3, .nan], y: [0.5, 0.5, 1], classes: [0, 0, 1])
    let elements = parse(plot.svg)
    expectInsideCanvas(elements)
    #expect(
      elements.filter { $0.isInside("legend-label") }.map(\.text) == [
        "class 0 (1 not drawn)", "class 1 (1 not drawn)",
      ])
  }

  @Test func barChartMarksValuesItCannotDraw() {
    let elements = parse(sampleBarChart().svg)
    #expect(elements.filter { $0.attributes["class"] == "not-drawn" }.map(\.text) == ["n/a"])
    #expect(elements.filter { $0.isInside("bars") && $0.name == "rect" }.count == 7)
  }

  @Test func negativeBarsHangBelowZero() {
    let chart = BarChart(categories: ["a", "b"], series: [.init("", values: [-2, 3])])
    let elements = parse(chart.svg)
    expectInsideCanvas(elements)
    let bars = elements.filter { $0.isInside("bars") && $0.name == "rect" }
    #expect(bars.count == 2)
    // Both bars touch the line of zero: the first from above, the second from below.
    #expect(abs(bars[0].number("y")! - (bars[1].number("y")! + bars[1].number("height")!)) < 0.01)
  }

  @Test func pixelGridShowsNaNInAColourOfItsOwn() {
    let image = PixelGrid.Image(pixels: [0, 1, .nan, 0.5], width: 2, height: 2)
    let elements = parse(PixelGrid(images: [image], colorMap: .grayscale).svg)
    expectInsideCanvas(elements)
    let fills = elements.filter { $0.isInside("image") && $0.name == "rect" }.compactMap {
      $0.attributes["fill"]
    }
    #expect(fills == ["#000000", "#ffffff", "#ff00ff", "#808080", "none"])
  }

  @Test func pixelGridMergesRunsOfEqualPixels() {
    let rows = Tensor([[1, 1, 1, -1, -1, 1]], dtype: .float64)
    let grid = PixelGrid(rows: rows, imageHeight: 1, imageWidth: 6, range: -1...1)
    let rects = parse(grid.svg).filter {
      $0.isInside("image") && $0.attributes["class"] != "border" && $0.name == "rect"
    }
    #expect(rects.map { $0.attributes["fill"]! } == ["#000000", "#ffffff", "#000000"])
  }

  @Test func graphPictureHasABoxPerNodeAndAnArrowPerArgument() {
    let x = Var(Tensor([[1, 2]], dtype: .float64), name: "x")
    let w = Var(Tensor([[1], [2]], dtype: .float64), name: "W")
    let y = (x.matmul(w) - x.matmul(w).sigmoid()).sum()
    let elements = parse(GraphPicture(of: y).svg)
    expectInsideCanvas(elements)
    let order = y.topologicalOrder()
    let boxes = elements.filter { $0.attributes["class"] == "node" }
    #expect(boxes.count == order.count)
    let arguments = order.compactMap { $0.creator?.args.count }.reduce(0, +)
    #expect(elements.filter { $0.isInside("edges") && $0.name == "path" }.count == arguments)
    // The output is the highest box, the leaves the lowest.
    let tops = boxes.map { $0.number("y")! }
    #expect(tops.last! == tops.min()!)
    let labels = elements.filter { $0.isInside("label") }.map(\.text)
    #expect(labels.contains("·") && labels.contains("-") && labels.contains("[1, 2]"), "\(labels)")
  }

  @Test func writeCreatesTheDirectory() throws {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("plot-tests-\(ProcessInfo.processInfo.processIdentifier)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("nested/bars.svg")
    try sampleBarChart().write(to: url)
    #expect(try String(contentsOf: url, encoding: .utf8) == sampleBarChart().svg)
  }
}
