import CKernels
import Foundation

/// Which matrix-product micro-kernels to use. The best level the CPU supports is the
/// default; lower levels exist for tests and comparisons.
public enum KernelLevel: Int, Sendable, Comparable {
  /// Plain C loops, for any CPU.
  case portable = 0
  /// AVX2 with FMA.
  case avx2 = 1
  /// AVX-512.
  case avx512 = 2

  public static func < (a: KernelLevel, b: KernelLevel) -> Bool { a.rawValue < b.rawValue }

  /// The best level this CPU supports.
  public static let best = KernelLevel(rawValue: Int(ad_cpu_level())) ?? .portable
}

/// Scoped settings for the compute kernels: thread count and kernel level.
///
/// Settings are task-local values, not global state: they apply to the code inside
/// `with…` and to nothing else.
///
/// ```swift
/// ComputeSettings.withThreads(1) {
///   loss.backward()  // every matrix product here runs on one thread
/// }
/// ```
public enum ComputeSettings {
  @TaskLocal static var threads = ProcessInfo.processInfo.activeProcessorCount
  @TaskLocal static var kernelLevel = KernelLevel.best
  /// Work of fewer multiply-adds than this runs on one thread: below it, handing work to
  /// another thread costs more than it saves.
  @TaskLocal static var minimumParallelWork = 1 << 22
  /// Whether products keep packed copies of a B operand they use unchanged
  /// (``PackedPanels``); tests turn it off to compare against packing every time.
  @TaskLocal static var reusesPackedPanels = true

  /// The number of threads large matrix products may use.
  public static var threadCount: Int { threads }

  /// The kernel level in effect.
  public static var currentKernelLevel: KernelLevel { kernelLevel }

  /// Runs `body` with large matrix products split over at most `count` threads.
  ///
  /// - Parameter minimumWork: The number of multiply-adds below which work stays on one
  ///   thread (about four million by default); 0 splits everything, which tests use to
  ///   exercise the threaded paths on small inputs.
  public static func withThreads<R>(
    _ count: Int, minimumWork: Int? = nil, _ body: () throws -> R
  ) rethrows -> R {
    require(count >= 1, "withThreads: thread count \(count) must be at least 1")
    require(
      (minimumWork ?? 0) >= 0, "withThreads: minimum work \(minimumWork ?? 0) is negative")
    return try $threads.withValue(count) {
      try $minimumParallelWork.withValue(minimumWork ?? minimumParallelWork, operation: body)
    }
  }

  /// Runs `body` with micro-kernels no better than `level`.
  public static func withKernelLevel<R>(_ level: KernelLevel, _ body: () throws -> R) rethrows
    -> R
  {
    try $kernelLevel.withValue(min(level, .best), operation: body)
  }

  /// Runs `body` on consecutive ranges that together cover `0..<count`: over the compute
  /// threads when the pass is large, else once, on the calling thread, with the whole range.
  ///
  /// For passes over large tensors that treat each element on its own (an optimizer's
  /// update, a fill, a check): `body` must not depend on how the elements are split, and
  /// must not write outside its range. The split is worth its cost from a few hundred
  /// thousand elements on; `costPerElement`, in multiply-adds of a matrix product, says
  /// what one element's work weighs against the threading threshold of
  /// ``withThreads(_:minimumWork:_:)`` (about 30 for a pass that reads and writes a few
  /// arrays from memory).
  public static func forEachRange(
    of count: Int, costPerElement: Int = 32, _ body: @Sendable (Range<Int>) -> Void
  ) {
    require(count >= 0, "forEachRange: count \(count) is negative")
    require(costPerElement >= 0, "forEachRange: cost \(costPerElement) is negative")
    let work =
      costPerElement > 0 && count > Int.max / costPerElement
      ? Int.max : count * costPerElement
    Kernels.forEachChunk(units: count, chunk: Kernels.elementwiseChunk, work: work, body)
  }

  /// The name of the kernel set in effect (`avx512`, `avx2` or `portable`).
  public static var kernelName: String {
    String(cString: GemmConfiguration.forLevel(kernelLevel).isa)
  }
}

