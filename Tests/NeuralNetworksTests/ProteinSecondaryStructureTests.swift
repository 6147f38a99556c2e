import Autodiff
import Foundation
import NeuralNetworks
import Testing

@Suite("Protein secondary structure")
struct ProteinSecondaryStructureTests {
  @Test func shippedTrainingFileIsTheUCIOne() throws {
    let set = try Datasets.proteinSecondaryStructureTraining()
    #expect(set.proteins.count == 111)
    #expect(set.residueCount == 18_105)
    let classes = set.proteins.flatMap(\.classes)
    #expect((0..<3).map { c in classes.filter { $0 == c }.count } == [4601, 3636, 9868])
    // Every residue in the file is one of the 20 standard amino acids.
    #expect(!set.proteins.flatMap(\.residues).contains(ProteinSecondaryStructure.spacer))
    let windows = set.windows()
    #expect(windows.inputs.shape == [18_105, 273])
    // One symbol per slot of a window.
    #expect(windows.inputs.gatheringRows([0, 9000, 18_104]).scalars.reduce(0, +) == 3 * 13)
    #expect(windows.targets.labels == classes)
  }

  @Test func textReadsBackAsTheSameProteins() throws {
    let set = try Datasets.proteinSecondaryStructureTraining()
    #expect(try ProteinSecondaryStructure(text: set.text).proteins == set.proteins)
    let spacer = ProteinSecondaryStructure(
      proteins: [.init(residues: [20, 0], classes: [2, 0])])
    #expect(spacer.text == "<>\nX _\nA h\n<end>\n")
    #expect(try ProteinSecondaryStructure(text: spacer.text).proteins == spacer.proteins)
  }

  @Test func splitHoldsOutWholeProteins() throws {
    let set = try Datasets.proteinSecondaryStructureTraining()
    var rng = SeededGenerator(seed: 1)
    let (kept, heldOut) = set.split(holdingOut: 22, using: &rng)
    #expect(kept.proteins.count == 89)
    #expect(heldOut.proteins.count == 22)
    #expect(kept.residueCount + heldOut.residueCount == set.residueCount)
    // Each protein of the file lands on exactly one side, whole.
    let sides = (kept.proteins + heldOut.proteins).map(\.residues).sorted {
      $0.lexicographicallyPrecedes($1)
    }
    #expect(sides == set.proteins.map(\.residues).sorted { $0.lexicographicallyPrecedes($1) })
    // Both sides keep the file's order.
    let position = { (p: ProteinSecondaryStructure.Protein) in set.proteins.firstIndex(of: p)! }
    #expect(kept.proteins.map(position) == kept.proteins.map(position).sorted())
    #expect(heldOut.proteins.map(position) == heldOut.proteins.map(position).sorted())
    // The same seed gives the same split, another seed another one.
    var same = SeededGenerator(seed: 1)
    #expect(set.split(holdingOut: 22, using: &same).heldOut.proteins == heldOut.proteins)
    var other = SeededGenerator(seed: 2)
    #expect(set.split(holdingOut: 22, using: &other).heldOut.proteins != heldOut.proteins)
  }

  @Test func uciFilesAreReadFromADirectory() throws {
    let set = try Datasets.proteinSecondaryStructureTraining()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "autodiff-uci-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let training = ProteinSecondaryStructure(proteins: Array(set.proteins[..<10]))
    let test = ProteinSecondaryStructure(proteins: Array(set.proteins[10..<13]))
    try Data(training.text.utf8).write(
      to: directory.appendingPathComponent(ProteinSecondaryStructure.trainingFileName))

    let testURL = directory.appendingPathComponent(ProteinSecondaryStructure.testFileName)
    do {
      _ = try ProteinSecondaryStructure.readUCIFiles(in: directory)
      Issue.record("expected the missing test file to be reported")
    } catch let error as DataFileError {
      #expect(error.description == "\(testURL.path): no such file")
    }

    // The test file as the UCI repository writes it: `end` markers, CRLF line endings.
    let crlf = test.text.replacingOccurrences(of: "<end>", with: "end")
      .replacingOccurrences(of: "\n", with: "\r\n")
    try Data(crlf.utf8).write(to: testURL)
    let files = try ProteinSecondaryStructure.readUCIFiles(in: directory)
    #expect(files.training.proteins == training.proteins)
    #expect(files.test.proteins == test.proteins)
  }
}
