import Autodiff
import Foundation

/// The IDX format of the MNIST files: a 4-byte magic number (two zero bytes, a type code,
/// the number of dimensions), each dimension as a big-endian 32-bit integer, then the data.
/// Only unsigned bytes (type 0x08) are supported, which is what MNIST uses.
public enum IDX {
  /// Reads an IDX file as a tensor of its shape, values scaled by `scale`
  /// (1/255 maps pixels to [0, 1]).
  public static func read(_ url: URL, scale: Double = 1, dtype: DType = .float32) throws -> Tensor {
    try parse(readFile(url), file: url.lastPathComponent, scale: scale, dtype: dtype)
  }

  /// Parses IDX bytes.
  public static func parse(_ data: Data, file: String, scale: Double = 1, dtype: DType = .float32)
    throws -> Tensor
  {
    let bytes = [UInt8](data)
    guard bytes.count >= 4 else {
      throw DataFileError(
        file: file, byteOffset: 0, "expected a 4-byte magic number, found \(bytes.count) bytes")
    }
    guard bytes[0] == 0 && bytes[1] == 0 else {
      throw DataFileError(
        file: file, byteOffset: 0, "expected the magic number to start with two zero bytes")
    }
    guard bytes[2] == 0x08 else {
      throw DataFileError(
        file: file, byteOffset: 2,
        "expected element type 0x08 (unsigned byte), found 0x\(String(bytes[2], radix: 16))")
    }
    let rank = Int(bytes[3])
    guard rank >= 1 && bytes.count >= 4 + 4 * rank else {
      throw DataFileError(
        file: file, byteOffset: 4, "expected \(rank) dimension sizes, the file ends first")
    }
    var shape: [Int] = []
    for d in 0..<rank {
      let o = 4 + 4 * d
      shape.append(
        Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
    }
    let start = 4 + 4 * rank
    let count = shape.reduce(1, *)
    guard bytes.count - start == count else {
      throw DataFileError(
        file: file, byteOffset: start,
        "expected \(count) bytes of data for shape \(shape), found \(bytes.count - start)")
    }
    return Tensor(bytes[start...].map { Double($0) * scale }, shape: shape, dtype: dtype)
  }

  /// An MNIST-style dataset from an images file and a labels file, images flattened to rows
  /// and scaled to [0, 1].
  public static func dataset(images: URL, labels: URL, dtype: DType = .float32) throws -> Dataset {
    let x = try read(images, scale: 1.0 / 255, dtype: dtype)
    let y = try read(labels, dtype: dtype)
    guard y.rank == 1, x.shape[0] == y.shape[0] else {
      throw DataFileError(
        file: labels.lastPathComponent,
        "expected \(x.shape[0]) labels to match \(images.lastPathComponent), found shape \(y.shape)"
      )
    }
    return Dataset(inputs: x.reshaped([x.shape[0], x.count / max(x.shape[0], 1)]), targets: y)
  }
}
