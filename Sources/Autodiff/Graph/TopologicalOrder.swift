extension Var {
  /// Every node this one depends on, itself last, each before the nodes that use it.
  ///
  /// Found by depth-first search with an explicit stack, so graphs of any depth (a
  /// sequence unrolled over a million steps) are fine. A graph below a node never changes
  /// once built, so the order is computed once and cached on this node.
  public func topologicalOrder() -> [Var] {
    nodesBelow() + [self]
  }

  /// The topological order without this node itself, cached: caching the node in its own
  /// order would make a reference cycle and leak the graph.
  func nodesBelow() -> [Var] {
    if let cachedOrder { return cachedOrder }
    var order = topologicalOrder(stoppingAt: [])
    order.removeLast()
    if !order.isEmpty { cachedOrder = order }
    return order
  }

  /// The topological order of the graph above `boundary`: nodes in the boundary are
  /// included but not descended into. Not cached.
  func topologicalOrder(stoppingAt boundary: Set<ObjectIdentifier>) -> [Var] {
    var order: [Var] = []
    var visited: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
    // Each stack entry is a node and the index of the next argument to visit.
    var stack: [(node: Var, next: Int)] = [(self, 0)]
    while !stack.isEmpty {
      let (node, next) = stack[stack.count - 1]
      if let op = node.creator, next < op.args.count, !boundary.contains(ObjectIdentifier(node)) {
        stack[stack.count - 1].next = next + 1
        let arg = op.args[next]
        if visited.insert(ObjectIdentifier(arg)).inserted { stack.append((arg, 0)) }
      } else {
        order.append(node)
        stack.removeLast()
      }
    }
    return order
  }
}
