import Autodiff
import Foundation
import NeuralNetworks

/// The benchmark workloads described in `docs/benchmarks.md`, each printing JSON lines.
///
///     swift run -c release benchmarks [WORKLOAD …] [--threads N] [--quick]
///         [--batch N] [--sequence N] [--size N]
@main
enum Benchmarks {
  static let workloads: [(name: String, run: @Sendable (Options) throws -> Void)] = [
    ("gemm", gemm), ("mlp-mnist", mlpMNIST), ("mlp-qs", mlpQS), ("lstm", lstm),
    ("scalar-mlp", scalarMLP), ("hopfield", hopfield), ("autoencoder", autoencoder),
    ("charlm", charLM),
    ("vae", vae),
    ("transformer", transformer), ("transformer-composed", transformerComposed),
  ]

  struct Options: Sendable {
    var threads = ProcessInfo.processInfo.activeProcessorCount
    var quick = false
    /// Overrides the batch size of mlp-mnist, mlp-qs and lstm (to show linear scaling).
    var batch: Int?
    /// Overrides the sequence length of lstm, charlm and transformer.
    var sequence: Int?
    /// Runs gemm at this one size instead of its list of sizes (to profile one size).
    var size: Int?
  }

  static func main() {
    var options = Options()
    var names: [String] = []
    var arguments = Array(CommandLine.arguments.dropFirst())[...]
    while let argument = arguments.popFirst() {
      switch argument {
      case "--quick": options.quick = true
      case "--threads":
        guard let text = arguments.popFirst(), let n = Int(text), n >= 1 else {
          fail("--threads expects a positive whole number")
        }
        options.threads = n
      case "--batch", "--sequence", "--size":
        guard let text = arguments.popFirst(), let n = Int(text), n >= 1 else {
          fail("\(argument) expects a positive whole number")
        }
        switch argument {
        case "--batch": options.batch = n
        case "--sequence": options.sequence = n
        default: options.size = n
        }
      case "--help", "-h":
        print(
          "usage: benchmarks [WORKLOAD …] [--threads N] [--quick] [--batch N] [--sequence N]"
            + " [--size N]")
        print("workloads: " + workloads.map(\.name).joined(separator: ", "))
        return
      default:
        guard workloads.contains(where: { $0.name == argument }) else {
          fail(
            "no workload named '\(argument)'; workloads: "
              + workloads.map(\.name).joined(separator: ", "))
        }
        names.append(argument)
      }
    }
    let selected = names.isEmpty ? workloads : workloads.filter { names.contains($0.name) }
    do {
      try ComputeSettings.withThreads(options.threads) {
        for workload in selected { try workload.run(options) }
      }
    } catch {
      fail("\(error)")
    }
  }

  static func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("benchmarks: \(message)\n".utf8))
    exit(2)
  }
}

// MARK: - Measurement

/// Seconds per call of `body`: the median of `timed` runs after `warmup` runs.
func median(warmup: Int, timed: Int, _ body: () throws -> Void) rethrows -> Double {
  for _ in 0..<warmup { try body() }
  var times: [Double] = []
  times.reserveCapacity(timed)
  for _ in 0..<timed {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
  }
  times.sort()
  return times.count % 2 == 1
    ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
}

/// Prints one JSON line.
func report(_ fields: [(String, Any)]) {
  let items = fields.map { key, value -> String in
    switch value {
    case let s as String: return "\"\(key)\":\"\(s)\""
    case let d as Double: return "\"\(key)\":\(d.isFinite ? String(format: "%.6g", d) : "null")"
    default: return "\"\(key)\":\(value)"
    }
  }
  print("{" + items.joined(separator: ",") + "}")
}

func stepReport(
  _ name: String, metric: String = "step_ms", seconds: Double, threads: Int, dtype: DType,
  reps: Int, firstLoss: Double? = nil, lastLoss: Double? = nil, extra: [(String, Any)] = []
) {
  var fields: [(String, Any)] = [
    ("workload", name), ("metric", metric), ("value", seconds * 1000), ("threads", threads),
    ("dtype", dtype.description), ("reps", reps),
  ]
  if let firstLoss { fields.append(("first_loss", firstLoss)) }
  if let lastLoss { fields.append(("last_loss", lastLoss)) }
  report(fields + extra + [("kernels", ComputeSettings.kernelName)])
}
