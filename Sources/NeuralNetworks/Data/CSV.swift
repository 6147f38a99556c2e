import Autodiff
import Foundation

/// Numeric CSV files: an optional header line, then rows of comma-separated numbers.
///
/// The syntax is RFC 4180's: a field may be quoted, and a quoted field may hold commas,
/// line breaks and quotes written twice (`"say ""hi"", twice"`). Lines end with LF, CRLF
/// or CR; a UTF-8 byte-order mark at the start is skipped; blank lines are skipped; spaces
/// around a field are not part of it.
///
/// Every data field must be a finite decimal number (`3`, `-0.5`, `1e-3`); `nan`, `inf`,
/// hexadecimal and empty fields are refused with the line and column, since a missing or
/// non-finite value would silently poison every number computed from it.
public enum CSV {
  /// A parsed table.
  public struct Table: Sendable {
    public var header: [String]
    public var rows: [[Double]]
    /// The line on which each row starts, for error messages about its values.
    var lines: [Int] = []
  }

  /// Reads a numeric table. Every row must have as many fields as the first one (or the
  /// header), and every field must be a number; otherwise the error names the line.
  public static func read(_ url: URL, hasHeader: Bool = true) throws -> Table {
    try parse(readFile(url), file: url.lastPathComponent, hasHeader: hasHeader)
  }

  /// Parses CSV text (for data already in memory).
  public static func parse(_ text: String, file: String = "<text>", hasHeader: Bool = true) throws
    -> Table
  {
    try parse(Data(text.utf8), file: file, hasHeader: hasHeader)
  }

  /// Parses the bytes of a CSV file (UTF-8 text).
  public static func parse(_ data: Data, file: String, hasHeader: Bool = true) throws -> Table {
    let bytes = try utf8Bytes(data, file: file)
    var table = Table(header: [], rows: [])
    var width: Int?
    var hasSeenHeader = !hasHeader
    var reader = RecordReader(bytes: bytes, file: file)
    while let (line, fields) = try reader.next() {
      if fields.count == 1 && fields[0].isBlank { continue }
      if !hasSeenHeader {
        table.header = fields.map(\.text)
        width = fields.count
        hasSeenHeader = true
        continue
      }
      if let width, fields.count != width {
        throw DataFileError(
          file: file, line: line, "expected \(width) fields, found \(fields.count)")
      }
      width = fields.count
      var row: [Double] = []
      row.reserveCapacity(fields.count)
      for (column, field) in fields.enumerated() {
        guard let value = number(field.text) else {
          let name = column < table.header.count ? " (\(table.header[column]))" : ""
          throw DataFileError(
            file: file, line: field.line,
            "expected a finite number in column \(column + 1)\(name), found \(describe(field.text))"
          )
        }
        row.append(value)
      }
      table.rows.append(row)
      table.lines.append(line)
    }
    if table.rows.isEmpty {
      throw DataFileError(file: file, "expected at least one data row, found none")
    }
    return table
  }

