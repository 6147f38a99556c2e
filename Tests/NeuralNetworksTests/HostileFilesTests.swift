import Autodiff
import Foundation
import NeuralNetworks
import Testing

/// A corpus of malformed and unusual files: each is either read correctly or refused with a
/// ``DataFileError`` that names the file, the position and what was expected.
@Suite("Hostile files")
struct HostileFilesTests {
  /// One input and what reading it must give: a summary of the value read, or the error's
  /// description.
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: Data
    var expected: String
    var testDescription: String { name }

    init(_ name: String, _ bytes: Data, _ expected: String) {
      self.name = name
      self.bytes = bytes
      self.expected = expected
    }

    init(_ name: String, _ text: String, _ expected: String) {
      self.init(name, Data(text.utf8), expected)
    }
  }

  /// The summary of a value read, or the description of the `DataFileError` thrown; any other
  /// error is recorded as a failure.
  static func outcome(
    _ body: () throws -> String, sourceLocation: SourceLocation = #_sourceLocation
  ) -> String {
    do {
      return try body()
    } catch let error as DataFileError {
      return error.description
    } catch {
      Issue.record("expected a DataFileError, got \(error)", sourceLocation: sourceLocation)
      return "\(error)"
    }
  }

  // MARK: - CSV

  static func summary(_ table: CSV.Table) -> String {
    "\(table.header) \(table.rows)"
  }

  static let csvCases: [Case] = [
    Case("plain", "a,b\n1,2\n", #"["a", "b"] [[1.0, 2.0]]"#),
    Case("byte-order mark", "\u{FEFF}a,b\n1,2\n", #"["a", "b"] [[1.0, 2.0]]"#),
    Case("only a byte-order mark", "\u{FEFF}", "t.csv: expected at least one data row, found none"),
    Case("CRLF line endings", "a,b\r\n1,2\r\n3,4\r\n", #"["a", "b"] [[1.0, 2.0], [3.0, 4.0]]"#),
    Case("CR line endings", "a,b\r1,2\r3,4", #"["a", "b"] [[1.0, 2.0], [3.0, 4.0]]"#),
    Case(
      "an error after CRLF line endings names its line", "a,b\r\n1,2\r\n3,x\r\n",
      "t.csv:3: expected a finite number in column 2 (b), found 'x'"),
    Case(
      "an error after CR line endings names its line", "a,b\r1,2\r3,x\r",
      "t.csv:3: expected a finite number in column 2 (b), found 'x'"),
    Case("no final line break", "a,b\n1,2", #"["a", "b"] [[1.0, 2.0]]"#),
    Case("trailing blank lines", "a,b\n1,2\n\n  \n\r\n", #"["a", "b"] [[1.0, 2.0]]"#),
    Case(
      "blank lines between rows", "a,b\n\n1,2\n\n3,4\n", #"["a", "b"] [[1.0, 2.0], [3.0, 4.0]]"#),
    Case("spaces around fields", " a , b \n 1 ,\t2 \n", #"["a", "b"] [[1.0, 2.0]]"#),
    Case(
      "quoted header with comma and doubled quotes", "\"width, \"\"cm\"\"\",b\n1,2\n",
      #"["width, \"cm\"", "b"] [[1.0, 2.0]]"#),
    Case("quoted numbers", "a,b\n\"1.5\", \" -2e1 \"\n", #"["a", "b"] [[1.5, -20.0]]"#),
    Case(
      "line break inside a quoted header", "\"a\nb\",c\r\n1,2\n",
      #"["a\nb", "c"] [[1.0, 2.0]]"#),
    Case(
      "error after a quoted line break names the right line", "\"a\nb\",c\n1,x\n",
      "t.csv:3: expected a finite number in column 2 (c), found 'x'"),
    Case("short row", "a,b\n1,2\n3\n", "t.csv:3: expected 2 fields, found 1"),
    Case("long row", "a,b\n1,2\n3,4,5\n", "t.csv:3: expected 2 fields, found 3"),
    Case("trailing comma", "a,b\n1,2,\n", "t.csv:2: expected 2 fields, found 3"),
    Case(
      "empty field", "a,b\n1,\n",
      "t.csv:2: expected a finite number in column 2 (b), found an empty field"),
    Case(
      "unterminated quote", "a,b\n1,\"2\n3,4\n",
      "t.csv:2: expected a closing quote for the field opened on this line, found the end of the file"
    ),
    Case(
      "text after a closing quote", "a,b\n\"1\"x,2\n",
      "t.csv:2: expected a comma or the end of the line after the closing quote, found more text"),
    Case(
      "quote inside an unquoted field", "a,b\n1\"2,3\n",
      "t.csv:2: expected a quote only around a whole field, found one inside an unquoted field"),
    Case("nan", "a,b\n1,nan\n", "t.csv:2: expected a finite number in column 2 (b), found 'nan'"),
    Case("NaN", "a,b\nNaN,1\n", "t.csv:2: expected a finite number in column 1 (a), found 'NaN'"),
    Case("inf", "a,b\n1,inf\n", "t.csv:2: expected a finite number in column 2 (b), found 'inf'"),
    Case(
      "-Infinity", "a,b\n1,-Infinity\n",
      "t.csv:2: expected a finite number in column 2 (b), found '-Infinity'"),
    Case(
      "overflowing exponent", "a,b\n1,1e400\n",
      "t.csv:2: expected a finite number in column 2 (b), found '1e400'"),
    Case(
      "hexadecimal", "a,b\n1,0x10\n",
      "t.csv:2: expected a finite number in column 2 (b), found '0x10'"),
    Case(
      "thousands separator", "a,b\n1,\"1,000\"\n",
      "t.csv:2: expected a finite number in column 2 (b), found '1,000'"),
    Case(
      "NUL byte", "a,b\n1,\u{0}\n",
      #"t.csv:2: expected a finite number in column 2 (b), found '\u{0}'"#),
    Case(
      "invalid UTF-8", Data("a,b\n1,2\n".utf8) + Data([0xFF]) + Data(",3\n".utf8),
      "t.csv:3: byte 8: expected UTF-8 text, found the byte 0xFF"),
    Case(
      "Latin-1 header", Data("caf".utf8) + Data([0xE9]) + Data(",b\n1,2\n".utf8),
      "t.csv:1: byte 3: expected UTF-8 text, found the byte 0xE9"),
    Case(
      "UTF-16", Data([0xFF, 0xFE, 0x61, 0x00]),
      "t.csv:1: byte 0: expected UTF-8 text, found the byte 0xFF"),
    Case("empty file", "", "t.csv: expected at least one data row, found none"),
    Case("header only", "a,b\n", "t.csv: expected at least one data row, found none"),
  ]

  @Test(arguments: csvCases)
  func csv(_ c: Case) {
    #expect(Self.outcome { Self.summary(try CSV.parse(c.bytes, file: "t.csv")) } == c.expected)
  }

  @Test func csvWithoutHeaderCountsFieldsFromTheFirstRow() {
    #expect(
      Self.outcome { Self.summary(try CSV.parse("1,2\n3,4\n", file: "t.csv", hasHeader: false)) }
        == "[] [[1.0, 2.0], [3.0, 4.0]]")
    #expect(
      Self.outcome { Self.summary(try CSV.parse("1,2\n3\n", file: "t.csv", hasHeader: false)) }
        == "t.csv:2: expected 2 fields, found 1")
  }

  static let csvDatasetCases: [Case] = [
    Case("labels", "x,label\n0.5,0\n1.5,2\n", "[[0.5], [1.5]] [0, 2]"),
    Case(
      "fractional label", "x,label\n0.5,0\n1.5,0.5\n",
      "d.csv:3: expected a class label (a whole number from 0 to 16777215) in column 2 (label), found 0.5"
    ),
    Case(
      "negative label", "x,label\n0.5,-1\n",
      "d.csv:2: expected a class label (a whole number from 0 to 16777215) in column 2 (label), found -1.0"
    ),
    Case(
      "huge label", "label,x\n1e9,0\n",
      "d.csv:2: expected a class label (a whole number from 0 to 16777215) in column 1 (label), found 1000000000.0"
    ),
    Case(
      "value beyond float32", "x,label\n1e39,0\n",
      "d.csv:2: expected a value that fits in float32 in column 1 (x), found 1e+39"),
    Case(
      "label column twice", "label,x,label\n0,1,0\n",
      "d.csv:1: expected one column named 'label', found columns 1 and 3"),
    Case(
      "no feature column", "label\n0\n1\n",
      "d.csv:1: expected feature columns besides 'label', found none"),
    Case(
      "no label column", "x,y\n0,1\n",
      "d.csv:1: expected a column named 'label' in the header, found x, y"),
  ]

  @Test(arguments: csvDatasetCases)
  func csvDataset(_ c: Case) throws {
    let url = try Self.temporaryFile("d.csv", c.bytes)
    #expect(
      Self.outcome {
        let data = try CSV.dataset(url, labelColumn: "label")
        return "\(data.inputs.rowScalars) \(data.targets.labels)"
      } == c.expected)
  }

  // MARK: - IDX

  static func idx(_ type: UInt8, _ dimensions: [UInt32], _ payload: [UInt8] = []) -> Data {
    var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
    for d in dimensions {
      bytes += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)]
    }
    return Data(bytes + payload)
  }

  static let idxCases: [Case] = [
    Case(
      "unsigned bytes", idx(0x08, [2, 2], [0, 1, 254, 255]), "[2, 2] [0.0, 1.0, 254.0, 255.0]"),
    Case("signed bytes", idx(0x09, [3], [0x7F, 0x80, 0xFF]), "[3] [127.0, -128.0, -1.0]"),
    Case("16-bit integers", idx(0x0B, [2], [0x01, 0x00, 0xFF, 0xFE]), "[2] [256.0, -2.0]"),
    Case(
      "32-bit integers", idx(0x0C, [1], [0x80, 0x00, 0x00, 0x00]), "[1] [-2147483648.0]"),
    Case("32-bit floats", idx(0x0D, [1], [0x3F, 0xC0, 0x00, 0x00]), "[1] [1.5]"),
    Case(
      "64-bit floats", idx(0x0E, [1], [0xC0, 0x04, 0, 0, 0, 0, 0, 0]), "[1] [-2.5]"),
    Case("an empty dimension", idx(0x08, [0, 5]), "[0, 5] []"),
    Case("empty file", Data(), "f: byte 0: expected a 4-byte magic number, found 0 bytes"),
    Case(
      "three bytes", Data([0, 0, 8]), "f: byte 0: expected a 4-byte magic number, found 3 bytes"),
    Case(
      "gzip-compressed", Data([0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0]),
      "f: byte 0: expected an IDX magic number starting with two zero bytes, found a gzip-compressed file (decompress it first)"
    ),
    Case(
      "wrong magic", Data("PK\u{3}\u{4}".utf8),
      "f: byte 0: expected an IDX magic number starting with two zero bytes, found 0x50 0x4B"),
    Case(
      "unknown element type", idx(0x0A, [1], [0]),
      "f: byte 2: expected an element type code 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E, found 0x0A"),
    Case("no dimensions", idx(0x08, []), "f: byte 3: expected at least one dimension, found 0"),
    Case(
      "dimension sizes cut short", Data([0, 0, 8, 3, 0, 0, 0, 2, 0, 0]),
      "f: byte 4: expected 3 dimension sizes (12 bytes), found 6 bytes"),
    Case(
      "data cut short", idx(0x08, [2, 3], [0, 1, 2]),
      "f: byte 12: expected 6 bytes of unsigned byte data for shape [2, 3], found 3"),
    Case(
      "data too long", idx(0x08, [2], [0, 1, 2]),
      "f: byte 8: expected 2 bytes of unsigned byte data for shape [2], found 3"),
    Case(
      "billions of items claimed", idx(0x0E, [60000, 60000, 784], [1, 2, 3]),
      "f: byte 16: expected 22579200000000 bytes of 64-bit float data for shape [60000, 60000, 784], found 3"
    ),
    Case(
      "a shape whose size overflows Int", idx(0x08, [.max, .max, .max]),
      "f: byte 16: expected more bytes than can be addressed of unsigned byte data for shape [4294967295, 4294967295, 4294967295], found 0"
    ),
    Case(
      "255 dimensions", idx(0x08, Array(repeating: 2, count: 255)),
      "f: byte 1024: expected more bytes than can be addressed of unsigned byte data for shape \(Array(repeating: 2, count: 255)), found 0"
    ),
    Case(
      "NaN float", idx(0x0D, [2], [0x3F, 0x80, 0, 0, 0x7F, 0xC0, 0, 0]),
      "f: byte 12: expected a finite value that fits in float32 in element 1, found nan"),
    Case(
      "double beyond float32", idx(0x0E, [1], [0x7F, 0xE0, 0, 0, 0, 0, 0, 0]),
      "f: byte 8: expected a finite value that fits in float32 in element 0, found 8.98846567431158e+307"
    ),
  ]

  @Test(arguments: idxCases)
  func idx(_ c: Case) {
    #expect(
      Self.outcome {
        let t = try IDX.parse(c.bytes, file: "f")
        return "\(t.shape) \(t.scalars)"
      } == c.expected)
  }

  @Test func idxDatasetChecksTheTwoFilesAgainstEachOther() throws {
    let images = try Self.temporaryFile("images", Self.idx(0x08, [2, 2, 2], Array(0..<8)))
    func dataset(labels: Data, images: URL = images) throws -> String {
      let labels = try Self.temporaryFile("labels", labels)
      return Self.outcome {
        let d = try IDX.dataset(images: images, labels: labels)
        return "\(d.inputs.shape) \(d.targets.labels)"
      }
    }
    #expect(try dataset(labels: Self.idx(0x08, [2], [3, 7])) == "[2, 4] [3, 7]")
    #expect(
      try dataset(labels: Self.idx(0x08, [3], [3, 7, 1]))
        == "labels: byte 4: expected 2 labels, one for each image of images, found 3")
    #expect(
      try dataset(labels: Self.idx(0x08, [2, 1], [3, 7]))
        == "labels: byte 3: expected labels of rank 1, found shape [2, 1]")
    #expect(
      try dataset(labels: Self.idx(0x0B, [2], [0, 3, 0xFF, 0xFF]))
        == "labels: byte 10: expected a class label (a whole number from 0 to 16777215), found -1.0"
    )
    let vector = try Self.temporaryFile("vector", Self.idx(0x08, [2], [1, 2]))
    #expect(
      try dataset(labels: Self.idx(0x08, [2], [3, 7]), images: vector)
        == "vector: byte 3: expected images of rank 2 or more (a count, then the pixels), found shape [2]"
    )
  }

  // MARK: - safetensors

  /// A safetensors file from its header text and data; the header length is the header's
  /// unless given.
  static func safetensors(_ header: String, _ body: [UInt8] = [], length: UInt64? = nil) -> Data {
    safetensors(bytes: Array(header.utf8), body, length: length)
  }

  static func safetensors(bytes json: [UInt8], _ body: [UInt8] = [], length: UInt64? = nil)
    -> Data
  {
    let n = length ?? UInt64(json.count)
    return Data((0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + json + body)
  }

  /// The byte offset in the file of the `occurrence`-th appearance of `needle` in `header`.
  static func offset(of needle: String, in header: String, occurrence: Int = 1) -> Int {
    let bytes = Array(header.utf8)
    let pattern = Array(needle.utf8)
    var seen = 0
    for i in 0...(bytes.count - pattern.count)
    where Array(bytes[i..<(i + pattern.count)]) == pattern {
      seen += 1
      if seen == occurrence { return 8 + i }
    }
    fatalError("'\(needle)' does not occur \(occurrence) times in the header")
  }

  static func summary(_ tensors: [String: Tensor]) -> String {
    tensors.keys.sorted().map { name in
      let t = tensors[name]!
      return "\(name) \(t.dtype) \(t.shape) \(t.scalars)"
    }.joined(separator: "; ")
  }

  /// Little-endian bytes of Float values.
  static func f32(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } }
  }

  /// Little-endian bytes of Double values.
  static func f64(_ values: [Double]) -> [UInt8] {
    values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } }
  }

  static let f32Entry = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
  static let overlapping =
    #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
  static let gap =
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
  static let duplicate =
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
  static let outOfOrder =
    #"{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
  static let mixed =
    #"{"__metadata__":{"format":"pt"},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]},"s":{"dtype":"F64","shape":[],"data_offsets":[4,12]},"v":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#

  static func entry(_ fields: String) -> String { #"{"w":{"# + fields + "}}" }

  static let safetensorsCases: [Case] = [
    Case("one tensor", safetensors(f32Entry, f32([1, -2])), "a f32 [2] [1.0, -2.0]"),
    Case(
      "tensors listed out of order", safetensors(outOfOrder, f32([1, 2])),
      "a f32 [1] [1.0]; b f32 [1] [2.0]"),
    Case(
      "an empty tensor, a scalar and metadata",
      safetensors(mixed, f32([7]) + f64([2.5])),
      "e f32 [0, 3] []; s f64 [] [2.5]; v f32 [1] [7.0]"),
    Case("no tensors", safetensors("{}"), ""),
    Case(
      "header padded with spaces", safetensors(f32Entry + "   ", f32([1, 2])),
      "a f32 [2] [1.0, 2.0]"),
    Case(
      "NaN and infinity are read as stored", safetensors(f32Entry, f32([.nan, -.infinity])),
      "a f32 [2] [nan, -inf]"),
    Case(
      "unicode escapes in a name",
      safetensors(
        #"{"caf\u00e9 \ud83d\ude00":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}"#, f32([1])),
      "café 😀 f32 [] [1.0]"),
    Case(
      "empty file", Data(), "m.safetensors: byte 0: expected an 8-byte header length, found 0 bytes"
    ),
    Case(
      "seven bytes", Data([2, 0, 0, 0, 0, 0, 0]),
      "m.safetensors: byte 0: expected an 8-byte header length, found 7 bytes"),
    Case(
      "header length of 2⁶⁴ − 1", safetensors("{}", length: .max),
      "m.safetensors: byte 0: expected a header length of at most 2 (the rest of the file), found 18446744073709551615"
    ),
    Case(
      "header length one past the end", safetensors("{}", length: 3),
      "m.safetensors: byte 0: expected a header length of at most 2 (the rest of the file), found 3"
    ),
    Case(
      "empty header", safetensors(""),
      "m.safetensors: byte 8: expected a JSON value, found the end of the JSON text"),
    Case(
      "truncated header", safetensors("{"),
      "m.safetensors: byte 9: expected a string key, found the end of the JSON text"),
    Case(
      "header that is an array", safetensors("[]"),
      "m.safetensors: byte 8: expected the header to be a JSON object, found an array"),
    Case(
      "header that is null", safetensors(" null"),
      "m.safetensors: byte 9: expected the header to be a JSON object, found null"),
    Case(
      "header that is a string", safetensors(#""{}""#),
      "m.safetensors: byte 8: expected the header to be a JSON object, found the string '{}'"),
    Case(
      "text after the header object", safetensors("{} x"),
      "m.safetensors: byte 11: expected the end of the JSON text, found 'x'"),
    Case(
      "trailing comma", safetensors(#"{"__metadata__":{},}"#),
      "m.safetensors: byte 27: expected a string key, found '}'"),
    Case(
      "a header that is not UTF-8",
      safetensors(bytes: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x7B, 0x7D, 0x7D]),
      "m.safetensors: byte 10: expected UTF-8 text in the header, found the byte 0xFF"),
    Case(
      "a control character in a string", safetensors("{\"a\u{1}\":{}}"),
      "m.safetensors: byte 11: expected a control character in a string to be escaped, found the byte 0x01"
    ),
    Case(
      "a lone surrogate", safetensors(#"{"\udc00":{}}"#),
      "m.safetensors: byte 12: expected a Unicode scalar, not a lone surrogate, found 'd'"),
    Case(
      "nesting 100000 deep", safetensors(#"{"a":"# + String(repeating: "[", count: 100_000)),
      "m.safetensors: byte \(8 + 5 + 63): expected JSON nested at most 64 deep, found '['"),
    Case(
      "a name given twice", safetensors(duplicate, f32([1, 2])),
      "m.safetensors: byte \(offset(of: #""a""#, in: duplicate, occurrence: 2)): expected each key once in a JSON object, found 'a' again"
    ),
    Case(
      "overlapping byte ranges", safetensors(overlapping, f32([1, 2, 3])),
      "m.safetensors: byte \(offset(of: "[4,12]", in: overlapping)): tensor 'b': expected its bytes 4..<12 not to overlap those of tensor 'a' (0..<8)"
    ),
    Case(
      "a gap between byte ranges", safetensors(gap, f32([1, 2, 3])),
      "m.safetensors: byte \(8 + gap.utf8.count + 4): expected every byte of the data to belong to a tensor, found bytes 4..<8 in none"
    ),
    Case(
      "bytes after the last tensor", safetensors(f32Entry, f32([1, 2, 3])),
      "m.safetensors: byte \(8 + f32Entry.utf8.count + 8): expected the file to end after the last tensor, found 4 more bytes"
    ),
    Case(
      "data cut short", safetensors(f32Entry, f32([1])),
      "m.safetensors: byte \(offset(of: "[0,8]", in: f32Entry)): tensor 'a': expected data_offsets within the 4 bytes of data, found [0, 8]"
    ),
    Case(
      "an entry that is not an object", safetensors(#"{"w":[1]}"#),
      "m.safetensors: byte 13: tensor 'w': expected an object with dtype, shape and data_offsets, found an array"
    ),
    Case(
      "no dtype", safetensors(entry(#""shape":[],"data_offsets":[0,4]"#), f32([1])),
      "m.safetensors: byte 13: tensor 'w': expected 'dtype', found none"),
    Case(
      "no shape", safetensors(entry(#""dtype":"F32","data_offsets":[0,4]"#), f32([1])),
      "m.safetensors: byte 13: tensor 'w': expected 'shape', found none"),
    Case(
      "no data_offsets", safetensors(entry(#""dtype":"F32","shape":[]"#), f32([1])),
      "m.safetensors: byte 13: tensor 'w': expected 'data_offsets', found none"),
    Case(
      "dtype F16", safetensors(entry(#""dtype":"F16","shape":[2],"data_offsets":[0,4]"#), f32([1])),
      "m.safetensors: byte 22: tensor 'w': expected dtype F32 or F64, found the string 'F16'"),
    Case(
      "dtype I64",
      safetensors(entry(#""dtype":"I64","shape":[1],"data_offsets":[0,8]"#), f32([1, 2])),
      "m.safetensors: byte 22: tensor 'w': expected dtype F32 or F64, found the string 'I64'"),
    Case(
      "dtype that is a number",
      safetensors(entry(#""dtype":32,"shape":[1],"data_offsets":[0,4]"#), f32([1])),
      "m.safetensors: byte 22: tensor 'w': expected dtype F32 or F64, found the number 32"),
    Case(
      "negative dimension",
      safetensors(entry(#""dtype":"F32","shape":[-1],"data_offsets":[0,4]"#), f32([1])),
      "m.safetensors: byte 37: tensor 'w': expected a dimension size (a whole number, 0 or more), found the number -1"
    ),
    Case(
      "fractional dimension",
      safetensors(entry(#""dtype":"F32","shape":[1.0],"data_offsets":[0,4]"#), f32([1])),
      "m.safetensors: byte 37: tensor 'w': expected a dimension size (a whole number, 0 or more), found the number 1.0"
    ),
    Case(
      "dimension beyond Int",
      safetensors(
        entry(#""dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]"#), f32([1])),
      "m.safetensors: byte 37: tensor 'w': expected a dimension size (a whole number, 0 or more), found the number 99999999999999999999"
    ),
    Case(
      "shape whose size overflows Int",
      safetensors(
        entry(#""dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]"#), f32([1])),
      "m.safetensors: byte 36: tensor 'w': expected a shape whose size fits in Int, found one larger"
    ),
    Case(
      "shape whose size in bytes overflows Int",
      safetensors(
        entry(#""dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,4]"#), f32([1])),
      "m.safetensors: byte 36: tensor 'w': expected a shape whose size in bytes fits in Int, found [2305843009213693952]"
    ),
    Case(
      "shape that is not an array",
      safetensors(entry(#""dtype":"F32","shape":2,"data_offsets":[0,8]"#), f32([1, 2])),
      "m.safetensors: byte 36: tensor 'w': expected a shape (an array of dimension sizes), found the number 2"
    ),
    Case(
      "shape and byte range that disagree",
      safetensors(entry(#""dtype":"F32","shape":[3],"data_offsets":[0,8]"#), f32([1, 2])),
      "m.safetensors: byte 55: tensor 'w': expected 12 bytes for shape [3] (f32), found data_offsets [0, 8] (8 bytes)"
    ),
    Case(
      "offsets in decreasing order",
      safetensors(entry(#""dtype":"F32","shape":[0],"data_offsets":[4,0]"#), f32([1])),
      "m.safetensors: byte 55: tensor 'w': expected data_offsets [begin, end] with 0 ≤ begin ≤ end, found an array"
    ),
    Case(
      "one offset", safetensors(entry(#""dtype":"F32","shape":[1],"data_offsets":[4]"#), f32([1])),
      "m.safetensors: byte 55: tensor 'w': expected data_offsets [begin, end] with 0 ≤ begin ≤ end, found an array"
    ),
    Case(
      "offsets as strings",
      safetensors(entry(#""dtype":"F32","shape":[1],"data_offsets":"0,4""#), f32([1])),
      "m.safetensors: byte 55: tensor 'w': expected data_offsets [begin, end] with 0 ≤ begin ≤ end, found the string '0,4'"
    ),
    Case(
      "offsets past the end",
      safetensors(entry(#""dtype":"F32","shape":[1],"data_offsets":[4,8]"#), f32([1])),
      "m.safetensors: byte 55: tensor 'w': expected data_offsets within the 4 bytes of data, found [4, 8]"
    ),
    Case(
      "metadata that is not an object", safetensors(#"{"__metadata__":"pt"}"#),
      "m.safetensors: byte 24: expected '__metadata__' to be an object of strings, found the string 'pt'"
    ),
    Case(
      "metadata with a number", safetensors(#"{"__metadata__":{"epoch":3}}"#),
      "m.safetensors: byte 33: expected '__metadata__' entry 'epoch' to be a string, found the number 3"
    ),
  ]

  @Test(arguments: safetensorsCases)
  func safetensors(_ c: Case) {
    #expect(
      Self.outcome { Self.summary(try SafeTensors.parse(c.bytes, file: "m.safetensors")) }
        == c.expected)
  }

  @Test func safetensorsWriteRefusesNamesItCannotStore() throws {
    let url = try Self.temporaryFile("w.safetensors", Data())
    let t = Tensor([1, 2], dtype: .float32)
    #expect(
      Self.outcome {
        try SafeTensors.write([("a", t), ("a", t)], to: url)
        return "written"
      } == "\(url.path): expected distinct tensor names, found 'a' twice")
    #expect(
      Self.outcome {
        try SafeTensors.write([("__metadata__", t)], to: url)
        return "written"
      } == "\(url.path): expected tensor names other than '__metadata__', which the format reserves"
    )
    try SafeTensors.write([("b", t), ("a", Tensor([3], dtype: .float64))], to: url)
    #expect(
      Self.summary(try SafeTensors.read(url)) == "a f64 [1] [3.0]; b f32 [2] [1.0, 2.0]")
  }

  // MARK: - Protein files

  static func summary(_ set: ProteinSecondaryStructure) -> String {
    set.proteins.map { p in
      zip(p.residues, p.classes).map { "\($0)\(["h", "e", "_"][$1])" }.joined(separator: " ")
    }.joined(separator: " | ")
  }

  static let proteinCases: [Case] = [
    Case("two proteins", "<>\nA h\nC e\n<end>\n<>\nW _\n<end>\n", "0h 1e | 18_"),
    Case("end instead of <end>", "<>\nA h\nend\n<>\nC _\nend\n", "0h | 1_"),
    Case("missing end marker before <>", "<>\nA h\n<>\nC _\n<end>\n", "0h | 1_"),
    Case("missing end marker at the end of the file", "<>\nA h\nC _", "0h 1_"),
    Case("residues before any <>", "A h\nC _\n<end>\n", "0h 1_"),
    Case("empty proteins are dropped", "<>\n<end>\n<>\nA h\n<end>\n<>\n<end>\n", "0h"),
    Case("stray end markers", "<end>\n<>\nA h\n<end>\n<end>\n", "0h"),
    Case(
      "unknown residue letters become the spacer", "<>\nX _\nB h\nZ e\nU _\n<end>\n",
      "20_ 20h 20e 20_"),
    Case("lower-case residues", "<>\na _\nw h\n<end>\n", "0_ 18h"),
    Case("CRLF line endings", "<>\r\nA h\r\nC e\r\n<end>\r\n", "0h 1e"),
    Case("CR line endings", "<>\rA h\rC e\r<end>\r", "0h 1e"),
    Case(
      "an error after CRLF line endings names its line", "<>\r\nA h\r\nC\r\n<end>\r\n",
      "p:3: expected 'RESIDUE LABEL', '<>', '<end>' or 'end', found 'C'"),
    Case("byte-order mark", "\u{FEFF}<>\nA h\n<end>\n", "0h"),
    Case("tabs, spaces and comments", "# UCI\n\n<>\n  A\th  \n\tC   e\n<end>\n\n\n", "0h 1e"),
    Case(
      "a digit for a residue", "<>\n1 _\n<end>\n",
      "p:2: expected a one-letter residue code, found '1'"),
    Case(
      "a non-ASCII letter for a residue", "<>\nA h\nÉ _\n<end>\n",
      "p:3: expected a one-letter residue code, found 'É'"),
    Case(
      "a three-letter residue code", "<>\nALA h\n<end>\n",
      "p:2: expected 'RESIDUE LABEL', '<>', '<end>' or 'end', found 'ALA h'"),
    Case("an unknown label", "<>\nA H\n<end>\n", "p:2: expected label '_', 'h' or 'e', found 'H'"),
    Case(
      "a label missing", "<>\nA h\nC\n<end>\n",
      "p:3: expected 'RESIDUE LABEL', '<>', '<end>' or 'end', found 'C'"),
    Case(
      "three fields", "<>\nA h x\n",
      "p:2: expected 'RESIDUE LABEL', '<>', '<end>' or 'end', found 'A h x'"),
    Case(
      "a long line is shortened", "<>\n" + String(repeating: "A", count: 100) + " h\n",
      "p:2: expected 'RESIDUE LABEL', '<>', '<end>' or 'end', found '\(String(repeating: "A", count: 40))…'"
    ),
    Case(
      "invalid UTF-8", Data("<>\nA h\n".utf8) + Data([0xC0, 0x20, 0x68]),
      "p:3: byte 7: expected UTF-8 text, found the byte 0xC0"),
    Case(
      "a truncated multi-byte character", Data("<>\nA h\n".utf8) + Data([0xE2, 0x82]),
      "p:3: byte 7: expected UTF-8 text, found the byte 0xE2"),
    Case("empty file", "", "p: expected at least one protein, found none"),
    Case("only markers", "<>\n<end>\n", "p: expected at least one protein, found none"),
    Case("only comments", "# nothing\n", "p: expected at least one protein, found none"),
  ]

  @Test(arguments: proteinCases)
  func protein(_ c: Case) {
    #expect(
      Self.outcome { Self.summary(try ProteinSecondaryStructure(data: c.bytes, file: "p")) }
        == c.expected)
  }

  // MARK: - Files that are not there or not files

  @Test func missingFilesAndDirectoriesAreNamed() throws {
    let directory = try Self.temporaryFile("x", Data()).deletingLastPathComponent()
    let missing = directory.appendingPathComponent("absent.csv")
    #expect(Self.outcome { Self.summary(try CSV.read(missing)) } == "\(missing.path): no such file")
    #expect(
      Self.outcome { "\(try IDX.read(directory).shape)" }
        == "\(directory.path): expected a file, found a directory")
    #expect(
      Self.outcome { Self.summary(try SafeTensors.read(missing)) }
        == "\(missing.path): no such file")
    #expect(
      Self.outcome { Self.summary(try ProteinSecondaryStructure(contentsOf: directory)) }
        == "\(directory.path): expected a file, found a directory")
  }

  @Test func aNamedPipeIsRead() throws {
    let directory = try Self.temporaryFile("x", Data()).deletingLastPathComponent()
    let pipe = directory.appendingPathComponent("pipe.csv")
    #expect(mkfifo(pipe.path, 0o600) == 0)
    let writer = Thread {
      if let handle = FileHandle(forWritingAtPath: pipe.path) {
        handle.write(Data("a,b\n1,2\n".utf8))
        try? handle.close()
      }
    }
    writer.start()
    #expect(Self.outcome { Self.summary(try CSV.read(pipe)) } == #"["a", "b"] [[1.0, 2.0]]"#)
  }

  // MARK: - Mutated files

  /// A reader under test: it returns normally for a file it accepts, after checking what it
  /// read is consistent, or throws.
  enum Format: String, CaseIterable, Sendable {
    case csv, idx, safetensors, protein

    func read(_ data: Data) throws {
      switch self {
      case .csv:
        let table = try CSV.parse(data, file: "f")
        #expect(
          table.rows.allSatisfy { $0.count == table.header.count && $0.allSatisfy(\.isFinite) })
      case .idx:
        let t = try IDX.parse(data, file: "f")
        #expect(t.count == t.shape.reduce(1, *))
      case .safetensors:
        for t in try SafeTensors.parse(data, file: "f").values {
          #expect(t.count == t.shape.reduce(1, *))
        }
      case .protein:
        let set = try ProteinSecondaryStructure(data: data, file: "f")
        #expect(set.windows().count == set.residueCount)
      }
    }

    /// Valid files that exercise most of the format.
    func samples() throws -> [Data] {
      switch self {
      case .csv:
        return [Data("\u{FEFF}x,\"y, \"\"q\"\"\",label\r\n1.5,-2e3,0\r\n\"3\",4,1\n\n".utf8)]
      case .idx:
        return [
          HostileFilesTests.idx(0x08, [2, 3], [0, 1, 2, 3, 254, 255]),
          HostileFilesTests.idx(0x0D, [3], HostileFilesTests.f32([1, 2, 3]).reversed()),
        ]
      case .safetensors:
        let url = try HostileFilesTests.temporaryFile("s.safetensors", Data())
        try SafeTensors.write(
          [
            ("w", Tensor([[1, 2], [3, 4]], dtype: .float32)), ("b", Tensor([0.5], dtype: .float64)),
          ],
          to: url)
        return [try Data(contentsOf: url)]
      case .protein:
        return [Data("# sample\r\n<>\nA h\nC e\n<end>\n<>\nx _\nW h\nend\n<>\nG _".utf8)]
      }
    }
  }

  /// Bytes a mutation likes to write: delimiters and extremes of each format.
  static let interestingBytes: [UInt8] =
    Array(",\"\r\n{}[]:-.e9 <>_\\".utf8) + [0, 0x7F, 0x80, 0xC0, 0xFF]

  /// `data` with one random change: a flipped bit, an interesting or random byte written or
  /// inserted, a range deleted or repeated, or a run of 0xFF bytes written (a huge size).
  static func mutated(_ data: Data, using rng: inout SeededGenerator) -> Data {
    var bytes = [UInt8](data)
    let i = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
    let j = bytes.isEmpty ? 0 : Int.random(in: i..<min(bytes.count, i + 16), using: &rng)
    switch Int.random(in: 0..<7, using: &rng) {
    case 0 where !bytes.isEmpty: bytes[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
    case 1 where !bytes.isEmpty: bytes[i] = interestingBytes.randomElement(using: &rng)!
    case 2 where !bytes.isEmpty: bytes[i] = UInt8.random(in: 0...255, using: &rng)
    case 3: bytes.insert(interestingBytes.randomElement(using: &rng)!, at: i)
    case 4 where !bytes.isEmpty: bytes.removeSubrange(i...j)
    case 5 where !bytes.isEmpty: bytes.insert(contentsOf: bytes[i...j], at: j + 1)
    default:
      for k in i..<min(bytes.count, i + [1, 2, 4, 8].randomElement(using: &rng)!) {
        bytes[k] = 0xFF
      }
    }
    return Data(bytes)
  }

  /// Every reader, given every truncation of a valid file and hundreds of seeded mutations
  /// of it, either returns a consistent value or throws a `DataFileError`; a trap would end
  /// the test run.
  @Test(arguments: Format.allCases)
  func mutatedFilesAreReadOrRefused(_ format: Format) throws {
    var inputs: [Data] = []
    var rng = SeededGenerator(seed: 7)
    for sample in try format.samples() {
      try format.read(sample)
      inputs += (0..<sample.count).map { sample.prefix($0) }
      for _ in 0..<1500 {
        var data = sample
        for _ in 0..<Int.random(in: 1...3, using: &rng) { data = Self.mutated(data, using: &rng) }
        inputs.append(data)
      }
    }
    var refused = 0
    for data in inputs {
      do {
        try format.read(data)
      } catch is DataFileError {
        refused += 1
      } catch {
        Issue.record("\(format): \(error) for bytes \([UInt8](data))")
      }
    }
    // Most mutations break the file; some (a changed digit, say) leave it valid.
    #expect(refused > inputs.count / 4)
    #expect(refused < inputs.count)
  }

  static func temporaryFile(_ name: String, _ contents: Data) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "autodiff-hostile-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try contents.write(to: url)
    return url
  }
}
