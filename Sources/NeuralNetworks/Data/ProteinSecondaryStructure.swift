import Autodiff
import Foundation

/// Protein secondary-structure data in the UCI format used by Qian and Sejnowski, and the
/// window encoding of their network.
///
/// A file lists proteins one residue per line, `RESIDUE LABEL`, with labels `_` (coil),
/// `h` (α-helix) and `e` (β-strand). `<>` starts a protein and `<end>` or `end` ends it;
/// reading is lenient where an end marker is missing (a new `<>` or the end of the file
/// ends the protein). Blank lines and lines starting with `#` are skipped.
public struct ProteinSecondaryStructure {
  /// The 20 amino acids; index 20 is the spacer for positions past either end of a chain.
  public static let aminoAcids = Array("ACDEFGHIKLMNPQRSTVWY")
  public static let spacer = 20
  /// Class indices: 0 helix, 1 strand, 2 coil (the course's [1,0,0], [0,1,0], [0,0,1]).
  public static let classNames = ["helix", "strand", "coil"]

  /// One chain: residue indices (0..<20, or the spacer for an unknown letter) and classes.
  public struct Protein: Equatable {
    public var residues: [Int]
    public var classes: [Int]

    public init(residues: [Int], classes: [Int]) {
      require(
        residues.count == classes.count,
        "Protein: \(residues.count) residues but \(classes.count) classes")
      self.residues = residues
      self.classes = classes
    }
  }

  public var proteins: [Protein]

  public init(proteins: [Protein]) { self.proteins = proteins }

  /// Reads a file, throwing an error that names the line of anything malformed.
  public init(contentsOf url: URL) throws {
    try self.init(lines: readLines(url), file: url.lastPathComponent)
  }

  /// Parses text in the same format.
  public init(text: String, file: String = "<text>") throws {
    try self.init(lines: text.split(separator: "\n", omittingEmptySubsequences: false), file: file)
  }

  init(lines: [Substring], file: String) throws {
    var proteins: [Protein] = []
    var current: Protein?
    for (index, raw) in lines.enumerated() {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.isEmpty || line.hasPrefix("#") { continue }
      if line == "<>" {
        if let current, !current.residues.isEmpty { proteins.append(current) }
        current = Protein(residues: [], classes: [])
        continue
      }
      if line == "<end>" || line == "end" {
        if let current, !current.residues.isEmpty { proteins.append(current) }
        current = nil
        continue
      }
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard fields.count == 2, fields[0].count == 1 else {
        throw DataFileError(
          file: file, line: index + 1,
          "expected 'RESIDUE LABEL', '<>', '<end>' or 'end', found '\(line)'")
      }
      let letter = Character(fields[0].uppercased())
      guard letter.isLetter else {
        throw DataFileError(
          file: file, line: index + 1, "expected a one-letter residue code, found '\(fields[0])'")
      }
      let classIndex: Int
      switch fields[1] {
      case "h": classIndex = 0
      case "e": classIndex = 1
      case "_": classIndex = 2
      default:
        throw DataFileError(
          file: file, line: index + 1, "expected label '_', 'h' or 'e', found '\(fields[1])'")
      }
      if current == nil { current = Protein(residues: [], classes: []) }
      current!.residues.append(Self.aminoAcids.firstIndex(of: letter) ?? Self.spacer)
      current!.classes.append(classIndex)
    }
    if let current, !current.residues.isEmpty { proteins.append(current) }
    if proteins.isEmpty {
      throw DataFileError(file: file, "expected at least one protein, found none")
    }
    self.proteins = proteins
  }

  /// The Qian–Sejnowski encoding: one sample per residue, a window of `window` residues
  /// centred on it, each one-hot over 21 symbols (the spacer beyond either end), predicting
  /// the centre residue's class.
  public func windows(size window: Int = 13, dtype: DType = .float32) -> Dataset {
    require(window % 2 == 1, "windows: size \(window) must be odd")
    let half = window / 2
    let symbols = Self.aminoAcids.count + 1
    let n = proteins.reduce(0) { $0 + $1.residues.count }
    var inputs = [Double](repeating: 0, count: n * window * symbols)
    var targets: [Double] = []
    var row = 0
    for protein in proteins {
      for centre in protein.residues.indices {
        for offset in -half...half {
          let position = centre + offset
          let symbol =
            position >= 0 && position < protein.residues.count
            ? protein.residues[position] : Self.spacer
          inputs[(row * window + offset + half) * symbols + symbol] = 1
        }
        targets.append(Double(protein.classes[centre]))
        row += 1
      }
    }
    return Dataset(
      inputs: Tensor(inputs, shape: [n, window * symbols], dtype: dtype),
      targets: Tensor(targets, dtype: dtype))
  }
}
