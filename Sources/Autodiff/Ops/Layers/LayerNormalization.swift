extension Var {
  /// Layer normalization along the last axis, scaled by γ and shifted by β: for every row x
  /// of length D,
  /// ```
  /// μ = mean(x)   σ² = mean((x − μ)²)   x̂ = (x − μ) / √(σ² + ε)   y = γ ⊙ x̂ + β
  /// ```
  /// One fused op in place of the nine of its composition (mean, difference, square, mean,
  /// sum, square root, product, quotient, sum), whose full-size intermediate tensors cost
  /// more than the arithmetic. The composition is its differentiable rule and oracle.
  ///
  /// Backward, for upstream s, with g = s ⊙ γ and r = 1/√(σ² + ε) for each row:
  /// ```
  /// ∂x = r · (g − mean(g) − x̂ · mean(g ⊙ x̂))   ∂γ = Σ_rows s ⊙ x̂   ∂β = Σ_rows s
  /// ```
  ///
  /// - Parameters:
  ///   - gamma: γ, `[D]`.
  ///   - beta: β, `[D]`.
  ///   - epsilon: ε, added to the variance.
  /// - Returns: A node of the shape of `self`.
  public func layerNormalized(gamma: Var, beta: Var, epsilon: Double = 1e-5) -> Var {
    let name = "layerNormalized"
    require(
      rank >= 1 && gamma.shape == [shape.last!] && beta.shape == gamma.shape,
      "\(name): γ \(gamma.shape) and β \(beta.shape) must be [\(shape.last ?? 0)] for input \(shape)"
    )
    let statistics = SavedTensor()
    return Var.fused(
      name: name, args: [self, gamma, beta],
      forward: { args, value in
        Kernels.layerNormalization(
          args[0].value, args[1].value, args[2].value, epsilon: epsilon,
          statistics: &statistics.tensor, into: &value)
      },
      backward: { args, _, s in
        Kernels.layerNormalizationBackward(
          args[0].value, args[1].value, statistics: statistics.tensor, upstream: s,
          args.map { $0.gradientPointer() })
      },
      composed: { args in
        let (x, gamma, beta) = (args[0], args[1], args[2])
        let centered = x - x.mean(along: -1, keepingDimensions: true)
        let variance = centered.squared().mean(along: -1, keepingDimensions: true)
        return gamma * centered / (variance + epsilon).sqrt() + beta
      })
  }
}

extension Kernels {
  /// y = γ ⊙ x̂ + β for every row; `statistics` keeps μ and r = 1/√(σ² + ε) of each row,
  /// `[rows, 2]`.
  static func layerNormalization(
    _ x: Tensor, _ gamma: Tensor, _ beta: Tensor, epsilon: Double, statistics: inout Tensor,
    into out: inout Tensor
  ) {
    let width = x.shape.last ?? 1
    out.prepare(shape: x.shape, dtype: x.dtype)
    statistics.prepare(shape: [x.count / Swift.max(1, width), 2], dtype: x.dtype)
    switch x.dtype {
    case .float32:
      layerNormalization(Float.self, x, gamma, beta, Float(epsilon), &statistics, &out)
    case .float64:
      layerNormalization(Double.self, x, gamma, beta, epsilon, &statistics, &out)
    }
  }

  private static func layerNormalization<T: TensorScalar>(
    _: T.Type, _ x: Tensor, _ gamma: Tensor, _ beta: Tensor, _ epsilon: T,
    _ statistics: inout Tensor, _ out: inout Tensor
  ) {
    let width = x.shape.last ?? 1
    let rows = x.count / Swift.max(1, width)
    let p = UnsafeSendable(
      (
        x: x.pointer(as: T.self), gamma: gamma.pointer(as: T.self),
        beta: beta.pointer(as: T.self), statistics: statistics.pointer(as: T.self),
        y: out.pointer(as: T.self)
      ))
    forEachPart(units: rows, work: 8 * x.count) { part, parts in
      let p = p.pointer
      for row in (rows * part / parts)..<(rows * (part + 1) / parts) {
        let (xr, yr) = (p.x + row * width, p.y + row * width)
        var total = T.zero
        for j in 0..<width { total += xr[j] }
        let mean = total / T(width)
        var squares = T.zero
        for j in 0..<width {
          let c = xr[j] - mean
          squares += c * c
        }
        let r = 1 / (squares / T(width) + epsilon).squareRoot()
        p.statistics[2 * row] = mean
        p.statistics[2 * row + 1] = r
        for j in 0..<width { yr[j] = p.gamma[j] * ((xr[j] - mean) * r) + p.beta[j] }
      }
    }
    withExtendedLifetime((x, gamma, beta)) {}
  }

