import Autodiff
import Foundation

/// A picture of the expression graph below a node: a box per `Var`, an arrow from each
/// argument to the op that uses it, leaves at the bottom and the output at the top.
///
/// ```swift
/// let x = Var(2.0, name: "x")
/// let y = Var(3.0, name: "y")
/// let f = x.sin() + x * y
/// f.backward()
/// let picture = GraphPicture(of: f, showsValues: true, showsGradients: true)
/// try picture.write(to: URL(fileURLWithPath: "figures/graph.svg"))
/// ```
///
/// The layout is layered, like Graphviz's `dot` but much simpler: an op sits one layer
/// above its highest argument, a leaf one layer below its lowest user, and the nodes of a
/// layer are ordered by the average position of their neighbours to reduce crossings. An
/// op's arrows arrive left to right in the order of its arguments, so `x − y` and `y − x`
/// look different. Meant for graphs of tens of nodes; ``Autodiff/Var/dot(values:gradients:)``
/// gives Graphviz text for large ones.
///
/// The picture copies what it shows when it is made; it keeps no reference to the graph.
public struct GraphPicture: Figure {
  /// One box: its text lines, kind, layer, and the indices of its arguments' boxes.
  private struct Node {
    var lines: [String]
    var kind: Kind
    var layer: Int
    var args: [Int]
  }

  private enum Kind {
    case op, parameter, constant
  }

  public var title: String
  private var nodes: [Node]

  /// A picture of the graph below `output` as it is now.
  ///
  /// - Parameters:
  ///   - showsValues: Each node's value, for nodes of up to four elements.
  ///   - showsGradients: Each node's `grad`, when it has one of up to four elements.
  public init(
    of output: Var, showsValues: Bool = false, showsGradients: Bool = false, title: String = ""
  ) {
    self.title = title
    let order = output.topologicalOrder()
    var index: [ObjectIdentifier: Int] = [:]
    for (i, node) in order.enumerated() { index[ObjectIdentifier(node)] = i }
    nodes = order.map { node in
      var lines: [String]
      let kind: Kind
      if let op = node.creator {
        lines = [op.infixSymbol ?? op.name]
        kind = .op
      } else {
        let unnamed = node.value.count == 1 ? compact(node.value[flat: 0]) : "tensor"
        lines = [node.name ?? unnamed]
        kind = node.requiresGrad ? .parameter : .constant
      }
      if node.value.rank > 0 { lines.append("\(node.shape)") }
      if showsValues, node.value.count <= 4, node.name != nil || !node.isLeaf {
        lines.append("value " + summary(node.value))
      }
      if showsGradients, let grad = node.grad, grad.count <= 4 {
        lines.append("grad " + summary(grad))
      }
      return Node(
        lines: lines, kind: kind, layer: 0,
        args: node.creator?.args.map { index[ObjectIdentifier($0)]! } ?? [])
    }
    assignLayers()
  }

  /// Ops one layer above their highest argument, then each op other than the output, and
  /// each leaf, moved up to one layer below its lowest user, so that a product computed
  /// early but used late (an unrolled network's input projection) sits beside its use.
  private mutating func assignLayers() {
    for i in nodes.indices where !nodes[i].args.isEmpty {
      nodes[i].layer = 1 + (nodes[i].args.map { nodes[$0].layer }.max() ?? 0)
    }
    var lowestUser = [Int](repeating: Int.max, count: nodes.count)
    // `nodes` is in topological order, so going backwards meets every user before its
    // arguments.
    for i in nodes.indices.reversed() {
      if lowestUser[i] != Int.max { nodes[i].layer = lowestUser[i] - 1 }
      for arg in nodes[i].args { lowestUser[arg] = min(lowestUser[arg], nodes[i].layer) }
    }
  }

  /// The nodes of each layer, bottom first, ordered to reduce crossings.
  private func orderedLayers() -> [[Int]] {
    let layerCount = (nodes.map(\.layer).max() ?? 0) + 1
    var layers = [[Int]](repeating: [], count: layerCount)
    for i in nodes.indices { layers[nodes[i].layer].append(i) }
    var users = [[Int]](repeating: [], count: nodes.count)
    for (i, node) in nodes.enumerated() {
      for arg in node.args { users[arg].append(i) }
    }
    // Barycentre sweeps: each node moves to the mean relative position of its neighbours in
    // the layers already placed (arguments on the way up, users on the way down).
    func position() -> [Double] {
      var p = [Double](repeating: 0, count: nodes.count)
      for layer in layers {
        for (k, i) in layer.enumerated() { p[i] = (Double(k) + 0.5) / Double(layer.count) }
      }
      return p
    }
    for _ in 0..<4 {
      for (neighbours, range) in [
        ({ (i: Int) in nodes[i].args }, Array(1..<layerCount)),
        ({ (i: Int) in users[i] }, Array((0..<max(layerCount - 1, 0)).reversed())),
      ] {
        for l in range {
          let p = position()
          let key = layers[l].map { i -> Double in
            let around = neighbours(i)
            return around.isEmpty ? p[i] : around.map { p[$0] }.reduce(0, +) / Double(around.count)
          }
          // A stable sort keeps ties in their current order (deterministic output).
          layers[l] = layers[l].indices.sorted {
            key[$0] < key[$1] || (key[$0] == key[$1] && $0 < $1)
          }
          .map { layers[l][$0] }
        }
      }
    }
    return layers
  }

