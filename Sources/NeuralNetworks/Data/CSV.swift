import Autodiff
import Foundation

/// Numeric CSV files: an optional header line, then rows of comma-separated numbers.
public enum CSV {
  /// A parsed table.
  public struct Table {
    public var header: [String]
    public var rows: [[Double]]
  }

  /// Reads a numeric table. Every row must have as many fields as the first one (or the
  /// header), and every field must be a number; otherwise the error names the line.
  public static func read(_ url: URL, hasHeader: Bool = true) throws -> Table {
    try parse(readLines(url), file: url.lastPathComponent, hasHeader: hasHeader)
  }

  /// Parses CSV text (for data already in memory).
  public static func parse(_ text: String, file: String = "<text>", hasHeader: Bool = true) throws
    -> Table
  {
    try parse(
      text.split(separator: "\n", omittingEmptySubsequences: false), file: file,
      hasHeader: hasHeader)
  }

  static func parse(_ lines: [Substring], file: String, hasHeader: Bool) throws -> Table {
    var header: [String] = []
    var rows: [[Double]] = []
    var width: Int?
    for (index, line) in lines.enumerated() {
      let number = index + 1
      if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
      let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      if hasHeader && header.isEmpty && rows.isEmpty {
        header = fields
        width = fields.count
        continue
      }
      if let width, fields.count != width {
        throw DataFileError(
          file: file, line: number, "expected \(width) fields, found \(fields.count)")
      }
      width = fields.count
      var row: [Double] = []
      for (column, field) in fields.enumerated() {
        guard let value = Double(field), value.isFinite else {
          let name = column < header.count ? " (\(header[column]))" : ""
          throw DataFileError(
            file: file, line: number,
            "expected a number in column \(column + 1)\(name), found '\(field)'")
        }
        row.append(value)
      }
      rows.append(row)
    }
    if rows.isEmpty {
      throw DataFileError(file: file, "expected at least one data row, found none")
    }
    return Table(header: header, rows: rows)
  }

  /// A dataset from a CSV file: the column named `labelColumn` becomes the targets (class
  /// labels), every other column an input feature.
  public static func dataset(_ url: URL, labelColumn: String, dtype: DType = .float32) throws
    -> Dataset
  {
    let table = try read(url)
    guard let labelIndex = table.header.firstIndex(of: labelColumn) else {
      throw DataFileError(
        file: url.lastPathComponent, line: 1,
        "expected a column named '\(labelColumn)' in the header, found \(table.header.joined(separator: ", "))"
      )
    }
    return dataset(table, labelIndex: labelIndex, dtype: dtype)
  }

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
