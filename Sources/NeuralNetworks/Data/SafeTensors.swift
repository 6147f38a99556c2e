import Autodiff
import Foundation

/// Saving and loading parameters in the safetensors format, which PyTorch and other tools
/// read: an 8-byte little-endian header length, a JSON header giving each tensor's dtype,
/// shape and byte range, then the raw little-endian data.
///
/// Reading follows the published format and refuses, with the byte offset of the offending
/// part, anything the reference implementation refuses: a header length past the end of the
/// file, a header that is not UTF-8 or not a JSON object, a key given twice, a tensor entry
/// without `dtype`, `shape` or `data_offsets`, a negative or non-integer dimension, a shape
/// whose size overflows `Int`, a byte range of the wrong length or past the end, and byte
/// ranges that overlap, leave a gap or leave bytes after the last tensor (the ranges must
/// tile the data exactly, in any order in the header). Only F32 and F64 tensors are read.
/// Sizes are checked against the file's length before any tensor is allocated. Values are
/// read as stored, including NaN and infinity.
public enum SafeTensors {
  /// Writes named tensors to `url` atomically: the file is written beside the target and
  /// renamed into place, so a crash never leaves half a file.
  ///
  /// `metadata` goes into the header's `__metadata__` object, beside `"format": "pt"`.
  ///
  /// - Throws: ``DataFileError`` when two tensors share a name, a name is `__metadata__`
  ///   (reserved by the format), or the file cannot be written.
  public static func write(
    _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL
  ) throws {
    var header: [String: Any] = [
      metadataKey: metadata.merging(["format": "pt"]) { mine, _ in mine }
    ]
    var body = Data()
    for (name, tensor) in tensors {
      guard header[name] == nil else {
        throw DataFileError(
          file: url.path,
          name == metadataKey
            ? "expected tensor names other than '\(metadataKey)', which the format reserves"
            : "expected distinct tensor names, found '\(name)' twice")
      }
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

  /// The header key that holds free-form metadata instead of a tensor.
  static let metadataKey = "__metadata__"

  /// Reads every tensor in a safetensors file, by name.
  public static func read(_ url: URL) throws -> [String: Tensor] {
    try readWithMetadata(url).tensors
  }

  /// Reads every tensor in a safetensors file, by name, and the header's `__metadata__`
  /// strings.
  public static func readWithMetadata(_ url: URL) throws -> (
    tensors: [String: Tensor], metadata: [String: String]
  ) {
    try contents(of: readFile(url), file: url.lastPathComponent)
  }

  /// Parses the bytes of a safetensors file.
  public static func parse(_ data: Data, file: String) throws -> [String: Tensor] {
    try contents(of: data, file: file).tensors
  }

  /// One tensor's entry in the header, checked.
  struct Entry {
    var name: String
    var dtype: DType
    var shape: [Int]
    var range: Range<Int>
    /// Where the entry's `data_offsets` are written, for errors about its byte range.
    var offsetsPosition: Int
  }

  /// The tensors and metadata of a safetensors file's bytes.
  static func contents(of data: Data, file: String) throws -> (
    tensors: [String: Tensor], metadata: [String: String]
  ) {
    let bytes = [UInt8](data)
    guard bytes.count >= 8 else {
      throw DataFileError(
        file: file, byteOffset: 0, "expected an 8-byte header length, found \(bytes.count) bytes")
    }
    let length = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    guard length <= UInt64(bytes.count - 8) else {
      throw DataFileError(
        file: file, byteOffset: 0,
        "expected a header length of at most \(bytes.count - 8) (the rest of the file), found \(length)"
      )
    }
    let bodyStart = 8 + Int(length)
    let headerBytes = bytes[8..<bodyStart]
    if let offset = firstInvalidUTF8Offset(headerBytes) {
      throw DataFileError(
        file: file, byteOffset: offset,
        "expected UTF-8 text in the header, found the byte 0x\(IDX.hex(bytes[offset]))")
    }
    let header = try JSON.parse(headerBytes, file: file)
    guard case .object(let members) = header.value else {
      throw DataFileError(
        file: file, byteOffset: header.offset,
        "expected the header to be a JSON object, found \(header.kind)")
    }
    let bodyLength = bytes.count - bodyStart
    var entries: [Entry] = []
    var metadata: [String: String] = [:]
    for (name, value) in members {
      func refuse(_ expected: String, found: JSON) -> DataFileError {
        DataFileError(
          file: file, byteOffset: found.offset,
          "tensor '\(name)': expected \(expected), found \(found.kind)")
      }
      if name == metadataKey {
        guard case .object(let pairs) = value.value else {
          throw DataFileError(
            file: file, byteOffset: value.offset,
            "expected '\(metadataKey)' to be an object of strings, found \(value.kind)")
        }
        for (key, text) in pairs {
          guard case .string(let string) = text.value else {
            throw DataFileError(
              file: file, byteOffset: text.offset,
              "expected '\(metadataKey)' entry '\(key)' to be a string, found \(text.kind)")
          }
          metadata[key] = string
        }
        continue
      }
      guard case .object(let fields) = value.value else {
        throw refuse("an object with dtype, shape and data_offsets", found: value)
      }
      func field(_ key: String) throws -> JSON {
        guard let found = fields.first(where: { $0.key == key })?.value else {
          throw DataFileError(
            file: file, byteOffset: value.offset, "tensor '\(name)': expected '\(key)', found none")
        }
        return found
      }

      let dtypeValue = try field("dtype")
      let dtype: DType
      switch dtypeValue.value {
      case .string("F32"): dtype = .float32
      case .string("F64"): dtype = .float64
      default: throw refuse("dtype F32 or F64", found: dtypeValue)
      }

      let shapeValue = try field("shape")
      guard case .array(let dimensions) = shapeValue.value else {
        throw refuse("a shape (an array of dimension sizes)", found: shapeValue)
      }
      var shape: [Int] = []
      var count = 1
      for dimension in dimensions {
        guard let size = dimension.integer, size >= 0 else {
          throw refuse("a dimension size (a whole number, 0 or more)", found: dimension)
        }
        let product = count.multipliedReportingOverflow(by: size)
        guard !product.overflow else {
          throw DataFileError(
            file: file, byteOffset: shapeValue.offset,
            "tensor '\(name)': expected a shape whose size fits in Int, found one larger")
        }
        shape.append(size)
        count = product.partialValue
      }
      let byteCount = count.multipliedReportingOverflow(by: dtype.byteCount)
      guard !byteCount.overflow else {
        throw DataFileError(
          file: file, byteOffset: shapeValue.offset,
          "tensor '\(name)': expected a shape whose size in bytes fits in Int, found \(shape)")
      }

      let offsetsValue = try field("data_offsets")
      guard case .array(let pair) = offsetsValue.value, pair.count == 2,
        let begin = pair[0].integer, let end = pair[1].integer, begin >= 0, begin <= end
      else {
        throw refuse("data_offsets [begin, end] with 0 ≤ begin ≤ end", found: offsetsValue)
      }
      guard end <= bodyLength else {
        throw DataFileError(
          file: file, byteOffset: offsetsValue.offset,
          "tensor '\(name)': expected data_offsets within the \(bodyLength) bytes of data, found [\(begin), \(end)]"
        )
      }
      guard end - begin == byteCount.partialValue else {
        throw DataFileError(
          file: file, byteOffset: offsetsValue.offset,
          "tensor '\(name)': expected \(byteCount.partialValue) bytes for shape \(shape) (\(dtype)), found data_offsets [\(begin), \(end)] (\(end - begin) bytes)"
        )
      }
      entries.append(
        Entry(
          name: name, dtype: dtype, shape: shape, range: begin..<end,
          offsetsPosition: offsetsValue.offset))
    }

    // The byte ranges must tile the data: sorted by position, each starts where the
    // previous one ends, and the last ends at the end of the file.
    let sorted = entries.sorted {
      ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound)
    }
    var previous: Entry?
    for entry in sorted {
      let expected = previous?.range.upperBound ?? 0
      if entry.range.lowerBound < expected, let previous {
        throw DataFileError(
          file: file, byteOffset: entry.offsetsPosition,
          "tensor '\(entry.name)': expected its bytes \(entry.range) not to overlap those of tensor '\(previous.name)' (\(previous.range))"
        )
      }
      if entry.range.lowerBound > expected {
        throw DataFileError(
          file: file, byteOffset: bodyStart + expected,
          "expected every byte of the data to belong to a tensor, found bytes \(expected..<entry.range.lowerBound) in none"
        )
      }
      previous = entry
    }
    let end = previous?.range.upperBound ?? 0
    guard end == bodyLength else {
      throw DataFileError(
        file: file, byteOffset: bodyStart + end,
        "expected the file to end after the last tensor, found \(bodyLength - end) more bytes")
    }

    var tensors: [String: Tensor] = [:]
    for entry in entries {
      let start = bodyStart + entry.range.lowerBound
      let count = entry.range.count / entry.dtype.byteCount
      tensors[entry.name] = bytes.withUnsafeBytes { raw in
        switch entry.dtype {
        case .float32:
          let values = (0..<count).map { i in
            Float(
              bitPattern: UInt32(
                littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)))
          }
          return Tensor(values, shape: entry.shape)
        case .float64:
          let values = (0..<count).map { i in
            Double(
              bitPattern: UInt64(
                littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self)))
          }
          return Tensor(values, shape: entry.shape, dtype: .float64)
        }
      }
    }
    return (tensors, metadata)
  }
}
