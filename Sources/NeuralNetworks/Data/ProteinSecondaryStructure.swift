import Autodiff
import Foundation

/// Protein secondary-structure data in the UCI format used by Qian and Sejnowski, and the
/// window encoding of their network.
///
/// A file lists proteins one residue per line, `RESIDUE LABEL`, with labels `_` (coil),
/// `h` (α-helix) and `e` (β-strand). `<>` starts a protein and `<end>` or `end` ends it;
/// reading is lenient where an end marker is missing (a new `<>` or the end of the file
/// ends the protein), as the UCI training file leaves it out before 20 of its 111 proteins.
/// Blank lines and lines starting with `#` are skipped; lines may end with LF, CRLF or CR.
///
/// A residue is one ASCII letter, either case. The 20 standard amino acids are symbols
/// 0…19; any other letter (`X` for unknown, `B`, `Z`, `U`, …) is read as the spacer, the
/// symbol that also stands for positions beyond either end of the chain. Anything else is
/// refused with the line.
public struct ProteinSecondaryStructure: Sendable {
  /// The 20 amino acids; index 20 is the spacer for positions past either end of a chain.
  public static let aminoAcids = Array("ACDEFGHIKLMNPQRSTVWY")
  public static let spacer = 20
  /// Class indices: 0 helix, 1 strand, 2 coil (the course's [1,0,0], [0,1,0], [0,0,1]).
  public static let classNames = ["helix", "strand", "coil"]

  /// One chain: residue indices (0..<20, or the spacer for an unknown letter) and classes.
  public struct Protein: Equatable, Sendable {
    public var residues: [Int]
    public var classes: [Int]

    /// A chain from its residues (0…20) and classes (0…2), one of each per position.
    public init(residues: [Int], classes: [Int]) {
      require(
        residues.count == classes.count,
        "Protein: \(residues.count) residues but \(classes.count) classes")
      require(
        residues.allSatisfy { (0...ProteinSecondaryStructure.spacer).contains($0) },
        "Protein: residues must be in 0...\(ProteinSecondaryStructure.spacer)")
      require(classes.allSatisfy { (0..<3).contains($0) }, "Protein: classes must be in 0..<3")
      self.residues = residues
      self.classes = classes
    }
  }

  public var proteins: [Protein]

  public init(proteins: [Protein]) { self.proteins = proteins }

  /// Reads a file, throwing an error that names the line of anything malformed.
  public init(contentsOf url: URL) throws {
    try self.init(data: readFile(url), file: url.lastPathComponent)
  }

  /// Parses text in the same format.
  public init(text: String, file: String = "<text>") throws {
    try self.init(data: Data(text.utf8), file: file)
  }

  /// Parses the bytes of a file in this format (UTF-8 text).
  public init(data: Data, file: String) throws {
    let lines = try textLines(data, file: file)
    var proteins: [Protein] = []
    var residues: [Int] = []
    var classes: [Int] = []
    func close() {
      if !residues.isEmpty { proteins.append(Protein(residues: residues, classes: classes)) }
      residues = []
      classes = []
    }
    for (index, raw) in lines.enumerated() {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.isEmpty || line.hasPrefix("#") { continue }
      if line == "<>" || line == "<end>" || line == "end" {
        close()
        continue
      }
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard fields.count == 2, fields[0].count == 1 else {
        throw DataFileError(
          file: file, line: index + 1,
          "expected 'RESIDUE LABEL', '<>', '<end>' or 'end', found \(quoted(line))")
      }
      let letter = fields[0].first!
      guard letter.isASCII && letter.isLetter else {
        throw DataFileError(
          file: file, line: index + 1,
          "expected a one-letter residue code, found \(quoted(fields[0]))")
      }
      let classIndex: Int
      switch fields[1] {
      case "h": classIndex = 0
      case "e": classIndex = 1
      case "_": classIndex = 2
      default:
        throw DataFileError(
          file: file, line: index + 1,
          "expected label '_', 'h' or 'e', found \(quoted(fields[1]))")
      }
      residues.append(Self.aminoAcids.firstIndex(of: Character(letter.uppercased())) ?? Self.spacer)
      classes.append(classIndex)
    }
    close()
    if proteins.isEmpty {
      throw DataFileError(file: file, "expected at least one protein, found none")
    }
    self.proteins = proteins
  }

  /// The file names of the UCI data set.
  public static let trainingFileName = "protein-secondary-structure.train"
  public static let testFileName = "protein-secondary-structure.test"

  /// Reads the UCI training and test files from a directory laid out as the UCI repository
  /// distributes them: `protein-secondary-structure.train` and `.test` side by side.
  public static func readUCIFiles(in directory: URL) throws -> (
    training: ProteinSecondaryStructure, test: ProteinSecondaryStructure
  ) {
    (
      try ProteinSecondaryStructure(contentsOf: directory.appendingPathComponent(trainingFileName)),
      try ProteinSecondaryStructure(contentsOf: directory.appendingPathComponent(testFileName))
    )
  }

  /// The proteins in the format ``init(text:file:)`` reads: `<>`, one `RESIDUE LABEL` line
  /// per residue, `<end>`. The spacer is written as `X`, which reads back as the spacer.
  public var text: String {
    var lines: [String] = []
    for protein in proteins {
      lines.append("<>")
      for (residue, label) in zip(protein.residues, protein.classes) {
        let letter = residue == Self.spacer ? "X" : String(Self.aminoAcids[residue])
        lines.append("\(letter) \(["h", "e", "_"][label])")
      }
      lines.append("<end>")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The number of residues in all proteins.
  public var residueCount: Int { proteins.reduce(0) { $0 + $1.residues.count } }

  /// Splits the proteins, whole, into two sets at random: `count` proteins drawn without
  /// replacement form the second set, the rest the first, each in file order.
  ///
  /// Splitting by protein rather than by residue keeps the windows of one chain, which
  /// overlap in 12 of their 13 residues, on one side: a residue-level split would let the
  /// second set be predicted from near-copies of its own windows.
  public func split(holdingOut count: Int, using generator: inout some RandomNumberGenerator)
    -> (kept: ProteinSecondaryStructure, heldOut: ProteinSecondaryStructure)
  {
    require(
      count >= 0 && count <= proteins.count,
      "split: cannot hold out \(count) of \(proteins.count) proteins")
    let heldOut = Set(Array(proteins.indices).shuffled(using: &generator).prefix(count))
    return (
      ProteinSecondaryStructure(
        proteins: proteins.indices.filter { !heldOut.contains($0) }.map { proteins[$0] }),
      ProteinSecondaryStructure(
        proteins: proteins.indices.filter { heldOut.contains($0) }.map { proteins[$0] })
    )
  }

  /// The Qian–Sejnowski encoding: one sample per residue, a window of `window` residues
  /// centred on it, each one-hot over 21 symbols (the spacer beyond either end), predicting
  /// the centre residue's class.
  public func windows(size window: Int = 13, dtype: DType = .default) -> Dataset {
    require(window > 0 && window % 2 == 1, "windows: size \(window) must be odd and positive")
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
