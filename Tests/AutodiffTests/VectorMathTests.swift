import CKernels
import Foundation
import Testing

/// The polynomial kernels against the plain formulas in `Double`.
@Suite("Vectorized elementary functions")
struct VectorMathTests {
  /// Inputs on a grid over [−range, range] plus the points where the kernels switch form.
  func inputs(_ range: Float) -> [Float] {
    var x = (0...20_000).map { -range + 2 * range * Float($0) / 20_000 }
    x += [0, -0, 0.5, -0.5, 0.4999999, 1e-8, -1e-8, 88, -87, 1e-30]
    return x
  }

  func apply(
    _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void, _ x: [Float]
  ) -> [Float] {
    var y = [Float](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { xs in
      y.withUnsafeMutableBufferPointer { ys in kernel(xs.baseAddress!, ys.baseAddress!, x.count) }
    }
    return y
  }

  @Test func expRelativeErrorBelow3e7() {
    let x = inputs(87)
    let y = apply({ ad_exp_f32($0, $1, $2) }, x)
    for (xi, yi) in zip(x, y) {
      let exact = Foundation.exp(Double(xi))
      #expect(abs(Double(yi) - exact) <= 3e-7 * exact, "exp(\(xi)) = \(yi), expected \(exact)")
    }
  }

  /// Past the range of normal results: overflow to +∞ where exp does (above ln FLT_MAX),
  /// gradual underflow to 0, and NaN through.
  @Test func expOverflowsAndUnderflowsAsExpDoes() {
    let high = (0...2_000).map { 88 + Float($0) / 2_000 }  // 88 … 89
    for (xi, yi) in zip(high, apply({ ad_exp_f32($0, $1, $2) }, high)) {
      let exact = Foundation.exp(Double(xi))
      if exact > Double(Float.greatestFiniteMagnitude) {
        #expect(yi == .infinity, "exp(\(xi)) = \(yi), expected +∞")
      } else {
        #expect(abs(Double(yi) - exact) <= 3e-7 * exact, "exp(\(xi)) = \(yi), expected \(exact)")
      }
    }
    let low = (0...2_000).map { -87 - 20 * Float($0) / 2_000 }  // −87 … −107
    for (xi, yi) in zip(low, apply({ ad_exp_f32($0, $1, $2) }, low)) {
      let exact = Foundation.exp(Double(xi))
      #expect(
        abs(Double(yi) - exact) <= 3e-7 * exact + 2e-45, "exp(\(xi)) = \(yi), expected \(exact)")
    }
    let special = apply({ ad_exp_f32($0, $1, $2) }, [.infinity, -.infinity, .nan, 1000, -1000])
    #expect(special[0] == .infinity && special[1] == 0 && special[2].isNaN)
    #expect(special[3] == .infinity && special[4] == 0)
  }

  @Test func sigmoidAbsoluteErrorBelow1e7() {
    let x = inputs(100)
    let y = apply({ ad_sigmoid_f32($0, $1, $2) }, x)
    for (xi, yi) in zip(x, y) {
      let exact = 1 / (1 + Foundation.exp(-Double(xi)))
      #expect(abs(Double(yi) - exact) <= 1e-7, "σ(\(xi)) = \(yi), expected \(exact)")
      #expect(yi.isFinite)
    }
  }

  @Test func tanhRelativeErrorBelow5e7() {
    let x = inputs(20)
    let y = apply({ ad_tanh_f32($0, $1, $2) }, x)
    for (xi, yi) in zip(x, y) {
      let exact = Foundation.tanh(Double(xi))
      #expect(
        abs(Double(yi) - exact) <= 5e-7 * abs(exact) + 1e-37,
        "tanh(\(xi)) = \(yi), expected \(exact)")
    }
  }

  /// ln over 60 decades, subnormals included, against ln in Double: relative error below
  /// 2e-7 (absolute near x = 1, where ln x passes through 0), and the special values.
  @Test func logRelativeErrorBelow2e7() {
    var x = (0...40_000).map { Float(Foundation.pow(10, -44 + 82 * Double($0) / 40_000)) }
    x += (0...20_000).map { 0.5 + Float($0) / 10_000 }  // around 1, finely
    x += [1, Float.leastNonzeroMagnitude, Float.leastNormalMagnitude, .greatestFiniteMagnitude]
    let y = apply({ ad_log_f32($0, $1, $2) }, x)
    for (xi, yi) in zip(x, y) {
      let exact = Foundation.log(Double(xi))
      #expect(
        abs(Double(yi) - exact) <= 2e-7 * Swift.max(abs(exact), 1),
        "log(\(xi)) = \(yi), expected \(exact)")
    }
    let special = apply({ ad_log_f32($0, $1, $2) }, [0, -0.0, -1, .nan, .infinity, -.infinity])
    #expect(special[0] == -.infinity && special[1] == -.infinity)
    #expect(special[2].isNaN && special[3].isNaN && special[5].isNaN)
    #expect(special[4] == .infinity)
  }
}
