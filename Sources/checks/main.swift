import Autodiff
import Foundation
import NeuralNetworks

// Checks that need a release binary, run by `.ci/release-checks`:
//
//   checks error NAME          stops with the library's message for a programming error
//   checks memory MODEL STEPS  trains MODEL (mlp, lstm or scalar) for STEPS steps and prints the
//                              resident memory after the first tenth and at the end
//   checks threads             runs every threaded path (matrix products split over
//                              threads, the LSTM sequence split by batch, tasks training
//                              side by side) and compares with one thread; built with the
//                              thread sanitizer by .ci/run
//
// The error scenarios stop the process; the script reads their messages from standard
// error. They show that the messages reach the user of an optimized build.

let arguments = Array(CommandLine.arguments.dropFirst())

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("checks: \(message)\n".utf8))
  exit(2)
}

/// Programming errors, each of which must stop the program with a message.
let errors: [String: () -> Void] = [
  "matmul": {
    _ = Var(Tensor.zeros([32, 784])).matmul(Var(Tensor.zeros([256, 10])))
  },
  "broadcast": { _ = Var(Tensor.zeros([3, 4])) + Var(Tensor.zeros([5])) },
  "backward-without-seed": { (Var(Tensor([1, 2, 3])) * 2).backward() },
  "shape-change": {
    var rng = SeededGenerator(seed: 1)
    let lstm = LSTM(inputSize: 3, hiddenSize: 4, using: &rng)
    let x = Var(Tensor.zeros([2, 5, 3], dtype: .float32))
    let y = lstm(x).sum()
    x.set(Tensor.zeros([2, 7, 3], dtype: .float32))
    y.evaluate()
  },
  "linear-input": {
    var rng = SeededGenerator(seed: 1)
    _ = Linear(inputSize: 4, outputSize: 2, using: &rng)(Var(Tensor.zeros([3, 5])))
  },
  "affine-product": {
    let x = Var(Tensor.zeros([3, 5]))
    _ = x.matmul(Var(Tensor.zeros([4, 2])), plus: Var(Tensor.zeros([2])))
  },
  "optimizer-gradient": {
    let w = Var(Tensor.zeros([2, 3]), name: "W")
    w.grad = Tensor.zeros([4])
    SGD(learningRate: 0.1).update([w])
  },
  "for-each-range": {
    ComputeSettings.forEachRange(of: -1) { _ in }
  },
]

/// The resident set size in bytes: the current one where the system reports it (Linux's
/// /proc), otherwise the peak so far.
func residentBytes() -> Int {
  if let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
    let fields = text.split(separator: " ")
    if fields.count > 1, let pages = Int(fields[1]) { return pages * Int(getpagesize()) }
  }
  var usage = rusage()
  #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
  #else
    getrusage(RUSAGE_SELF, &usage)
    return usage.ru_maxrss
  #endif
}

/// Trains a small model for `steps` steps; prints the memory after the first tenth of the
/// steps (when every buffer exists) and at the end.
func memory(model name: String, steps: Int) throws {
  var rng = SeededGenerator(seed: 1)
  if name == "scalar" { return scalarMemory(steps: steps, using: &rng) }
  let model: Module
  let data: Dataset
  switch name {
  case "mlp":
    model = MLP(sizes: [64, 128, 10], using: &rng)
    data = Dataset(
      inputs: Tensor.normal([64, 64], dtype: .float32, using: &rng),
      targets: Tensor((0..<64).map { Double($0 % 10) }, dtype: .float32))
  case "lstm":
    model = Sequential(
      LSTM(inputSize: 8, hiddenSize: 32, using: &rng), LastStep(),
      Linear(inputSize: 32, outputSize: 10, using: &rng))
    data = Dataset(
      inputs: Tensor.normal([32, 12, 8], dtype: .float32, using: &rng),
      targets: Tensor((0..<32).map { Double($0 % 10) }, dtype: .float32))
  default: fail("no model named \(name); models: mlp, lstm, scalar")
  }
  let trainer = Trainer(
    model: model, optimizer: Adam(learningRate: 1e-3),
    loss: { crossEntropy(logits: $0, labels: $1) })
  trainer.showsProgress = false
  var early = 0
  for step in 1...steps {
    try trainer.step(on: data)
    if step == steps / 10 { early = residentBytes() }
  }
  print("\(name): \(early) bytes after \(steps / 10) steps, \(residentBytes()) after \(steps)")
}

