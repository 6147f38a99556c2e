import Autodiff
import Foundation
import NeuralNetworks
import Testing

@Suite("Character language model")
struct CharacterLanguageModelTests {
  @Test func vocabularyEncodesAndDecodes() throws {
    let vocabulary = CharacterVocabulary("hello")
    #expect(vocabulary.symbols == ["e", "h", "l", "o"])
    #expect(try vocabulary.encode("hole") == [1, 3, 2, 0])
    #expect(vocabulary.decode([1, 0, 2, 2]) == "hell")
    #expect(throws: CharacterVocabulary.UnknownCharacter.self) { try vocabulary.encode("help") }
  }

  @Test func nextSymbolWindows() {
    let data = Dataset.nextSymbol([0, 1, 2, 3, 4, 5, 6], length: 3)
    #expect(data.inputs.rowScalars == [[0, 1, 2], [3, 4, 5]])
    #expect(data.targets.rowScalars == [[1, 2, 3], [4, 5, 6]])
  }

  /// Sampling carries the LSTM's state from symbol to symbol: with a temperature near 0 it
  /// picks what running the model over the whole text so far would pick.
  @Test func samplingCarriesTheStateLikeAFullRun() {
    var rng = SeededGenerator(seed: 1)
    let model = CharacterLanguageModel(
      vocabularySize: 5, embeddingSize: 3, hiddenSize: 6, dtype: .float64, using: &rng)
    for p in model.parameters {
      p.updateValue { $0 = Tensor.normal($0.shape, dtype: .float64, using: &rng) }
    }
    var sampler = SeededGenerator(seed: 2)
    let prompt = [1, 3]
    let sampled = model.sample(after: prompt, count: 6, temperature: 1e-6, using: &sampler)
    var text = prompt
    for _ in 0..<6 {
      let logits = noGrad {
        model(Var.constant(Tensor(text.map(Double.init), shape: [1, text.count]))).value
      }
      let last = Array(logits.scalars.suffix(5))
      text.append(last.indices.max { last[$0] < last[$1] }!)
    }
    #expect(sampled == Array(text.dropFirst(2)))
  }

  @Test func seededModelLearnsAPeriodicText() throws {
    var rng = SeededGenerator(seed: 3)
    let vocabulary = CharacterVocabulary("abcd")
    let symbols = try vocabulary.encode(String(repeating: "abcd", count: 200))
    let model = CharacterLanguageModel(
      vocabularySize: 4, embeddingSize: 4, hiddenSize: 16, using: &rng)
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 0.02),
      loss: { crossEntropy(logits: $0, labels: $1) }, seed: 3)
    trainer.showsProgress = false
    try trainer.fit(Dataset.nextSymbol(symbols, length: 20), epochs: 30, batchSize: 8)
    var sampler = SeededGenerator(seed: 4)
    let sample = model.sample(
      after: try vocabulary.encode("ab"), count: 10, temperature: 0.5, using: &sampler)
    #expect(vocabulary.decode(sample) == "cdabcdabcd")
  }

  @Test func saveAndLoadGiveIdenticalSamples() throws {
    var rng = SeededGenerator(seed: 5)
    let a = CharacterLanguageModel(vocabularySize: 6, embeddingSize: 3, hiddenSize: 5, using: &rng)
    let b = CharacterLanguageModel(vocabularySize: 6, embeddingSize: 3, hiddenSize: 5, using: &rng)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lm-\(UUID()).st")
    defer { try? FileManager.default.removeItem(at: url) }
    try a.save(to: url)
    try b.load(from: url)
    var (r1, r2) = (SeededGenerator(seed: 6), SeededGenerator(seed: 6))
    #expect(
      a.sample(after: [1, 2], count: 20, using: &r1)
        == b.sample(after: [1, 2], count: 20, using: &r2))
  }
}
