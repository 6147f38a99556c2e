import Autodiff

/// The characters of a text as symbols 0..<count, in sorted order.
///
/// ```swift
/// let vocabulary = CharacterVocabulary("hello")
/// print(vocabulary.symbols)              // ["e", "h", "l", "o"]
/// print(try vocabulary.encode("hole"))   // [1, 3, 2, 0]
/// print(vocabulary.decode([1, 0, 2, 2])) // hell
/// ```
public struct CharacterVocabulary: Sendable {
  /// The distinct characters, sorted; a character's symbol is its position here.
  public let symbols: [Character]
  private let positions: [Character: Int]

  /// The vocabulary of the characters that occur in `text`.
  public init(_ text: String) {
    symbols = Set(text).sorted()
    positions = Dictionary(uniqueKeysWithValues: symbols.enumerated().map { ($1, $0) })
  }

  /// The number of symbols.
  public var count: Int { symbols.count }

  /// The symbol of each character of `text`.
  ///
  /// - Throws: ``UnknownCharacter`` for the first character that is not in the vocabulary.
  public func encode(_ text: String) throws -> [Int] {
    var result: [Int] = []
    result.reserveCapacity(text.count)
    for (offset, character) in text.enumerated() {
      guard let symbol = positions[character] else {
        throw UnknownCharacter(character: character, offset: offset)
      }
      result.append(symbol)
    }
    return result
  }

  /// A character outside the vocabulary, at its offset in the text being encoded.
  public struct UnknownCharacter: Error, CustomStringConvertible {
    public var character: Character
    public var offset: Int
    public var description: String {
      "character \(character.debugDescription) at offset \(offset) is not in the vocabulary"
    }
  }

  /// The text of a sequence of symbols.
  public func decode(_ symbols: [Int]) -> String {
    String(
      symbols.map { symbol in
        require(
          symbol >= 0 && symbol < count,
          "CharacterVocabulary: symbol \(symbol) is not in 0..<\(count)")
        return self.symbols[symbol]
      })
  }
}

extension Dataset {
  /// Next-symbol prediction on a sequence of symbols, cut into consecutive, non-overlapping
  /// windows of `length`: row i of the inputs holds symbols `s[i·length ..< (i+1)·length]`
  /// and the same row of the targets the symbols one position later. Both are `[windows,
  /// length]`, symbols stored as numbers (an ``Embedding`` reads them as indices).
  public static func nextSymbol(_ symbols: [Int], length: Int, dtype: DType = .default) -> Dataset {
    require(length > 0, "Dataset.nextSymbol: window length \(length) must be positive")
    let windows = Swift.max(0, (symbols.count - 1) / length)
    require(
      windows > 0, "Dataset.nextSymbol: \(symbols.count) symbols make no window of \(length) + 1")
    var inputs = [Double](repeating: 0, count: windows * length)
    var targets = inputs
    for i in 0..<(windows * length) {
      inputs[i] = Double(symbols[i])
      targets[i] = Double(symbols[i + 1])
    }
    return Dataset(
      inputs: Tensor(inputs, shape: [windows, length], dtype: dtype),
      targets: Tensor(targets, shape: [windows, length], dtype: dtype))
  }
}