extension Kernels {
  /// Runs `body(part, parts)` for each of up to ``ComputeSettings/threadCount`` parts of a
  /// piece of work of `units` units that costs about `work` multiply-adds, each part on
  /// its own thread, with the caller's kernel level and one thread for the products inside
  /// a part. Work below the threading threshold runs as one part, on the calling thread.
  static func forEachPart(units: Int, work: Int, _ body: @Sendable (Int, Int) -> Void) {
    let parts =
      work < ComputeSettings.minimumParallelWork
      ? 1 : Swift.max(1, Swift.min(ComputeSettings.threads, units))
    if parts == 1 {
      body(0, 1)
      return
    }
    let level = ComputeSettings.kernelLevel
    runOnPool(iterations: parts, threads: parts) { part in
      ComputeSettings.$kernelLevel.withValue(level) {
        ComputeSettings.$threads.withValue(1) { body(part, parts) }
      }
    }
  }
}

extension Kernels {
  /// Runs `body` on consecutive ranges of `units` units, each of `chunk` units (the last
  /// may be shorter), over up to ``ComputeSettings/threadCount`` threads that take the
  /// next range as they become free; one thread for the products inside a range. Work
  /// below the threading threshold runs as one range, on the calling thread.
  ///
  /// Taking ranges as threads become free, rather than one fixed part per thread, keeps a
  /// thread that starts late or runs on a busy core from holding up the others: the
  /// calling thread takes the ranges nobody has started, so two threads cost at most about
  /// one range more than one thread. Choose `chunk` so that a range is still efficient
  /// work on its own (whole register blocks of the matrix product: a multiple of 6 rows).
  static func forEachChunk(
    units: Int, chunk: Int, work: Int, _ body: @Sendable (Range<Int>) -> Void
  ) {
    let chunks = (units + chunk - 1) / max(chunk, 1)
    if chunks < 2 || ComputeSettings.threads == 1 || work < ComputeSettings.minimumParallelWork {
      body(0..<units)
      return
    }
    let level = ComputeSettings.kernelLevel
    runOnPool(iterations: chunks, threads: ComputeSettings.threads) { index in
      ComputeSettings.$kernelLevel.withValue(level) {
        ComputeSettings.$threads.withValue(1) {
          body((index * chunk)..<min(units, (index + 1) * chunk))
        }
      }
    }
  }
}

extension Kernels {
  /// The number of elements in each range of an elementwise pass split over threads: big
  /// enough that taking a range costs nothing against its work, small enough that a thread
  /// which starts late still finds ranges to take.
  static let elementwiseChunk = 1 << 14

  /// Runs `body(index)` for every index in `0..<iterations` on up to `threads` threads:
  /// the calling thread and the workers of the library's thread pool, each taking the next
  /// index as it becomes free; returns when all have run.
  ///
  /// The pool's workers wait for the next job by spinning for a fraction of a millisecond
  /// before they sleep, so the products of one training step, a few hundred microseconds
  /// apart, start on two threads without the cost of waking one. When the pool is busy (a
  /// job from another thread at the same time) the calling thread runs every index itself.
  static func runOnPool(iterations: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
    withoutActuallyEscaping(body) { body in
      var job = body
      let ran = withUnsafeMutablePointer(to: &job) { pointer in
        ad_pool_run(iterations, Int32(clamping: threads), runJob, pointer)
      }
      if ran == 0 {
        for index in 0..<iterations { body(index) }
      }
    }
  }
}

/// The pool's entry point: `context` points at the job's closure.
private func runJob(_ context: UnsafeMutableRawPointer?, _ index: Int) {
  context.unsafelyUnwrapped.assumingMemoryBound(to: (@Sendable (Int) -> Void).self).pointee(index)
}

enum GemmConfiguration {
  nonisolated(unsafe) static let configurations = (0...2).map { ad_gemm_select(Int32($0)) }
  static func forLevel(_ level: KernelLevel) -> ad_gemm_config { configurations[level.rawValue] }
}
