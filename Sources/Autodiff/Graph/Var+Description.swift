extension Var: CustomStringConvertible {
  /// The expression that computed this node, as text: `(sin(x) + (x * y))`.
  ///
  /// Leaves print their name, or their value when unnamed and small. Very large expressions
  /// are shortened with `…`.
  public var description: String {
    var text: [ObjectIdentifier: String] = [:]
    let limit = 400
    for node in topologicalOrder() {
      let rendered: String
      if let op = node.creator {
        let parts = op.args.map { text[ObjectIdentifier($0)] ?? "…" }
        if let symbol = op.infixSymbol, parts.count == 2 {
          rendered = "(\(parts[0]) \(symbol) \(parts[1]))"
        } else {
          rendered = "\(op.name)(\(parts.joined(separator: ", ")))"
        }
      } else if let name = node.name {
        rendered = name
      } else if node.value.count == 1 {
        rendered =
          node.dtype == .float32
          ? "\(Float(node.value[flat: 0]))" : "\(node.value[flat: 0])"
      } else {
        rendered = "tensor\(node.shape)"
      }
      text[ObjectIdentifier(node)] = rendered.count > limit ? "…" : rendered
    }
    return text[ObjectIdentifier(self)] ?? "…"
  }

  /// The graph below this node in Graphviz DOT: one box per op and leaf with its name and
  /// shape, edges from arguments to ops. Render with `dot -Tsvg`.
  ///
  /// - Parameters:
  ///   - values: Include each node's value (small tensors only).
  ///   - gradients: Include each node's gradient when it has one.
  public func dot(values: Bool = false, gradients: Bool = false) -> String {
    let order = topologicalOrder()
    var ids: [ObjectIdentifier: Int] = [:]
    for (i, node) in order.enumerated() { ids[ObjectIdentifier(node)] = i }
    var lines = ["digraph {", "  rankdir=BT;", "  node [shape=box, fontname=\"Helvetica\"];"]
    for (i, node) in order.enumerated() {
      var label = node.creator?.name ?? node.name ?? (node.requiresGrad ? "leaf" : "constant")
      label += "\\n\(node.shape)"
      if values && node.value.count <= 16 { label += "\\nvalue \(node.value)" }
      if gradients, let grad = node.grad, grad.count <= 16 { label += "\\ngrad \(grad)" }
      let style = node.isLeaf ? ", style=rounded" : ""
      lines.append(
        "  n\(i) [label=\"\(label.replacingOccurrences(of: "\"", with: "'"))\"\(style)];")
      for arg in node.creator?.args ?? [] {
        lines.append("  n\(ids[ObjectIdentifier(arg)]!) -> n\(i);")
      }
    }
    lines.append("}")
    return lines.joined(separator: "\n")
  }
}
