/// Builds an SVG document element by element.
///
/// Every number goes through ``SVGWriter/number(_:)`` (at most two decimals, no exponent), so
/// a figure drawn twice from the same data is the same text, byte for byte. Text content
/// and attribute values are escaped. Used by every figure type; not public.
struct SVGWriter {
  let width: Double
  let height: Double
  private var lines: [String] = []
  private var depth = 1

  /// An empty document of the given size with a white background, so that the figure reads
  /// the same on a dark page.
  init(width: Double, height: Double) {
    require(
      width.isFinite && height.isFinite && width > 0 && height > 0,
      "SVGWriter: size \(width) × \(height) must be positive and finite")
    self.width = width
    self.height = height
    rect(x: 0, y: 0, width: width, height: height, fill: .white, class: "background")
  }

  /// The complete document.
  var text: String {
    let size = "width=\"\(Self.number(width))\" height=\"\(Self.number(height))\""
    let box = "viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\""
    return """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" \(size) \(box) \
      font-family="Helvetica, Arial, sans-serif" font-size="12">

      """ + lines.joined(separator: "\n") + "\n</svg>\n"
  }

  // MARK: Elements

  /// Starts a group; attributes set on it apply to everything inside until ``endGroup()``.
  mutating func beginGroup(_ attributes: [(String, String)]) {
    lines.append(indentation + "<g" + Self.attributes(attributes) + ">")
    depth += 1
  }

  /// Ends the innermost group.
  mutating func endGroup() {
    require(depth > 1, "SVGWriter: endGroup() without beginGroup()")
    depth -= 1
    lines.append(indentation + "</g>")
  }

  /// Adds an element without content; `numbers` are checked to be finite and formatted.
  mutating func element(
    _ name: String, numbers: [(String, Double)], _ attributes: [(String, String)] = []
  ) {
    let all = numbers.map { ($0.0, Self.number($0.1)) } + attributes
    lines.append(indentation + "<" + name + Self.attributes(all) + "/>")
  }

  mutating func rect(
    x: Double, y: Double, width: Double, height: Double, fill: Color?, stroke: Color? = nil,
    strokeWidth: Double = 1, cornerRadius: Double = 0, fillOpacity: Double = 1,
    class className: String? = nil
  ) {
    var numbers = [("x", x), ("y", y), ("width", width), ("height", height)]
    if cornerRadius > 0 { numbers.append(("rx", cornerRadius)) }
    var attributes = [("fill", fill?.hex ?? "none")]
    if fillOpacity < 1 { attributes.append(("fill-opacity", Self.number(fillOpacity))) }
    attributes += Self.stroke(stroke, width: strokeWidth)
    if let className { attributes.append(("class", className)) }
    element("rect", numbers: numbers, attributes)
  }

  mutating func line(
    from start: Point, to end: Point, stroke: Color, width: Double = 1,
    class className: String? = nil
  ) {
    var attributes = Self.stroke(stroke, width: width)
    if let className { attributes.append(("class", className)) }
    element(
      "line", numbers: [("x1", start.x), ("y1", start.y), ("x2", end.x), ("y2", end.y)],
      attributes)
  }

  mutating func polyline(
    _ points: [Point], stroke: Color, width: Double = 1.5, dash: String? = nil,
    class className: String? = nil
  ) {
    var attributes = [("points", Self.points(points)), ("fill", "none")]
    attributes += Self.stroke(stroke, width: width)
    attributes.append(("stroke-linejoin", "round"))
    if let dash { attributes.append(("stroke-dasharray", dash)) }
    if let className { attributes.append(("class", className)) }
    lines.append(indentation + "<polyline" + Self.attributes(attributes) + "/>")
  }

  mutating func polygon(
    _ points: [Point], fill: Color?, stroke: Color? = nil, class className: String? = nil
  ) {
    var attributes = [("points", Self.points(points)), ("fill", fill?.hex ?? "none")]
    attributes += Self.stroke(stroke, width: 1)
    if let className { attributes.append(("class", className)) }
    lines.append(indentation + "<polygon" + Self.attributes(attributes) + "/>")
  }

  mutating func circle(
    center: Point, radius: Double, fill: Color?, stroke: Color? = nil,
    class className: String? = nil
  ) {
    var attributes = [("fill", fill?.hex ?? "none")]
    attributes += Self.stroke(stroke, width: 1)
    if let className { attributes.append(("class", className)) }
    element("circle", numbers: [("cx", center.x), ("cy", center.y), ("r", radius)], attributes)
  }

  /// A path made of straight segments, each a move to its start and a line to its end.
  mutating func segments(
    _ segments: [(Point, Point)], stroke: Color, width: Double, class className: String? = nil
  ) {
    guard !segments.isEmpty else { return }
    let d = segments.map {
      "M" + Self.number($0.0.x) + " " + Self.number($0.0.y) + "L" + Self.number($0.1.x) + " "
        + Self.number($0.1.y)
    }.joined()
    var attributes = [("d", d), ("fill", "none")]
    attributes += Self.stroke(stroke, width: width)
    attributes.append(("stroke-linecap", "round"))
    if let className { attributes.append(("class", className)) }
    lines.append(indentation + "<path" + Self.attributes(attributes) + "/>")
  }

