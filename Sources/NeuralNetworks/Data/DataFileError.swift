import Foundation

/// A data file that could not be read: which file, where, what was expected, what was found.
///
/// ```
/// iris.csv:12: expected 5 fields, found 4
/// train-images-idx3-ubyte: byte 16: expected 47040000 bytes of image data, found 1200
/// ```
public struct DataFileError: Error, CustomStringConvertible, Equatable {
  public var file: String
  /// The 1-based line, for text formats.
  public var line: Int?
  /// The 0-based byte offset, for binary formats (and for bytes that are not UTF-8 text).
  public var byteOffset: Int?
  public var message: String

  public init(file: String, line: Int? = nil, byteOffset: Int? = nil, _ message: String) {
    self.file = file
    self.line = line
    self.byteOffset = byteOffset
    self.message = message
  }

  public var description: String {
    var location = file
    if let line { location += ":\(line)" }
    if let byteOffset { location += ": byte \(byteOffset)" }
    return "\(location): \(message)"
  }
}

/// Text as quoted in an error message: at most 40 characters, control characters escaped.
func quoted(_ text: some StringProtocol) -> String {
  var shown = ""
  for character in text.prefix(40) {
    if character.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
      shown += character.unicodeScalars.map { "\\u{\(String($0.value, radix: 16))}" }.joined()
    } else {
      shown.append(character)
    }
  }
  return "'\(shown)\(text.count > 40 ? "…" : "")'"
}

/// The largest input read from something other than a regular file (a pipe or a device),
/// whose size is not known in advance: 1 GiB.
let maximumStreamedFileSize = 1 << 30

/// The contents of a file, or an error naming it.
///
/// A regular file is read whole, so memory stays proportional to what is on disk. Pipes and
/// devices have no size to check in advance; they are read in chunks up to
/// ``maximumStreamedFileSize``, so that a path such as `/dev/zero` is refused instead of
/// filling memory.
func readFile(_ url: URL) throws -> Data {
  let path = url.path
  var isDirectory: ObjCBool = false
  guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
    throw DataFileError(file: path, "no such file")
  }
  if isDirectory.boolValue {
    throw DataFileError(file: path, "expected a file, found a directory")
  }
  let attributes = try? FileManager.default.attributesOfItem(atPath: path)
  if attributes?[.type] as? FileAttributeType == .typeRegular {
    do {
      return try Data(contentsOf: url)
    } catch {
      throw DataFileError(file: path, "cannot be read")
    }
  }
  guard let handle = FileHandle(forReadingAtPath: path) else {
    throw DataFileError(file: path, "cannot be read")
  }
  defer { try? handle.close() }
  var data = Data()
  while true {
    let chunk: Data?
    do {
      chunk = try handle.read(upToCount: 1 << 20)
    } catch {
      throw DataFileError(file: path, byteOffset: data.count, "cannot be read")
    }
    guard let chunk, !chunk.isEmpty else { return data }
    guard data.count + chunk.count <= maximumStreamedFileSize else {
      throw DataFileError(
        file: path, byteOffset: maximumStreamedFileSize,
        "expected at most \(maximumStreamedFileSize) bytes from a file that is not a regular file"
      )
    }
    data.append(chunk)
  }
}

/// The lines of UTF-8 text, without their line endings.
///
/// Lines end with LF, CRLF or a lone CR; a byte-order mark at the start is skipped. Bytes
/// that are not UTF-8 are refused with the line and byte offset of the first one.
func textLines(_ data: Data, file: String) throws -> [String] {
  let bytes = try utf8Bytes(data, file: file)
  var lines: [String] = []
  var start = bytes.startIndex
  var i = start
  while i < bytes.endIndex {
    let byte = bytes[i]
    if byte == 0x0A || byte == 0x0D {
      lines.append(String(decoding: bytes[start..<i], as: UTF8.self))
      if byte == 0x0D && i + 1 < bytes.endIndex && bytes[i + 1] == 0x0A { i += 1 }
      start = i + 1
    }
    i += 1
  }
  if start < bytes.endIndex { lines.append(String(decoding: bytes[start...], as: UTF8.self)) }
  return lines
}

/// The bytes of a UTF-8 text after any byte-order mark, checked to be valid UTF-8.
func utf8Bytes(_ data: Data, file: String) throws -> ArraySlice<UInt8> {
  let all = [UInt8](data)
  let bytes = all.starts(with: [0xEF, 0xBB, 0xBF]) ? all[3...] : all[...]
  if let offset = firstInvalidUTF8Offset(bytes) {
    var line = 1
    for byte in bytes[..<offset] where byte == 0x0A { line += 1 }
    throw DataFileError(
      file: file, line: line, byteOffset: offset,
      "expected UTF-8 text, found the byte 0x\(String(bytes[offset], radix: 16, uppercase: true))"
    )
  }
  return bytes
}

/// The index of the first byte that does not belong to a valid UTF-8 sequence, if any.
func firstInvalidUTF8Offset(_ bytes: ArraySlice<UInt8>) -> Int? {
  var iterator = bytes.makeIterator()
  var parser = Unicode.UTF8.ForwardParser()
  var offset = bytes.startIndex
  while true {
    switch parser.parseScalar(from: &iterator) {
    case .valid(let encoded): offset += encoded.count
    case .emptyInput: return nil
    case .error: return offset
    }
  }
}
