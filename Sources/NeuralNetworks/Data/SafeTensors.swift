import Autodiff
import Foundation

/// Saving and loading parameters in the safetensors format, which PyTorch and other tools
/// read: an 8-byte little-endian header length, a JSON header giving each tensor's dtype,
/// shape and byte range, then the raw little-endian data.
public enum SafeTensors {
  /// Writes named tensors to `url` atomically: the file is written beside the target and
  /// renamed into place, so a crash never leaves half a file.
  ///
  /// `metadata` goes into the header's `__metadata__` object, beside `"format": "pt"`.
  public static func write(
    _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL
  ) throws {
    var header: [String: Any] = [
      "__metadata__": metadata.merging(["format": "pt"]) { mine, _ in mine }
    ]
    var body = Data()
    for (name, tensor) in tensors {
      let start = body.count
      switch tensor.dtype {
      case .float32:
        tensor.withUnsafeBufferPointer(as: Float.self) { body.append(Data(buffer: $0)) }
      case .float64:
        tensor.withUnsafeBufferPointer(as: Double.self) { body.append(Data(buffer: $0)) }
      }
      header[name] = [
        "dtype": tensor.dtype == .float32 ? "F32" : "F64", "shape": tensor.shape,
        "data_offsets": [start, body.count],
      ]
    }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces to align the data
    var file = Data()
    var length = UInt64(json.count).littleEndian
    file.append(Data(bytes: &length, count: 8))
    file.append(json)
    file.append(body)
    do {
      try file.write(to: url, options: .atomic)
    } catch {
      throw DataFileError(file: url.path, "cannot be written: \(error.localizedDescription)")
    }
  }

  /// Reads every tensor in a safetensors file, by name.
  public static func read(_ url: URL) throws -> [String: Tensor] {
    try readWithMetadata(url).tensors
  }

  /// Reads every tensor in a safetensors file, by name, and the header's `__metadata__`
  /// strings.
  public static func readWithMetadata(_ url: URL) throws -> (
    tensors: [String: Tensor], metadata: [String: String]
  ) {
    let data = try readFile(url)
    let file = url.lastPathComponent
    guard data.count >= 8 else {
      throw DataFileError(
        file: file, byteOffset: 0, "expected an 8-byte header length, found \(data.count) bytes")
    }
    let length = data.prefix(8).enumerated().reduce(UInt64(0)) {
      $0 | UInt64($1.element) << (8 * UInt64($1.offset))
    }
    guard length <= UInt64(data.count - 8) else {
      throw DataFileError(
        file: file, byteOffset: 0, "header length \(length) exceeds the file size \(data.count)")
    }
    let headerData = data.subdata(in: 8..<(8 + Int(length)))
    guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
      throw DataFileError(file: file, byteOffset: 8, "expected a JSON object header")
    }
    let bodyStart = 8 + Int(length)
    var tensors: [String: Tensor] = [:]
    var metadata: [String: String] = [:]
    if let entry = header["__metadata__"] {
      guard let strings = entry as? [String: String] else {
        throw DataFileError(
          file: file, byteOffset: 8, "expected __metadata__ to map strings to strings")
      }
      metadata = strings
    }
    for (name, value) in header where name != "__metadata__" {
      guard let entry = value as? [String: Any], let dtypeName = entry["dtype"] as? String,
        let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int],
        offsets.count == 2
      else {
        throw DataFileError(
          file: file, byteOffset: 8, "tensor '\(name)': expected dtype, shape and data_offsets")
      }
      let dtype: DType
      switch dtypeName {
      case "F32": dtype = .float32
      case "F64": dtype = .float64
      default:
        throw DataFileError(
          file: file, byteOffset: 8,
          "tensor '\(name)': expected dtype F32 or F64, found \(dtypeName)")
      }
      let count = shape.reduce(1, *)
      let (begin, end) = (bodyStart + offsets[0], bodyStart + offsets[1])
      guard offsets[0] >= 0, end - begin == count * dtype.byteCount, end <= data.count else {
        throw DataFileError(
          file: file, byteOffset: begin,
          "tensor '\(name)': expected \(count * dtype.byteCount) bytes for shape \(shape), the offsets \(offsets) do not fit"
        )
      }
      let bytes = data.subdata(in: begin..<end)
      switch dtype {
      case .float32:
        let values = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        tensors[name] = Tensor(values, shape: shape)
      case .float64:
        let values = bytes.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        tensors[name] = Tensor(values, shape: shape, dtype: .float64)
      }
    }
    return (tensors, metadata)
  }
}