  /// A cubic Bézier curve from `start` to `end` with the two control points between.
  mutating func curve(
    from start: Point, _ control1: Point, _ control2: Point, to end: Point, stroke: Color,
    width: Double, class className: String? = nil
  ) {
    let d =
      "M" + [start].map(Self.pair).joined() + "C"
      + [control1, control2, end].map(Self.pair).joined(separator: " ")
    var attributes = [("d", d), ("fill", "none")]
    attributes += Self.stroke(stroke, width: width)
    if let className { attributes.append(("class", className)) }
    lines.append(indentation + "<path" + Self.attributes(attributes) + "/>")
  }

  enum Anchor: String {
    case start, middle, end
  }

  /// A line of text whose baseline starts, is centred or ends at `position`; `rotation` in
  /// degrees turns it about that point.
  mutating func text(
    _ content: String, at position: Point, anchor: Anchor = .start, size: Double = 12,
    color: Color = .black, bold: Bool = false, rotation: Double = 0,
    class className: String? = nil
  ) {
    var attributes: [(String, String)] = []
    if anchor != .start { attributes.append(("text-anchor", anchor.rawValue)) }
    if size != 12 { attributes.append(("font-size", Self.number(size))) }
    if color != .black { attributes.append(("fill", color.hex)) }
    if bold { attributes.append(("font-weight", "bold")) }
    if rotation != 0 {
      attributes.append(
        (
          "transform",
          "rotate(\(Self.number(rotation)) \(Self.number(position.x)) \(Self.number(position.y)))"
        ))
    }
    if let className { attributes.append(("class", className)) }
    let numbers = [("x", position.x), ("y", position.y)]
    let all = numbers.map { ($0.0, Self.number($0.1)) } + attributes
    lines.append(
      indentation + "<text" + Self.attributes(all) + ">" + Self.escaped(content) + "</text>")
  }

  // MARK: Formatting

  private var indentation: String { String(repeating: "  ", count: depth) }

  /// A coordinate with at most two decimals and no exponent: `12`, `3.5`, `-0.25`.
  ///
  /// - Precondition: `x` is finite (a figure never writes NaN or infinity).
  static func number(_ x: Double) -> String {
    require(x.isFinite, "SVGWriter: coordinate \(x) is not finite")
    require(abs(x) < 1e12, "SVGWriter: coordinate \(x) is too large for a drawing")
    let hundredths = Int((x * 100).rounded())
    if hundredths == 0 { return "0" }
    let sign = hundredths < 0 ? "-" : ""
    let (whole, fraction) = (abs(hundredths) / 100, abs(hundredths) % 100)
    switch fraction {
    case 0: return "\(sign)\(whole)"
    case let f where f % 10 == 0: return "\(sign)\(whole).\(f / 10)"
    case let f where f < 10: return "\(sign)\(whole).0\(f)"
    default: return "\(sign)\(whole).\(fraction)"
    }
  }

  /// Text with the five characters that XML reserves replaced by entities.
  static func escaped(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      // XML 1.0 forbids control characters other than tab and line breaks, even as
      // entities; a label is one line anyway.
      case _ where scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value):
        out += " "
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  private static func attributes(_ attributes: [(String, String)]) -> String {
    attributes.map { " \($0.0)=\"\(escaped($0.1))\"" }.joined()
  }

  private static func stroke(_ color: Color?, width: Double) -> [(String, String)] {
    guard let color else { return [] }
    return [("stroke", color.hex), ("stroke-width", number(width))]
  }

  private static func pair(_ p: Point) -> String { number(p.x) + " " + number(p.y) }

  private static func points(_ points: [Point]) -> String {
    points.map(pair).joined(separator: " ")
  }
}

/// A position on the canvas, in pixels from the top-left corner.
struct Point: Equatable {
  var x: Double
  var y: Double
  init(_ x: Double, _ y: Double) {
    self.x = x
    self.y = y
  }
}

/// A rough width of `text` in pixels at `size`, for layout: the writer cannot measure fonts,
/// so it assumes an average glyph of 0.6 em, which is generous for Helvetica and Arial.
func estimatedWidth(of text: String, size: Double = 12) -> Double {
  Double(text.count) * size * 0.6
}

/// `text` shortened with an ellipsis to fit `width` pixels at `size`.
func truncated(_ text: String, toWidth width: Double, size: Double = 12) -> String {
  let fitting = Int(width / (size * 0.6))
  guard text.count > fitting else { return text }
  guard fitting > 1 else { return "…" }
  return String(text.prefix(fitting - 1)) + "…"
}