/// A micrograd-style network of scalar nodes (2 → 8 → 1 on 20 points) built once and
/// trained by hand with evaluate, backward and a plain update: the graph the compiled
/// replay runs from its arena.
func scalarMemory(steps: Int, using rng: inout SeededGenerator) {
  let hidden = (0..<8).map { _ in
    (
      (0..<2).map { _ in Var(Double.random(in: -1...1, using: &rng), dtype: .float64) },
      Var(0.0, dtype: .float64)
    )
  }
  let out = (0..<8).map { _ in Var(Double.random(in: -1...1, using: &rng), dtype: .float64) }
  let parameters = hidden.flatMap { $0.0 + [$0.1] } + out
  var loss: Var?
  for _ in 0..<20 {
    let x = (0..<2).map { _ in Double.random(in: -2...2, using: &rng) }
    let units = hidden.map { w, b in (w[0] * x[0] + w[1] * x[1] + b).tanh() }
    let y = zip(units, out).map { $0 * $1 }.reduce(Var(0.0, dtype: .float64), +)
    let error = (y - Foundation.sin(x[0] + x[1])).squared()
    loss = loss.map { $0 + error } ?? error
  }
  var early = 0
  for step in 1...steps {
    loss!.evaluate()
    for p in parameters { p.grad = nil }
    loss!.backward()
    for p in parameters {
      let g = p.grad![flat: 0]
      p.updateValue { $0[flat: 0] -= 0.001 * g }
    }
    if step == steps / 10 { early = residentBytes() }
  }
  print("scalar: \(early) bytes after \(steps / 10) steps, \(residentBytes()) after \(steps)")
}

/// Every path that runs on several threads, each compared with its one-thread result.
func threads() async throws {
  var rng = SeededGenerator(seed: 1)
  func same(_ a: [Tensor], _ b: [Tensor], _ what: String) {
    guard a == b else { fail("threads: \(what) differs between 1 and 2 threads") }
    print("threads: \(what): 2 threads agree with 1")
  }
  // Matrix products, forward and backward, split over two threads.
  for (m, k, n) in [(37, 19, 53), (64, 64, 64), (5, 300, 7)] {
    let a = Var(Tensor.normal([m, k], using: &rng))
    let b = Var(Tensor.normal([k, n], using: &rng))
    func run(_ count: Int) -> [Tensor] {
      ComputeSettings.withThreads(count, minimumWork: 0) {
        let y = a.matmul(b)
        a.zeroGradients()
        b.zeroGradients()
        (y * y).sum().backward()
        return [y.value, a.grad!, b.grad!]
      }
    }
    same(run(1), run(2), "matmul [\(m), \(k)] × [\(k), \(n)]")
  }
  // The fused LSTM sequence, its batch split over two threads (ranges of 18 rows: the
  // per-step products of a range and of the whole batch both run the blocked kernel, so
  // the results agree exactly).
  let lstm = LSTM(inputSize: 3, hiddenSize: 8, using: &rng)
  let x = Var(Tensor.normal([36, 5, 3], using: &rng))
  func sequence(_ count: Int) -> [Tensor] {
    ComputeSettings.withThreads(count, minimumWork: 0) {
      let y = lstm(x)
      lstm.zeroGradients()
      x.zeroGradients()
      y.sum().backward()
      return [y.value, x.grad!] + lstm.parameters.map { $0.grad! }
    }
  }
  same(sequence(1), sequence(2), "LSTM sequence")
  // Tasks training their own models side by side.
  let data = Dataset(
    inputs: Tensor.normal([64, 4], using: &rng),
    targets: Tensor((0..<64).map { Double($0 % 3) }))
  let losses = try await withThrowingTaskGroup(of: Double.self) { group in
    for seed: UInt64 in 1...4 {
      group.addTask {
        var rng = SeededGenerator(seed: seed)
        let trainer = Trainer(
          model: MLP(sizes: [4, 16, 3], using: &rng), optimizer: Adam(),
          loss: { crossEntropy(logits: $0, labels: $1) }, seed: seed)
        trainer.progress = .none
        return try trainer.fit(data, epochs: 3, batchSize: 16).epochs.last!.trainingLoss
      }
    }
    return try await group.reduce(into: [Double]()) { $0.append($1) }
  }
  guard losses.count == 4, losses.allSatisfy(\.isFinite) else { fail("threads: tasks failed") }
  print("threads: 4 tasks trained side by side")
}

switch arguments.first {
case "error":
  guard arguments.count == 2, let scenario = errors[arguments[1]] else {
    fail("usage: checks error NAME, with NAME one of \(errors.keys.sorted())")
  }
  scenario()
  fail("\(arguments[1]) did not stop the program")
case "memory":
  guard arguments.count == 3, let steps = Int(arguments[2]), steps >= 10 else {
    fail("usage: checks memory mlp|lstm|scalar STEPS (at least 10)")
  }
  do { try memory(model: arguments[1], steps: steps) } catch { fail("\(error)") }
case "threads":
  do { try await threads() } catch { fail("\(error)") }
default:
  fail("usage: checks error NAME | checks memory MODEL STEPS | checks threads")
}
