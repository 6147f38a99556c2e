import Autodiff
import Foundation

/// Small datasets shipped with the package (sources and licences in `docs/data.md`).
public enum Datasets {
  /// The four XOR points with targets [n, 1].
  public static func xor(dtype: DType = .default) -> Dataset {
    Dataset(
      inputs: Tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype: dtype),
      targets: Tensor([[0], [1], [1], [0]], dtype: dtype))
  }

  /// Fisher's iris data: 150 flowers, 4 measurements in cm, 3 species (labels 0, 1, 2:
  /// setosa, versicolor, virginica).
  public static func iris(dtype: DType = .default) throws -> Dataset {
    try CSV.dataset(resource("iris"), labelColumn: "species", dtype: dtype)
  }

  /// The UCI optical recognition of handwritten digits: 1797 images of 8×8 pixels with
  /// values 0…16 as rows of 64 (scaled to [0, 1] here), labels 0…9.
  public static func digits(dtype: DType = .default) throws -> Dataset {
    var data = try CSV.dataset(resource("digits"), labelColumn: "digit", dtype: dtype)
    for i in 0..<data.inputs.count { data.inputs[flat: i] /= 16 }
    return data
  }

  /// The tiny-shakespeare corpus: 1,115,394 characters (65 distinct) of Shakespeare's plays,
  /// the customary small benchmark of character-level language models.
  public static func tinyShakespeare() throws -> String {
    let url = try resource("tiny-shakespeare", extension: "txt")
    guard let text = try? String(contentsOf: url, encoding: .utf8) else {
      throw DataFileError(file: url.lastPathComponent, "expected UTF-8 text")
    }
    return text
  }

  /// The training file of the UCI protein secondary-structure data of Qian and Sejnowski
  /// (1988): 111 globular proteins, 18,105 residues, each labelled helix, strand or coil.
  /// The matching test file is not shipped: it is the held-out check that no choice may see.
  public static func proteinSecondaryStructureTraining() throws -> ProteinSecondaryStructure {
    try ProteinSecondaryStructure(
      contentsOf: resource("protein-secondary-structure", extension: "train"))
  }

  static func resource(_ name: String, extension type: String = "csv") throws -> URL {
    guard let url = Bundle.module.url(forResource: name, withExtension: type) else {
      throw DataFileError(
        file: "\(name).\(type)", "expected the file among the package's resources")
    }
    return url
  }
}
