import Autodiff
import Foundation

/// The IDX format of the MNIST files: a 4-byte magic number (two zero bytes, a type code,
/// the number of dimensions), each dimension as a big-endian 32-bit integer, then the data,
/// big-endian, in row-major order.
///
/// All six element types of the format are read: unsigned byte (0x08, what MNIST uses),
/// signed byte (0x09), 16-bit and 32-bit signed integers (0x0B, 0x0C), 32-bit and 64-bit
/// floats (0x0D, 0x0E). The data must be exactly as long as the shape says; the shape is
/// checked against the file's length before anything is allocated, so a header claiming
/// billions of items is refused, not believed.
public enum IDX {
  /// Reads an IDX file as a tensor of its shape, values scaled by `scale`
  /// (1/255 maps pixels to [0, 1]).
  public static func read(_ url: URL, scale: Double = 1, dtype: DType = .default) throws -> Tensor {
    try parse(readFile(url), file: url.lastPathComponent, scale: scale, dtype: dtype)
  }

  /// An element type of the format: its code, size in bytes and name.
  struct ElementType {
    var code: UInt8
    var size: Int
    var name: String

    static let all = [
      ElementType(code: 0x08, size: 1, name: "unsigned byte"),
      ElementType(code: 0x09, size: 1, name: "signed byte"),
      ElementType(code: 0x0B, size: 2, name: "16-bit integer"),
      ElementType(code: 0x0C, size: 4, name: "32-bit integer"),
      ElementType(code: 0x0D, size: 4, name: "32-bit float"),
      ElementType(code: 0x0E, size: 8, name: "64-bit float"),
    ]
  }

  /// Parses IDX bytes.
  public static func parse(_ data: Data, file: String, scale: Double = 1, dtype: DType = .default)
    throws -> Tensor
  {
    let (shape, type, start) = try header(data, file: file)
    let bytes = [UInt8](data)
    let count = (bytes.count - start) / type.size

    // Big-endian element i, as a Double.
    func element(_ i: Int) -> Double {
      let o = start + i * type.size
      var bits: UInt64 = 0
      for k in 0..<type.size { bits = bits << 8 | UInt64(bytes[o + k]) }
      switch type.code {
      case 0x08: return Double(bits)
      case 0x09: return Double(Int8(truncatingIfNeeded: bits))
      case 0x0B: return Double(Int16(truncatingIfNeeded: bits))
      case 0x0C: return Double(Int32(truncatingIfNeeded: bits))
      case 0x0D: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
      default: return Double(bitPattern: bits)
      }
    }
    func refuse(_ i: Int, _ value: Double, _ expected: String) -> DataFileError {
      DataFileError(
        file: file, byteOffset: start + i * type.size,
        "expected \(expected) in element \(i), found \(value)")
    }

    switch dtype {
    case .float32:
      var values = [Float](repeating: 0, count: count)
      for i in 0..<count {
        let value = Float(element(i) * scale)
        guard value.isFinite else {
          throw refuse(i, element(i) * scale, "a finite value that fits in float32")
        }
        values[i] = value
      }
      return Tensor(values, shape: shape)
    case .float64:
      var values = [Double](repeating: 0, count: count)
      for i in 0..<count {
        let value = element(i) * scale
        guard value.isFinite else { throw refuse(i, value, "a finite value") }
        values[i] = value
      }
      return Tensor(values, shape: shape, dtype: .float64)
    }
  }

  /// The shape, element type and data offset of IDX bytes, checked against their length.
  static func header(_ data: Data, file: String) throws -> (
    shape: [Int], type: ElementType, start: Int
  ) {
    let bytes = [UInt8](data.prefix(4 + 4 * 255))
    guard bytes.count >= 4 else {
      throw DataFileError(
        file: file, byteOffset: 0, "expected a 4-byte magic number, found \(bytes.count) bytes")
    }
    guard bytes[0] == 0 && bytes[1] == 0 else {
      let found =
        bytes[0] == 0x1F && bytes[1] == 0x8B
        ? "a gzip-compressed file (decompress it first)"
        : "0x\(hex(bytes[0])) 0x\(hex(bytes[1]))"
      throw DataFileError(
        file: file, byteOffset: 0,
        "expected an IDX magic number starting with two zero bytes, found \(found)")
    }
    guard let type = ElementType.all.first(where: { $0.code == bytes[2] }) else {
      throw DataFileError(
        file: file, byteOffset: 2,
        "expected an element type code 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E, found 0x\(hex(bytes[2]))"
      )
    }
    let rank = Int(bytes[3])
    guard rank >= 1 else {
      throw DataFileError(
        file: file, byteOffset: 3, "expected at least one dimension, found 0")
    }
    let start = 4 + 4 * rank
    guard data.count >= start else {
      throw DataFileError(
        file: file, byteOffset: 4,
        "expected \(rank) dimension sizes (\(4 * rank) bytes), found \(data.count - 4) bytes")
    }
    var shape: [Int] = []
    var count = 1
    var overflows = false
    for d in 0..<rank {
      let o = 4 + 4 * d
      let size =
        Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
      shape.append(size)
      let product = count.multipliedReportingOverflow(by: size)
      overflows = overflows || product.overflow
      count = product.partialValue
    }
    let byteCount = count.multipliedReportingOverflow(by: type.size)
    let found = data.count - start
    guard !overflows && !byteCount.overflow && byteCount.partialValue == found else {
      let expected =
        overflows || byteCount.overflow
        ? "more bytes than can be addressed" : "\(byteCount.partialValue) bytes"
      throw DataFileError(
        file: file, byteOffset: start,
        "expected \(expected) of \(type.name) data for shape \(shape), found \(found)")
    }
    return (shape, type, start)
  }

  /// An MNIST-style dataset from an images file and a labels file, images flattened to rows
  /// and scaled to [0, 1] (by 1/255, the range of unsigned bytes).
  ///
  /// The images file must have rank 2 or more (a count, then the pixels of each image), the
  /// labels file rank 1 with as many entries, each a whole number from 0 to 2²⁴ − 1.
  public static func dataset(images: URL, labels: URL, dtype: DType = .default) throws -> Dataset {
    let x = try read(images, scale: 1.0 / 255, dtype: dtype)
    guard x.rank >= 2 else {
      throw DataFileError(
        file: images.lastPathComponent, byteOffset: 3,
        "expected images of rank 2 or more (a count, then the pixels), found shape \(x.shape)")
    }
    let y = try read(labels, dtype: dtype)
    guard y.rank == 1 else {
      throw DataFileError(
        file: labels.lastPathComponent, byteOffset: 3,
        "expected labels of rank 1, found shape \(y.shape)")
    }
    guard x.shape[0] == y.shape[0] else {
      throw DataFileError(
        file: labels.lastPathComponent, byteOffset: 4,
        "expected \(x.shape[0]) labels, one for each image of \(images.lastPathComponent), found \(y.shape[0])"
      )
    }
    let values = y.scalars
    if let i = values.firstIndex(where: {
      $0 < 0 || $0 > Double(CSV.largestLabel) || $0 != $0.rounded()
    }) {
      let header = try header(readFile(labels), file: labels.lastPathComponent)
      throw DataFileError(
        file: labels.lastPathComponent, byteOffset: header.start + i * header.type.size,
        "expected a class label (a whole number from 0 to \(CSV.largestLabel)), found \(values[i])")
    }
    let pixels = x.shape.dropFirst().reduce(1, *)
    return Dataset(inputs: x.reshaped([x.shape[0], pixels]), targets: y)
  }

  static func hex(_ byte: UInt8) -> String {
    (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
  }
}
