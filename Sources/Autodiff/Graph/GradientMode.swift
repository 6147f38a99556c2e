/// Whether new operations are recorded in the graph. Scoped per task and thread, not global.
enum GradientMode {
  @TaskLocal static var isEnabled = true
}

/// Runs `body` without recording operations: every `Var` made inside is a constant leaf.
///
/// Use it for inference, metrics and parameter updates.
///
/// ```swift
/// let y = noGrad { model(x) }  // y.isLeaf == true
/// ```
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
  try GradientMode.$isEnabled.withValue(false, operation: body)
}

/// Whether operations are being recorded at this point (false inside ``noGrad(_:)``).
public var isGradientRecordingEnabled: Bool { GradientMode.isEnabled }
