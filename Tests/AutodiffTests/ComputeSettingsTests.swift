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
}
