import Autodiff
import Foundation

extension Module {
  /// Parameter names by position in the module tree: `1.0.W` is parameter W of the first
  /// child of the second child.
  public var namedParameters: [(name: String, parameter: Var)] {
    named { $0.ownParameters }
  }

  /// Buffer names by position in the module tree, like ``namedParameters``.
  public var namedBuffers: [(name: String, buffer: Var)] {
    named { $0.ownBuffers }.map { ($0.name, $0.parameter) }
  }

  private func named(_ own: (Module) -> [Var]) -> [(name: String, parameter: Var)] {
    var result: [(String, Var)] = []
    func visit(_ module: Module, _ path: String) {
      for (i, p) in own(module).enumerated() {
        result.append((path + (p.name ?? "p\(i)"), p))
      }
      for (i, child) in module.children.enumerated() { visit(child, path + "\(i).") }
    }
    visit(self, "")
    return result
  }

  /// Everything the module needs to compute: its parameters and its buffers, by name.
  public var namedState: [(name: String, value: Var)] {
    namedParameters.map { ($0.name, $0.parameter) } + namedBuffers.map { ($0.name, $0.buffer) }
  }

  /// Saves the parameters and the buffers to a safetensors file, atomically.
  public func save(to url: URL) throws {
    try SafeTensors.write(namedState.map { ($0.name, $0.value.value) }, to: url)
  }

  /// Loads what ``save(to:)`` wrote into this module, which must have the same structure:
  /// every name present with the same shape and dtype. Nothing is changed when the file
  /// does not match.
  public func load(from url: URL) throws {
    try restoreState(from: SafeTensors.read(url), file: url.lastPathComponent)
  }

  /// A snapshot of the parameters and the buffers by name: plain `Sendable` values that can
  /// leave the task or actor that owns the module, and rebuild it with ``load(_:)``.
  public var stateSnapshot: [String: Tensor] {
    Dictionary(namedState.map { ($0.name, $0.value.value) }, uniquingKeysWith: { a, _ in a })
  }

  /// Loads a ``stateSnapshot`` into this module, which must have the same structure: every
  /// name present with the same shape and dtype. Nothing is changed when it does not match.
  public func load(_ snapshot: [String: Tensor]) throws {
    try restoreState(from: snapshot, file: "state snapshot")
  }

  /// Sets the parameters and buffers from tensors named as in ``namedState`` (with
  /// `prefix` before each name), after checking all of them.
  func restoreState(from tensors: [String: Tensor], prefix: String = "", file: String) throws {
    let state = namedState
    for (name, v) in state {
      guard let t = tensors[prefix + name] else {
        throw DataFileError(file: file, "expected a tensor named '\(prefix + name)', found none")
      }
      guard t.shape == v.shape && t.dtype == v.dtype else {
        throw DataFileError(
          file: file,
          "tensor '\(prefix + name)': expected shape \(v.shape) (\(v.dtype)), found \(t.shape) (\(t.dtype))"
        )
      }
    }
    for (name, v) in state { v.updateValue { $0 = tensors[prefix + name]! } }
  }
}
