import Foundation

/// The scalar types a ``Tensor`` can hold: `Float` and `Double`.
///
/// The protocol gives kernels the elementary functions generically, so that one generic
/// loop serves both dtypes and the compiler specializes it for each.
public protocol TensorScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable
where Self.RawSignificand: FixedWidthInteger {
  /// The dtype that stores this scalar.
  static var dtype: DType { get }
  static func exp(_ x: Self) -> Self
  static func log(_ x: Self) -> Self
  static func log1p(_ x: Self) -> Self
  static func sin(_ x: Self) -> Self
  static func cos(_ x: Self) -> Self
  static func tan(_ x: Self) -> Self
  static func tanh(_ x: Self) -> Self
  static func pow(_ x: Self, _ y: Self) -> Self
}

extension Float: TensorScalar {
  public static var dtype: DType { .float32 }
  @inline(__always) public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
  @inline(__always) public static func log(_ x: Float) -> Float { Foundation.log(x) }
  @inline(__always) public static func log1p(_ x: Float) -> Float { Foundation.log1p(x) }
  @inline(__always) public static func sin(_ x: Float) -> Float { Foundation.sin(x) }
  @inline(__always) public static func cos(_ x: Float) -> Float { Foundation.cos(x) }
  @inline(__always) public static func tan(_ x: Float) -> Float { Foundation.tan(x) }
  @inline(__always) public static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
  @inline(__always) public static func pow(_ x: Float, _ y: Float) -> Float { Foundation.pow(x, y) }
}

extension Double: TensorScalar {
  public static var dtype: DType { .float64 }
  @inline(__always) public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
  @inline(__always) public static func log(_ x: Double) -> Double { Foundation.log(x) }
  @inline(__always) public static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
  @inline(__always) public static func sin(_ x: Double) -> Double { Foundation.sin(x) }
  @inline(__always) public static func cos(_ x: Double) -> Double { Foundation.cos(x) }
  @inline(__always) public static func tan(_ x: Double) -> Double { Foundation.tan(x) }
  @inline(__always) public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
  @inline(__always) public static func pow(_ x: Double, _ y: Double) -> Double {
    Foundation.pow(x, y)
  }
}
