/// A JSON value read from a file, with the byte offset where it starts, so that a reader
/// can say where a value it refuses is written.
///
/// The parser is strict (RFC 8259): no comments, no trailing commas, no duplicate keys in an
/// object (JSON leaves their meaning open, and keeping one of them would lose the other),
/// nesting at most ``JSON/maximumDepth`` deep. Numbers keep their literal text, so that an
/// integer too large for `Int` is refused instead of rounded.
struct JSON {
  indirect enum Value {
    case object([(key: String, value: JSON)])
    case array([JSON])
    case string(String)
    case number(String)
    case boolean(Bool)
    case null
  }

  var value: Value
  /// The offset of the value's first byte in the file.
  var offset: Int

  /// How deeply arrays and objects may nest.
  static let maximumDepth = 64

  /// What the value is, for error messages: "an object", "the string 'F32'", "the number 3".
  var kind: String {
    switch value {
    case .object: return "an object"
    case .array: return "an array"
    case .string(let s): return "the string \(quoted(s))"
    case .number(let n): return "the number \(n)"
    case .boolean(let b): return "\(b)"
    case .null: return "null"
    }
  }

  /// The value as an `Int`, if it is a number written without a fraction or exponent that
  /// fits in one.
  var integer: Int? {
    guard case .number(let text) = value, !text.contains(where: { ".eE".contains($0) }) else {
      return nil
    }
    return Int(text)
  }

  /// Parses `bytes`, whose indices are offsets in `file`, as one JSON value surrounded by
  /// optional whitespace.
  static func parse(_ bytes: ArraySlice<UInt8>, file: String) throws -> JSON {
    var parser = Parser(bytes: bytes, file: file, position: bytes.startIndex)
    let value = try parser.value(depth: 0)
    parser.skipWhitespace()
    if parser.position < bytes.endIndex {
      throw parser.error("expected the end of the JSON text")
    }
    return value
  }

  struct Parser {
    let bytes: ArraySlice<UInt8>
    let file: String
    var position: Int

    func error(_ expected: String, at offset: Int? = nil) -> DataFileError {
      let at = offset ?? position
      let found: String
      if at >= bytes.endIndex {
        found = "the end of the JSON text"
      } else if bytes[at] >= 0x20 && bytes[at] < 0x7F {
        found = "'\(Character(Unicode.Scalar(bytes[at])))'"
      } else {
        found = "the byte 0x\(IDX.hex(bytes[at]))"
      }
      return DataFileError(file: file, byteOffset: at, "\(expected), found \(found)")
    }

    mutating func skipWhitespace() {
      while position < bytes.endIndex,
        [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position])
      {
        position += 1
      }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws {
      skipWhitespace()
      guard position < bytes.endIndex && bytes[position] == byte else { throw error(what) }
      position += 1
    }

    mutating func value(depth: Int) throws -> JSON {
      skipWhitespace()
      let start = position
      guard position < bytes.endIndex else { throw error("expected a JSON value") }
      switch bytes[position] {
      case UInt8(ascii: "{"):
        guard depth < JSON.maximumDepth else {
          throw error("expected JSON nested at most \(JSON.maximumDepth) deep")
        }
        position += 1
        var members: [(key: String, value: JSON)] = []
        var keys: Set<String> = []
        skipWhitespace()
        if position < bytes.endIndex && bytes[position] == UInt8(ascii: "}") {
          position += 1
          return JSON(value: .object(members), offset: start)
        }
        while true {
          skipWhitespace()
          let keyOffset = position
          guard position < bytes.endIndex && bytes[position] == UInt8(ascii: "\"") else {
            throw error("expected a string key")
          }
          let key = try string()
          guard keys.insert(key).inserted else {
            throw DataFileError(
              file: file, byteOffset: keyOffset,
              "expected each key once in a JSON object, found '\(key)' again")
          }
          try expect(UInt8(ascii: ":"), "expected ':' after a key")
          members.append((key, try value(depth: depth + 1)))
          skipWhitespace()
          guard position < bytes.endIndex else { throw error("expected ',' or '}'") }
          if bytes[position] == UInt8(ascii: ",") {
            position += 1
            continue
          }
          try expect(UInt8(ascii: "}"), "expected ',' or '}'")
          return JSON(value: .object(members), offset: start)
        }
      case UInt8(ascii: "["):
        guard depth < JSON.maximumDepth else {
          throw error("expected JSON nested at most \(JSON.maximumDepth) deep")
        }
        position += 1
        var elements: [JSON] = []
        skipWhitespace()
        if position < bytes.endIndex && bytes[position] == UInt8(ascii: "]") {
          position += 1
          return JSON(value: .array(elements), offset: start)
        }
        while true {
          elements.append(try value(depth: depth + 1))
          skipWhitespace()
          guard position < bytes.endIndex else { throw error("expected ',' or ']'") }
          if bytes[position] == UInt8(ascii: ",") {
            position += 1
            continue
          }
          try expect(UInt8(ascii: "]"), "expected ',' or ']'")
          return JSON(value: .array(elements), offset: start)
        }
      case UInt8(ascii: "\""):
        return JSON(value: .string(try string()), offset: start)
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return JSON(value: .number(try number()), offset: start)
      default:
        for (word, value) in [
          ("true", Value.boolean(true)), ("false", .boolean(false)), ("null", .null),
        ]
        where bytes[position...].starts(with: word.utf8) {
          position += word.utf8.count
          return JSON(value: value, offset: start)
        }
        throw error("expected a JSON value")
      }
    }

