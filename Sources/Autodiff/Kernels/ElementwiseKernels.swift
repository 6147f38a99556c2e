/// A scalar function of one variable with up to two constant parameters, and its derivative.
///
/// The derivative is written once, generically in ``ElementwiseAlgebra``: the kernels call
/// it on numbers, and the op's differentiable rule calls it on graph nodes.
protocol UnaryFunction {
  static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T
  /// dy/dx at x, given y = value(x).
  static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A) -> A
  /// A vectorized `Float` kernel, when the function has one (a polynomial approximation
  /// whose error bound is tested against `value`).
  static var floatKernel: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? {
    get
  }
}

extension UnaryFunction {
  static var floatKernel: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? {
    nil
  }
}

/// A scalar function of two variables and its partial derivatives, written once like
/// ``UnaryFunction``'s.
protocol BinaryFunction {
  static func value<T: TensorScalar>(_ a: T, _ b: T) -> T
  /// (∂y/∂a, ∂y/∂b) at (a, b), given y = value(a, b).
  static func derivatives<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A) -> (A, A)
}

enum Kernels {
  // MARK: Unary

  static func unary<F: UnaryFunction>(
    _ f: F.Type, _ x: Tensor, _ p: Double, _ q: Double, into out: inout Tensor
  ) {
    out.prepare(shape: x.shape, dtype: x.dtype)
    switch x.dtype {
    case .float32: unary(f, Float.self, x, Float(p), Float(q), &out)
    case .float64: unary(f, Double.self, x, p, q, &out)
    }
  }

  @inline(__always)
  private static func unary<F: UnaryFunction, T: TensorScalar>(
    _ f: F.Type, _: T.Type, _ x: Tensor, _ p: T, _ q: T, _ out: inout Tensor
  ) {
    let xs = x.pointer(as: T.self)
    let ys = out.pointer(as: T.self)
    if T.self == Float.self, let kernel = F.floatKernel, ComputeSettings.kernelLevel > .portable {
      kernel(
        UnsafeRawPointer(xs).assumingMemoryBound(to: Float.self),
        UnsafeMutableRawPointer(ys).assumingMemoryBound(to: Float.self), x.count)
    } else {
      for i in 0..<x.count { ys[i] = F.value(xs[i], p, q) }
    }
    withExtendedLifetime(x) {}
  }

  /// g += s · f′(x) elementwise.
  static func unaryBackward<F: UnaryFunction>(
    _ f: F.Type, x: Tensor, y: Tensor, upstream s: Tensor, _ p: Double, _ q: Double,
    into g: UnsafeMutableRawPointer
  ) {
    switch x.dtype {
    case .float32:
      unaryBackward(
        f, Float.self, x, y, s, Float(p), Float(q), g.assumingMemoryBound(to: Float.self))
    case .float64:
      unaryBackward(f, Double.self, x, y, s, p, q, g.assumingMemoryBound(to: Double.self))
    }
  }

  @inline(__always)
  private static func unaryBackward<F: UnaryFunction, T: TensorScalar & ElementwiseAlgebra>(
    _ f: F.Type, _: T.Type, _ x: Tensor, _ y: Tensor, _ s: Tensor, _ p: T, _ q: T,
    _ g: UnsafeMutablePointer<T>
  ) {
    let xs = x.pointer(as: T.self)
    let ys = y.pointer(as: T.self)
    let ss = s.pointer(as: T.self)
    for i in 0..<x.count { g[i] += ss[i] * F.derivative(xs[i], ys[i], p, q) }
    withExtendedLifetime((x, y, s)) {}
  }

  // MARK: Binary with broadcasting

  static func binary<F: BinaryFunction>(
    _ f: F.Type, _ a: Tensor, _ b: Tensor, into out: inout Tensor, op: String
  ) {
    require(
      a.dtype == b.dtype, "\(op): dtypes \(a.dtype) and \(b.dtype) differ (\(a.shape), \(b.shape))")
    // The result's shape: the shared shape, the shape of a matrix that a row vector is
    // added to (when the value already has it), or the broadcast of the two.
    let shape =
      a.shape == b.shape
      ? a.shape
      : out.shape == a.shape && isRowVector(b.shape, of: a.shape)
        ? a.shape : broadcastShape(a.shape, b.shape, op: op)
    out.prepare(shape: shape, dtype: a.dtype)
    switch a.dtype {
    case .float32: binary(f, Float.self, a, b, &out)
    case .float64: binary(f, Double.self, a, b, &out)
    }
  }

