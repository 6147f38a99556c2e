import CKernels

extension Var {
  /// The softmax along `axis` (the last by default): e^(xᵢ) / Σⱼ e^(xⱼ), computed after
  /// subtracting the maximum so that it never overflows.
  ///
  /// Backward, from the saved output y: the Jacobian is ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ − yⱼ), so
  /// ∂L/∂x = y ⊙ (s − Σⱼ sⱼ yⱼ).
  public func softmax(along axis: Int = -1) -> Var {
    let axis = normalizedAxis(axis, op: "softmax")
    return Var(
      op: "softmax", args: [self],
      forward: { args, value in Kernels.softmax(args[0].value, axis, log: false, into: &value) },
      vectorJacobianProduct: { _, y, s in
        [y * (s - (s * y).sum(along: axis, keepingDimensions: true))]
      },
      backward: { args, y, s in
        guard let g = args[0].gradientPointer() else { return }
        Kernels.softmaxBackward(y.value, s, axis, log: false, into: g)
      })
  }
}

extension Kernels {
  /// Softmax (or log-softmax) along `axis`.
  static func softmax(_ x: Tensor, _ axis: Int, log: Bool, into out: inout Tensor) {
    out.prepare(shape: x.shape, dtype: x.dtype)
    switch x.dtype {
    case .float32: softmax(Float.self, x, axis, log, &out)
    case .float64: softmax(Double.self, x, axis, log, &out)
    }
  }

  private static func softmax<T: TensorScalar>(
    _: T.Type, _ x: Tensor, _ axis: Int, _ log: Bool, _ out: inout Tensor
  ) {
    let (outer, length, inner) = split(x.shape, axis)
    let xp = x.pointer(as: T.self)
    let yp = out.pointer(as: T.self)
    for o in 0..<outer {
      for i in 0..<inner {
        let base = o * length * inner + i
        var m = -T.infinity
        for l in 0..<length { m = Swift.max(m, xp[base + l * inner]) }
        if !m.isFinite { m = 0 }
        var total = T.zero
        if inner == 1 {
          // A contiguous row: shift, then exponentiate it in one vectorized call.
          for l in 0..<length { yp[base + l] = xp[base + l] - m }
          exponentiate(yp + base, length)
          for l in 0..<length { total += yp[base + l] }
        } else {
          for l in 0..<length {
            let e = T.exp(xp[base + l * inner] - m)
            yp[base + l * inner] = e
            total += e
          }
        }
        if log {
          let shift = m + T.log(total)
          for l in 0..<length { yp[base + l * inner] = xp[base + l * inner] - shift }
        } else {
          let scale = 1 / total
          for l in 0..<length { yp[base + l * inner] *= scale }
        }
      }
    }
    withExtendedLifetime(x) {}
  }

  /// x ← eˣ in place: the vectorized polynomial for `Float`, `T.exp` otherwise.
  @inline(__always)
  static func exponentiate<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, _ count: Int) {
    if T.self == Float.self && ComputeSettings.kernelLevel > .portable {
      let p = UnsafeMutableRawPointer(x).assumingMemoryBound(to: Float.self)
      ad_exp_f32(p, p, count)
    } else {
      for i in 0..<count { x[i] = T.exp(x[i]) }
    }
  }

  /// g += y ⊙ (s − Σ s ⊙ y) for softmax; g += s − e^y ⊙ Σ s for log-softmax.
  static func softmaxBackward(
    _ y: Tensor, _ s: Tensor, _ axis: Int, log: Bool, into g: UnsafeMutableRawPointer
  ) {
    switch y.dtype {
    case .float32:
      softmaxBackward(Float.self, y, s, axis, log, g.assumingMemoryBound(to: Float.self))
    case .float64:
      softmaxBackward(Double.self, y, s, axis, log, g.assumingMemoryBound(to: Double.self))
    }
  }

  private static func softmaxBackward<T: TensorScalar>(
    _: T.Type, _ y: Tensor, _ s: Tensor, _ axis: Int, _ log: Bool, _ g: UnsafeMutablePointer<T>
  ) {
    let (outer, length, inner) = split(y.shape, axis)
    let yp = y.pointer(as: T.self)
    let sp = s.pointer(as: T.self)
    for o in 0..<outer {
      for i in 0..<inner {
        let base = o * length * inner + i
        var dot = T.zero
        for l in 0..<length {
          let k = base + l * inner
          dot += log ? sp[k] : sp[k] * yp[k]
        }
        for l in 0..<length {
          let k = base + l * inner
          g[k] += log ? sp[k] - T.exp(yp[k]) * dot : yp[k] * (sp[k] - dot)
        }
      }
    }
    withExtendedLifetime((y, s)) {}
  }
}

extension GradientCheck {
  static let softmax = GradientCheck("softmax", inputs: [.init([3, 5])]) {
    $0[0].softmax()
  }
  static let softmaxAxis0 = GradientCheck("softmax (axis 0)", inputs: [.init([4, 3])]) {
    $0[0].softmax(along: 0)
  }
}
