import Dispatch
import Foundation
import Testing

@testable import Autodiff

/// Work split over threads in chunks (the LSTM sequence splits its batch this way).
@Suite("Compute settings")
struct ComputeSettingsTests {
  /// Every unit is in exactly one chunk, whether the chunks divide the units or not, on
  /// one thread and on two.
  @Test(arguments: [(40, 18), (36, 18), (7, 3), (5, 6), (1, 1), (100, 7)])
  func chunksCoverEveryUnitOnce(units: Int, chunk: Int) {
    for threads in [1, 2] {
      let counts = UnsafeMutablePointer<Int>.allocate(capacity: units)
      counts.initialize(repeating: 0, count: units)
      defer { counts.deallocate() }
      let shared = UnsafeSendable(counts)
      ComputeSettings.withThreads(threads, minimumWork: 0) {
        Kernels.forEachChunk(units: units, chunk: chunk, work: 1 << 30) { range in
          // Chunks are disjoint, so no two threads write the same count.
          for unit in range { shared.pointer[unit] += 1 }
        }
      }
      #expect(
        (0..<units).allSatisfy { counts[$0] == 1 },
        "\(units) units in chunks of \(chunk) on \(threads) threads")
    }
  }

  /// The pool runs every index exactly once and returns only when all have run, for jobs
  /// of every size, one after another (workers spinning between jobs or asleep).
  @Test func poolRunsEveryIndexOnce() {
    for (iterations, pause) in [(2, 0), (3, 0), (64, 0), (1000, 0), (5, 300), (2, 2000)] {
      let counts = UnsafeMutablePointer<Int>.allocate(capacity: iterations)
      counts.initialize(repeating: 0, count: iterations)
      defer { counts.deallocate() }
      let shared = UnsafeSendable(counts)
      for _ in 0..<20 {
        if pause > 0 { usleep(UInt32(pause)) }  // longer than the workers spin, at 2000 µs
        Kernels.runOnPool(iterations: iterations, threads: 2) { index in
          shared.pointer[index] += 1
        }
      }
      #expect(
        (0..<iterations).allSatisfy { counts[$0] == 20 }, "\(iterations) iterations, 20 jobs")
    }
  }

  /// Jobs submitted from several threads at once, and from inside a job, all run in full:
  /// a job that finds the pool busy runs on its own thread.
  @Test func poolJobsFromSeveralThreadsAndFromInsideAJob() {
    let threads = 4
    let iterations = 50
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: threads * iterations * iterations)
    let total = threads * iterations * iterations
    counts.initialize(repeating: 0, count: total)
    defer { counts.deallocate() }
    let shared = UnsafeSendable(counts)
    DispatchQueue.concurrentPerform(iterations: threads) { thread in
      Kernels.runOnPool(iterations: iterations, threads: 2) { outer in
        Kernels.runOnPool(iterations: iterations, threads: 2) { inner in
          shared.pointer[(thread * iterations + outer) * iterations + inner] += 1
        }
      }
    }
    #expect((0..<total).allSatisfy { counts[$0] == 1 })
  }

  /// The public elementwise split covers every element once, split or not.
  @Test(arguments: [0, 1, 16383, 16384, 16385, 100_000])
  func rangesCoverEveryElementOnce(count: Int) {
    for (threads, minimumWork) in [(1, 0), (2, 0), (2, 1 << 30)] {
      let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
      counts.initialize(repeating: 0, count: max(count, 1))
      defer { counts.deallocate() }
      let shared = UnsafeSendable(counts)
      ComputeSettings.withThreads(threads, minimumWork: minimumWork) {
        ComputeSettings.forEachRange(of: count) { range in
          for i in range { shared.pointer[i] += 1 }
        }
      }
      #expect(
        (0..<count).allSatisfy { counts[$0] == 1 },
        "\(count) elements, \(threads) threads, minimum work \(minimumWork)")
    }
  }

  /// A large tensor's fill and finiteness check, split over two threads, see every element:
  /// a NaN or an infinity in any chunk, the first or the last element included, is found.
  @Test(arguments: [DType.float32, .float64])
  func splitFillAndFinitenessSeeEveryElement(dtype: DType) {
    let count = 5 * Kernels.elementwiseChunk + 17
    ComputeSettings.withThreads(2, minimumWork: 0) {
      var t = Tensor.zeros([count], dtype: dtype)
      t.fill(with: 2.5)
      #expect((0..<count).allSatisfy { t[flat: $0] == 2.5 })
      #expect(t.isFinite)
      for position in [0, Kernels.elementwiseChunk - 1, 3 * Kernels.elementwiseChunk, count - 1] {
        for bad in [Double.nan, .infinity, -.infinity] {
          var u = t
          u[flat: position] = bad
          #expect(!u.isFinite, "\(bad) at \(position)")
        }
      }
    }
  }
}
