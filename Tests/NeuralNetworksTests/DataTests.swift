import Autodiff
import Foundation
import NeuralNetworks
import Testing

@Suite("Data files")
struct DataTests {
  func temporaryFile(_ name: String, _ contents: Data) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "autodiff-tests-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try contents.write(to: url)
    return url
  }

  func error(_ body: () throws -> Void) -> DataFileError? {
    do {
      try body()
      return nil
    } catch let e as DataFileError {
      return e
    } catch {
      return nil
    }
  }

  @Test func csvReadsAndNamesBadLines() throws {
    let table = try CSV.parse("a,b,label\n1,2,0\n3.5,-4,1\n")
    #expect(table.header == ["a", "b", "label"])
    #expect(table.rows == [[1, 2, 0], [3.5, -4, 1]])
    let short = error { _ = try CSV.parse("a,b\n1,2\n3\n", file: "t.csv") }
    #expect(short?.description == "t.csv:3: expected 2 fields, found 1")
    let text = error { _ = try CSV.parse("a,b\n1,x\n", file: "t.csv") }
    #expect(text?.description == "t.csv:2: expected a finite number in column 2 (b), found 'x'")
    let empty = error { _ = try CSV.parse("a,b\n", file: "t.csv") }
    #expect(empty?.message == "expected at least one data row, found none")
  }

  @Test func csvDatasetAndMissingFile() throws {
    let url = try temporaryFile("d.csv", Data("x,y,label\n1,2,0\n3,4,1\n".utf8))
    let data = try CSV.dataset(url, labelColumn: "label")
    #expect(data.inputs.rowScalars == [[1, 2], [3, 4]])
    #expect(data.targets.labels == [0, 1])
    let wrong = error { _ = try CSV.dataset(url, labelColumn: "class") }
    #expect(wrong?.line == 1)
    let missing = error { _ = try CSV.read(URL(fileURLWithPath: "/nonexistent/file.csv")) }
    #expect(missing?.description == "/nonexistent/file.csv: no such file")
  }

  func idx(_ type: UInt8, _ dims: [Int], _ payload: [UInt8]) -> Data {
    var bytes: [UInt8] = [0, 0, type, UInt8(dims.count)]
    for d in dims {
      bytes += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)]
    }
    return Data(bytes + payload)
  }

  @Test func idxReadsAndRejectsTruncatedFiles() throws {
    let t = try IDX.parse(idx(8, [2, 3], [0, 1, 2, 3, 4, 255]), file: "x", dtype: .float64)
    #expect(t.shape == [2, 3])
    #expect(t.scalars == [0, 1, 2, 3, 4, 255])
    let truncated = error { _ = try IDX.parse(idx(8, [2, 3], [0, 1, 2]), file: "images") }
    #expect(
      truncated?.description
        == "images: byte 12: expected 6 bytes of unsigned byte data for shape [2, 3], found 3")
    let wrongType = error { _ = try IDX.parse(idx(0x0A, [1], [0, 0, 0, 0]), file: "f") }
    #expect(wrongType?.byteOffset == 2)
    let tiny = error { _ = try IDX.parse(Data([0, 0]), file: "f") }
    #expect(tiny?.byteOffset == 0)
    let images = try temporaryFile("i", idx(8, [2, 2, 2], [0, 255, 0, 255, 255, 0, 255, 0]))
    let labels = try temporaryFile("l", idx(8, [2], [3, 7]))
    let data = try IDX.dataset(images: images, labels: labels)
    #expect(data.inputs.shape == [2, 4])
    #expect(data.inputs[0, 1] == 1)
    #expect(data.targets.labels == [3, 7])
  }

  @Test func proteinFormatIsReadLeniently() throws {
    let text = """
      # a comment
      <>
      A _
      C h
      W e
      <end>
      <>
      G h
      X _
      <>
      M e
      end
      """
    let set = try ProteinSecondaryStructure(text: text)
    #expect(set.proteins.count == 3)  // the missing end marker before the third is forgiven
    #expect(set.proteins[0].classes == [2, 0, 1])
    #expect(set.proteins[1].residues[1] == ProteinSecondaryStructure.spacer)  // unknown letter
    let windows = set.windows(size: 13)
    #expect(windows.inputs.shape == [6, 13 * 21])
    // The first residue's window: six spacers, A, C, W, then spacers.
    let first = windows.inputs.gatheringRows([0]).scalars
    let symbols = (0..<13).map { slot in (0..<21).first { first[slot * 21 + $0] == 1 }! }
    #expect(symbols == [20, 20, 20, 20, 20, 20, 0, 1, 18, 20, 20, 20, 20])
    #expect(windows.targets.labels == [2, 0, 1, 0, 2, 1])
  }

  @Test func proteinFormatErrorsNameTheLine() {
    let badLabel = error {
      _ = try ProteinSecondaryStructure(text: "<>\nA _\nC x\n", file: "p.train")
    }
    #expect(badLabel?.description == "p.train:3: expected label '_', 'h' or 'e', found 'x'")
    let badLine = error { _ = try ProteinSecondaryStructure(text: "<>\nA _ extra\n", file: "p") }
    #expect(badLine?.line == 2)
    let empty = error { _ = try ProteinSecondaryStructure(text: "# nothing\n", file: "p") }
    #expect(empty != nil)
  }

  @Test func embeddedDatasets() throws {
    let iris = try Datasets.iris()
    #expect(iris.inputs.shape == [150, 4])
    #expect(Set(iris.targets.labels) == [0, 1, 2])
    let digits = try Datasets.digits()
    #expect(digits.inputs.shape == [1797, 64])
    #expect(Set(digits.targets.labels) == Set(0...9))
    #expect(digits.inputs.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    #expect(Datasets.xor().count == 4)
  }

  @Test func safetensorsRoundTripAndMismatch() throws {
    var rng = SeededGenerator(seed: 1)
    let mlp = MLP(sizes: [3, 4, 2], using: &rng)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent("mlp.safetensors")
    try mlp.save(to: url)
    let copy = MLP(sizes: [3, 4, 2], using: &rng)
    try copy.load(from: url)
    for (a, b) in zip(mlp.parameters, copy.parameters) { #expect(a.value == b.value) }
    #expect(mlp.namedParameters.map(\.name) == ["0.W", "0.b", "2.W", "2.b"])

    let other = MLP(sizes: [3, 5, 2], using: &rng)
    let before = other.parameters.map(\.value)
    let mismatch = error { try other.load(from: url) }
    #expect(mismatch?.message == "tensor '0.W': expected shape [3, 5] (f32), found [3, 4] (f32)")
    #expect(other.parameters.map(\.value) == before)

    let corrupt = try temporaryFile("bad.safetensors", Data([200, 0, 0, 0, 0, 0, 0, 0, 123]))
    #expect(error { try copy.load(from: corrupt) }?.byteOffset == 0)
  }
}