  /// Adds ∂x, ∂γ, ∂β into `gradients` (nil where none is wanted).
  static func layerNormalizationBackward(
    _ x: Tensor, _ gamma: Tensor, statistics: Tensor, upstream s: Tensor,
    _ gradients: [UnsafeMutableRawPointer?]
  ) {
    switch x.dtype {
    case .float32: layerNormalizationBackward(Float.self, x, gamma, statistics, s, gradients)
    case .float64: layerNormalizationBackward(Double.self, x, gamma, statistics, s, gradients)
    }
  }

  private static func layerNormalizationBackward<T: TensorScalar>(
    _: T.Type, _ x: Tensor, _ gamma: Tensor, _ statistics: Tensor, _ s: Tensor,
    _ gradients: [UnsafeMutableRawPointer?]
  ) {
    let width = x.shape.last ?? 1
    let rows = x.count / Swift.max(1, width)
    let parts =
      8 * x.count < ComputeSettings.minimumParallelWork
      ? 1 : Swift.max(1, Swift.min(ComputeSettings.threads, rows))
    // Each part sums its rows' ∂γ and ∂β apart; the parts are added at the end.
    let partial = UnsafeMutablePointer<T>.allocate(capacity: parts * 2 * width)
    partial.initialize(repeating: 0, count: parts * 2 * width)
    defer { partial.deallocate() }
    let p = UnsafeSendable(
      (
        x: x.pointer(as: T.self), gamma: gamma.pointer(as: T.self),
        statistics: statistics.pointer(as: T.self), s: s.pointer(as: T.self),
        gx: gradients[0]?.assumingMemoryBound(to: T.self), partial: partial
      ))
    forEachPart(units: parts, work: 8 * x.count) { part, count in
      let p = p.pointer
      let gammaSums = p.partial + part * 2 * width
      let betaSums = gammaSums + width
      let normalized = UnsafeMutablePointer<T>.allocate(capacity: width)
      defer { normalized.deallocate() }
      for row in (rows * part / count)..<(rows * (part + 1) / count) {
        let (xr, sr) = (p.x + row * width, p.s + row * width)
        let (mean, r) = (p.statistics[2 * row], p.statistics[2 * row + 1])
        var (g, gx) = (T.zero, T.zero)
        for j in 0..<width {
          let xhat = (xr[j] - mean) * r
          normalized[j] = xhat
          let gj = sr[j] * p.gamma[j]
          g += gj
          gx += gj * xhat
          gammaSums[j] += sr[j] * xhat
          betaSums[j] += sr[j]
        }
        guard let dx = p.gx.map({ $0 + row * width }) else { continue }
        let (meanG, meanGX) = (g / T(width), gx / T(width))
        for j in 0..<width {
          dx[j] += r * (sr[j] * p.gamma[j] - meanG - normalized[j] * meanGX)
        }
      }
    }
    for (index, gradient) in [(1, gradients[1]), (2, gradients[2])] {
      guard let g = gradient?.assumingMemoryBound(to: T.self) else { continue }
      for part in 0..<parts {
        let sums = partial + part * 2 * width + (index - 1) * width
        for j in 0..<width { g[j] += sums[j] }
      }
    }
    withExtendedLifetime((x, gamma, statistics, s)) {}
  }
}

extension GradientCheck {
  /// Layer normalization of three rows of five, with γ and β.
  static let layerNormalization = GradientCheck(
    "layerNormalized", inputs: [.init([3, 5]), .init([5]), .init([5])]
  ) { $0[0].layerNormalized(gamma: $0[1], beta: $0[2]) }
}