  public var svg: String {
    let layers = orderedLayers()
    let fontSize = 12.0
    let lineHeight = 15.0
    let boxWidth = nodes.map { node in
      max(44, (node.lines.map { estimatedWidth(of: $0, size: fontSize) }.max() ?? 0) + 18)
    }
    let boxHeight = nodes.map { Double($0.lines.count) * lineHeight + 10 }
    let gap = 26.0
    let margin = 20.0
    let layerHeight = (boxHeight.max() ?? 30) + 48
    let top = margin + (title.isEmpty ? 0 : 28)
    let rowWidths = layers.map { layer in
      layer.map { boxWidth[$0] }.reduce(0, +) + gap * Double(max(layer.count - 1, 0))
    }
    let width = max(
      (rowWidths.max() ?? 0) + 2 * margin, 160,
      title.isEmpty ? 0 : estimatedWidth(of: title, size: 15) + 2 * margin)
    let height = top + Double(layers.count) * layerHeight - 48 + margin
    // Centre of each box; the last layer is drawn at the top.
    var center = [Point](repeating: Point(0, 0), count: nodes.count)
    for (l, layer) in layers.enumerated() {
      var x = (width - rowWidths[l]) / 2
      let rowTop = top + Double(layers.count - 1 - l) * layerHeight
      let rowMiddle = rowTop + (layerHeight - 48) / 2
      for i in layer {
        center[i] = Point(x + boxWidth[i] / 2, rowMiddle)
        x += boxWidth[i] + gap
      }
    }
    var writer = SVGWriter(width: width, height: height)
    if !title.isEmpty {
      writer.text(
        title, at: Point(width / 2, margin + 10), anchor: .middle, size: 15, bold: true,
        class: "title")
    }
    let edgeColor = Color(hex: "666666")
    writer.beginGroup([("class", "edges")])
    for (i, node) in nodes.enumerated() {
      let count = Double(node.args.count)
      let spread = min(14, boxWidth[i] / (count + 1))
      for (k, arg) in node.args.enumerated() {
        let start = Point(center[arg].x, center[arg].y - boxHeight[arg] / 2)
        let end = Point(
          center[i].x + (Double(k) - (count - 1) / 2) * spread, center[i].y + boxHeight[i] / 2 + 7)
        let bend = (start.y - end.y) / 2
        writer.curve(
          from: start, Point(start.x, start.y - bend), Point(end.x, end.y + bend), to: end,
          stroke: edgeColor, width: 1.2)
        writer.polygon(
          [Point(end.x, end.y - 7), Point(end.x - 4, end.y), Point(end.x + 4, end.y)],
          fill: edgeColor)
      }
    }
    writer.endGroup()
    writer.beginGroup([("class", "nodes")])
    for (i, node) in nodes.enumerated() {
      let (fill, radius): (Color, Double) =
        switch node.kind {
        case .op: (Color(hex: "fbe3c4"), 3)
        case .parameter: (Color(hex: "d6e6f5"), 10)
        case .constant: (Color(hex: "ececec"), 10)
        }
      let isOutput = i == nodes.count - 1
      writer.rect(
        x: center[i].x - boxWidth[i] / 2, y: center[i].y - boxHeight[i] / 2, width: boxWidth[i],
        height: boxHeight[i], fill: fill, stroke: .axis, strokeWidth: isOutput ? 2 : 1,
        cornerRadius: radius, class: "node")
      for (k, line) in node.lines.enumerated() {
        let y = center[i].y - boxHeight[i] / 2 + 5 + lineHeight * (Double(k) + 0.5) + 4
        writer.text(
          line, at: Point(center[i].x, y), anchor: .middle, size: k == 0 ? fontSize : 11,
          color: k == 0 ? .black : .secondaryText, bold: k == 0 && node.kind == .op,
          class: "label")
      }
    }
    writer.endGroup()
    return writer.text
  }
}

/// A value or a small tensor, compactly: `6.9093`, `[0.1, −2]`.
private func summary(_ t: Tensor) -> String {
  t.count == 1 ? compact(t[flat: 0]) : "[" + t.scalars.map(compact).joined(separator: ", ") + "]"
}

/// About five significant digits, without trailing zeros.
private func compact(_ x: Double) -> String {
  guard x.isFinite, x != 0 else { return x == 0 ? "0" : fixed(x, 0) }
  let magnitude = Int(log10(abs(x)).rounded(.down))
  guard magnitude >= -3 && magnitude < 6 else { return shortScientific(x) }
  var text = fixed(x, max(0, 4 - magnitude))
  if text.contains(".") {
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
  }
  return text
}

/// Three significant digits with an exponent: `1.23e−5`.
private func shortScientific(_ x: Double) -> String {
  let exponent = Int(log10(abs(x)).rounded(.down))
  var mantissa = fixed(x / pow(10, Double(exponent)), 2)
  while mantissa.hasSuffix("0") { mantissa.removeLast() }
  if mantissa.hasSuffix(".") { mantissa.removeLast() }
  return mantissa + "e" + (exponent < 0 ? "−\(-exponent)" : "\(exponent)")
}