    /// A number literal: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    mutating func number() throws -> String {
      let start = position
      func digits(_ parser: inout Parser) -> Int {
        var n = 0
        while parser.position < parser.bytes.endIndex,
          (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.position])
        {
          parser.position += 1
          n += 1
        }
        return n
      }
      if bytes[position] == UInt8(ascii: "-") { position += 1 }
      let integerStart = position
      let integerDigits = digits(&self)
      guard integerDigits > 0 else { throw error("expected a digit") }
      if integerDigits > 1 && bytes[integerStart] == UInt8(ascii: "0") {
        throw error("expected no leading zeros in a number", at: integerStart)
      }
      if position < bytes.endIndex && bytes[position] == UInt8(ascii: ".") {
        position += 1
        guard digits(&self) > 0 else { throw error("expected a digit after '.'") }
      }
      if position < bytes.endIndex
        && (bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E"))
      {
        position += 1
        if position < bytes.endIndex
          && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-"))
        {
          position += 1
        }
        guard digits(&self) > 0 else { throw error("expected a digit in the exponent") }
      }
      return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// A string literal, starting at its opening quote.
    mutating func string() throws -> String {
      position += 1
      var result: [UInt8] = []
      while true {
        guard position < bytes.endIndex else { throw error("expected a closing '\"'") }
        let byte = bytes[position]
        switch byte {
        case UInt8(ascii: "\""):
          position += 1
          return String(decoding: result, as: UTF8.self)
        case UInt8(ascii: "\\"):
          position += 1
          guard position < bytes.endIndex else { throw error("expected an escaped character") }
          let escaped = bytes[position]
          position += 1
          switch escaped {
          case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): result.append(escaped)
          case UInt8(ascii: "b"): result.append(0x08)
          case UInt8(ascii: "f"): result.append(0x0C)
          case UInt8(ascii: "n"): result.append(0x0A)
          case UInt8(ascii: "r"): result.append(0x0D)
          case UInt8(ascii: "t"): result.append(0x09)
          case UInt8(ascii: "u"):
            var scalar = try hexQuad()
            if (0xD800..<0xDC00).contains(scalar) {
              guard bytes[position...].starts(with: "\\u".utf8) else {
                throw error("expected '\\u' and a low surrogate after a high surrogate")
              }
              position += 2
              let low = try hexQuad()
              guard (0xDC00..<0xE000).contains(low) else {
                throw error("expected a low surrogate", at: position - 4)
              }
              scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else {
              throw error("expected a Unicode scalar, not a lone surrogate", at: position - 4)
            }
            result.append(contentsOf: Array(String(Character(unicode)).utf8))
          default:
            throw error("expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u", at: position - 1)
          }
        case 0..<0x20:
          throw error("expected a control character in a string to be escaped")
        default:
          result.append(byte)
          position += 1
        }
      }
    }

    /// Four hexadecimal digits.
    mutating func hexQuad() throws -> UInt32 {
      var value: UInt32 = 0
      for _ in 0..<4 {
        guard position < bytes.endIndex,
          let digit = Character(Unicode.Scalar(bytes[position])).hexDigitValue
        else { throw error("expected four hexadecimal digits after '\\u'") }
        value = value << 4 | UInt32(digit)
        position += 1
      }
      return value
    }
  }
}