  @inline(__always)
  private static func binary<F: BinaryFunction, T: TensorScalar>(
    _ f: F.Type, _: T.Type, _ a: Tensor, _ b: Tensor, _ out: inout Tensor
  ) {
    let ap = a.pointer(as: T.self)
    let bp = b.pointer(as: T.self)
    let yp = out.pointer(as: T.self)
    let n = out.count
    if a.count == n && b.count == n {
      for i in 0..<n { yp[i] = F.value(ap[i], bp[i]) }
    } else if b.count == 1 && a.count == n {
      let bv = bp[0]
      for i in 0..<n { yp[i] = F.value(ap[i], bv) }
    } else if a.count == 1 && b.count == n {
      let av = ap[0]
      for i in 0..<n { yp[i] = F.value(av, bp[i]) }
    } else if a.count == n && b.rank == 1 && b.count == a.shape.last! {
      // A row vector (a bias) added to every row.
      let m = b.count
      for row in 0..<(n / Swift.max(m, 1)) {
        let (x, y) = (ap + row * m, yp + row * m)
        for j in 0..<m { y[j] = F.value(x[j], bp[j]) }
      }
    } else {
      let walk = BroadcastWalk(outShape: out.shape, a: a.shape, b: b.shape)
      let m = walk.rowLength
      let sa = walk.aRowStride
      let sb = walk.bRowStride
      walk.forEachRow { row, offA, offB in
        let y = yp + row * m
        let pa = ap + offA
        let pb = bp + offB
        if sa == 1 && sb == 1 {
          for j in 0..<m { y[j] = F.value(pa[j], pb[j]) }
        } else if sa == 1 {
          let bv = pb[0]
          for j in 0..<m { y[j] = F.value(pa[j], bv) }
        } else if sb == 1 {
          let av = pa[0]
          for j in 0..<m { y[j] = F.value(av, pb[j]) }
        } else {
          let v = F.value(pa[0], pb[0])
          for j in 0..<m { y[j] = v }
        }
      }
    }
    withExtendedLifetime((a, b)) {}
  }

  /// ga += unbroadcast(s · ∂f/∂a), gb += unbroadcast(s · ∂f/∂b); either pointer may be nil.
  static func binaryBackward<F: BinaryFunction>(
    _ f: F.Type, a: Tensor, b: Tensor, y: Tensor, upstream s: Tensor,
    ga: UnsafeMutableRawPointer?, gb: UnsafeMutableRawPointer?
  ) {
    switch a.dtype {
    case .float32:
      binaryBackward(
        f, Float.self, a, b, y, s, ga?.assumingMemoryBound(to: Float.self),
        gb?.assumingMemoryBound(to: Float.self))
    case .float64:
      binaryBackward(
        f, Double.self, a, b, y, s, ga?.assumingMemoryBound(to: Double.self),
        gb?.assumingMemoryBound(to: Double.self))
    }
  }

  @inline(__always)
  private static func binaryBackward<F: BinaryFunction, T: TensorScalar & ElementwiseAlgebra>(
    _ f: F.Type, _: T.Type, _ a: Tensor, _ b: Tensor, _ y: Tensor, _ s: Tensor,
    _ ga: UnsafeMutablePointer<T>?, _ gb: UnsafeMutablePointer<T>?
  ) {
    let ap = a.pointer(as: T.self)
    let bp = b.pointer(as: T.self)
    let yp = y.pointer(as: T.self)
    let sp = s.pointer(as: T.self)
    let n = y.count
    if a.count == n && b.count == n {
      if let ga, let gb {
        for i in 0..<n {
          let (da, db) = F.derivatives(ap[i], bp[i], yp[i])
          ga[i] += sp[i] * da
          gb[i] += sp[i] * db
        }
      } else if let ga {
        for i in 0..<n { ga[i] += sp[i] * F.derivatives(ap[i], bp[i], yp[i]).0 }
      } else if let gb {
        for i in 0..<n { gb[i] += sp[i] * F.derivatives(ap[i], bp[i], yp[i]).1 }
      }
    } else {
      let walk = BroadcastWalk(outShape: y.shape, a: a.shape, b: b.shape)
      let m = walk.rowLength
      let sa = walk.aRowStride
      let sb = walk.bRowStride
      walk.forEachRow { row, offA, offB in
        for j in 0..<m {
          let i = row * m + j
          let (da, db) = F.derivatives(ap[offA + j * sa], bp[offB + j * sb], yp[i])
          ga?[offA + j * sa] += sp[i] * da
          gb?[offB + j * sb] += sp[i] * db
        }
      }
    }
    withExtendedLifetime((a, b, y, s)) {}
  }

  // MARK: In-place accumulation

  /// g += x elementwise; g is the storage of a tensor with x's element count.
  static func addInPlace(_ x: Tensor, into g: UnsafeMutableRawPointer) {
    switch x.dtype {
    case .float32:
      let xs = x.pointer(as: Float.self)
      let gs = g.assumingMemoryBound(to: Float.self)
      for i in 0..<x.count { gs[i] += xs[i] }
    case .float64:
      let xs = x.pointer(as: Double.self)
      let gs = g.assumingMemoryBound(to: Double.self)
      for i in 0..<x.count { gs[i] += xs[i] }
    }
    withExtendedLifetime(x) {}
  }
}
