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
  /// The 0-based byte offset, for binary formats.
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

/// The contents of a file, or an error naming it.
func readFile(_ url: URL) throws -> Data {
  do {
    return try Data(contentsOf: url)
  } catch {
    let reason =
      FileManager.default.fileExists(atPath: url.path) ? "cannot be read" : "no such file"
    throw DataFileError(file: url.path, "\(reason)")
  }
}

/// The lines of a UTF-8 text file.
func readLines(_ url: URL) throws -> [Substring] {
  let data = try readFile(url)
  guard let text = String(data: data, encoding: .utf8) else {
    throw DataFileError(file: url.path, "expected UTF-8 text")
  }
  return text.split(separator: "\n", omittingEmptySubsequences: false).map {
    $0.hasSuffix("\r") ? $0.dropLast() : $0
  }
}