  /// The value of a decimal number: an optional sign, digits with an optional point, an
  /// optional exponent; `nil` for anything else or a value too large for a `Double`.
  static func number(_ field: String) -> Double? {
    let text = field.trimmingCharacters(in: .whitespaces)
    var digits = 0
    var sawExponent = false
    var previous: UInt8 = 0
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
      case UInt8(ascii: "."): if sawExponent { return nil }
      case UInt8(ascii: "e"), UInt8(ascii: "E"):
        if sawExponent || digits == 0 { return nil }
        sawExponent = true
      case UInt8(ascii: "+"), UInt8(ascii: "-"):
        if !(previous == 0 || previous == UInt8(ascii: "e") || previous == UInt8(ascii: "E")) {
          return nil
        }
      default: return nil
      }
      previous = byte
    }
    guard digits > 0, let value = Double(text), value.isFinite else { return nil }
    return value
  }

  /// A field as quoted in an error message.
  static func describe(_ text: String) -> String {
    text.isEmpty ? "an empty field" : quoted(text)
  }

  /// One field of a record: its text (unquoted) and the line it starts on.
  struct Field {
    var text: String
    var line: Int
    var isQuoted: Bool
    var isBlank: Bool { !isQuoted && text.isEmpty }
  }

  /// Splits UTF-8 bytes into records of fields by RFC 4180's rules.
  struct RecordReader {
    let bytes: ArraySlice<UInt8>
    let file: String
    var position: Int
    var line = 1

    init(bytes: ArraySlice<UInt8>, file: String) {
      self.bytes = bytes
      self.file = file
      position = bytes.startIndex
    }

    static let comma = UInt8(ascii: ",")
    static let quote = UInt8(ascii: "\"")
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")

    func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// Consumes a line ending at the current position, if there is one.
    mutating func skipLineEnding() -> Bool {
      guard position < bytes.endIndex else { return false }
      if bytes[position] == Self.cr {
        position += 1
        if position < bytes.endIndex && bytes[position] == Self.lf { position += 1 }
      } else if bytes[position] == Self.lf {
        position += 1
      } else {
        return false
      }
      line += 1
      return true
    }

    /// The next record and the line it starts on, or `nil` at the end of the input.
    mutating func next() throws -> (line: Int, fields: [Field])? {
      guard position < bytes.endIndex else { return nil }
      let start = line
      var fields: [Field] = []
      while true {
        fields.append(try field())
        if position < bytes.endIndex && bytes[position] == Self.comma {
          position += 1
          continue
        }
        _ = skipLineEnding()
        return (start, fields)
      }
    }

    /// Reads one field, leaving the position at the comma or line ending after it.
    mutating func field() throws -> Field {
      while position < bytes.endIndex && isSpace(bytes[position]) { position += 1 }
      let startLine = line
      if position < bytes.endIndex && bytes[position] == Self.quote {
        position += 1
        var text: [UInt8] = []
        while true {
          guard position < bytes.endIndex else {
            throw DataFileError(
              file: file, line: startLine,
              "expected a closing quote for the field opened on this line, found the end of the file"
            )
          }
          let byte = bytes[position]
          if byte == Self.quote {
            if position + 1 < bytes.endIndex && bytes[position + 1] == Self.quote {
              text.append(Self.quote)
              position += 2
              continue
            }
            position += 1
            break
          }
          if byte == Self.cr || byte == Self.lf {
            let before = position
            _ = skipLineEnding()
            text.append(contentsOf: bytes[before..<position])
            continue
          }
          text.append(byte)
          position += 1
        }
        while position < bytes.endIndex && isSpace(bytes[position]) { position += 1 }
        if position < bytes.endIndex {
          let byte = bytes[position]
          guard byte == Self.comma || byte == Self.cr || byte == Self.lf else {
            throw DataFileError(
              file: file, line: line,
              "expected a comma or the end of the line after the closing quote, found more text")
          }
        }
        return Field(
          text: String(decoding: text, as: UTF8.self), line: startLine, isQuoted: true)
      }
      let begin = position
      while position < bytes.endIndex {
        let byte = bytes[position]
        if byte == Self.comma || byte == Self.cr || byte == Self.lf { break }
        if byte == Self.quote {
          throw DataFileError(
            file: file, line: line,
            "expected a quote only around a whole field, found one inside an unquoted field")
        }
        position += 1
      }
      var end = position
      while end > begin && isSpace(bytes[end - 1]) { end -= 1 }
      return Field(
        text: String(decoding: bytes[begin..<end], as: UTF8.self), line: startLine,
        isQuoted: false)
    }
  }

  /// A dataset from a CSV file: the column named `labelColumn` becomes the targets (class
  /// labels), every other column an input feature.
  ///
  /// Labels must be whole numbers from 0 to 2²⁴ − 1 (the integers a `Float` holds exactly),
  /// and with `dtype: .float32` every feature must fit in a `Float`; the error names the
  /// line and column of a value that does not.
  public static func dataset(_ url: URL, labelColumn: String, dtype: DType = .default) throws
    -> Dataset
  {
    let file = url.lastPathComponent
    let table = try read(url)
    let matches = table.header.indices.filter { table.header[$0] == labelColumn }
    guard let labelIndex = matches.first else {
      throw DataFileError(
        file: file, line: 1,
        "expected a column named '\(labelColumn)' in the header, found \(table.header.joined(separator: ", "))"
      )
    }
    guard matches.count == 1 else {
      throw DataFileError(
        file: file, line: 1,
        "expected one column named '\(labelColumn)', found columns \(matches.map { String($0 + 1) }.joined(separator: " and "))"
      )
    }
    guard table.header.count > 1 else {
      throw DataFileError(
        file: file, line: 1, "expected feature columns besides '\(labelColumn)', found none")
    }
    for (row, line) in zip(table.rows, table.lines) {
      let label = row[labelIndex]
      guard label >= 0, label <= Double(largestLabel), label == label.rounded() else {
        throw DataFileError(
          file: file, line: line,
          "expected a class label (a whole number from 0 to \(largestLabel)) in column \(labelIndex + 1) (\(labelColumn)), found \(label)"
        )
      }
      if dtype == .float32 {
        for (column, value) in row.enumerated() where !Float(value).isFinite {
          throw DataFileError(
            file: file, line: line,
            "expected a value that fits in float32 in column \(column + 1) (\(table.header[column])), found \(value)"
          )
        }
      }
    }
    return dataset(table, labelIndex: labelIndex, dtype: dtype)
  }

  /// The largest class label: 2²⁴ − 1, the last of the consecutive integers a `Float` holds.
  static let largestLabel = (1 << 24) - 1

  static func dataset(_ table: Table, labelIndex: Int, dtype: DType) -> Dataset {
    let features = table.rows.map { row in
      row.enumerated().filter { $0.offset != labelIndex }.map(\.element)
    }
    let d = features.first?.count ?? 0
    return Dataset(
      inputs: Tensor(features.flatMap { $0 }, shape: [features.count, d], dtype: dtype),
      targets: Tensor(table.rows.map { $0[labelIndex] }, dtype: dtype))
  }
}
