/// A dense, contiguous, row-major array of `Float` or `Double` with any number of dimensions.
///
/// `Tensor` has value semantics: copies share storage until one of them is mutated.
///
/// ```swift
/// let m = Tensor([[1, 2, 3], [4, 5, 6]])
/// print(m.shape, m[1, 2])  // [2, 3] 6.0
/// ```
///
/// A rank-0 tensor (shape `[]`) holds one scalar. Element accessors speak `Double`, whatever
/// the dtype; kernels work on the native type through ``withUnsafeBufferPointer(as:_:)``.
///
/// A tensor is a value (copy-on-write storage), and `Sendable`: hand one to another task or
/// actor and each side keeps its own.
public struct Tensor: Sendable {
  /// The extent of each dimension; `[]` for a scalar.
  public private(set) var shape: [Int]
  @usableFromInline var buffer: TensorBuffer

  /// The element type.
  @inlinable public var dtype: DType { buffer.dtype }
  /// The number of elements, the product of the shape.
  @inlinable public var count: Int { buffer.count }
  /// The number of dimensions.
  public var rank: Int { shape.count }

  init(shape: [Int], buffer: TensorBuffer) {
    self.shape = shape
    self.buffer = buffer
  }

  /// A tensor of the given shape filled with `value`.
  public init(repeating value: Double, shape: [Int], dtype: DType = .default) {
    require(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
    self.init(shape: shape, buffer: TensorBuffer(count: shape.reduce(1, *), dtype: dtype))
    fill(with: value)
  }

  /// A tensor with the given elements in row-major order.
  public init(_ scalars: [Double], shape: [Int], dtype: DType = .default) {
    let count = shape.reduce(1, *)
    require(
      scalars.count == count,
      "Tensor: \(scalars.count) scalars do not fill shape \(shape) (\(count) elements)")
    self.init(shape: shape, buffer: TensorBuffer(count: count, dtype: dtype))
    switch dtype {
    case .float64:
      scalars.withUnsafeBufferPointer { source in
        buffer.pointer.copyMemory(from: source.baseAddress!, byteCount: count * 8)
      }
    case .float32:
      let p = buffer.pointer.assumingMemoryBound(to: Float.self)
      for i in 0..<count { p[i] = Float(scalars[i]) }
    }
  }

  /// A `Float` tensor with the given elements in row-major order.
  public init(_ scalars: [Float], shape: [Int]) {
    let count = shape.reduce(1, *)
    require(
      scalars.count == count,
      "Tensor: \(scalars.count) scalars do not fill shape \(shape) (\(count) elements)")
    self.init(shape: shape, buffer: TensorBuffer(count: count, dtype: .float32))
    scalars.withUnsafeBufferPointer { source in
      buffer.pointer.copyMemory(from: source.baseAddress!, byteCount: count * 4)
    }
  }

  /// A vector (rank 1).
  public init(_ scalars: [Double], dtype: DType = .default) {
    self.init(scalars, shape: [scalars.count], dtype: dtype)
  }

  /// A matrix (rank 2) from its rows, which must all have the same length.
  public init(_ rows: [[Double]], dtype: DType = .default) {
    let columns = rows.first?.count ?? 0
    require(
      rows.allSatisfy { $0.count == columns }, "Tensor: rows of a matrix differ in length")
    self.init(rows.flatMap { $0 }, shape: [rows.count, columns], dtype: dtype)
  }

  /// A rank-0 tensor holding one scalar.
  public init(scalar: Double, dtype: DType = .default) {
    self.init(repeating: scalar, shape: [], dtype: dtype)
  }

  /// A tensor of zeros.
  public static func zeros(_ shape: [Int], dtype: DType = .default) -> Tensor {
    Tensor(repeating: 0, shape: shape, dtype: dtype)
  }

  /// A tensor of ones.
  public static func ones(_ shape: [Int], dtype: DType = .default) -> Tensor {
    Tensor(repeating: 1, shape: shape, dtype: dtype)
  }

  /// An uninitialized tensor: every element must be written before it is read.
  /// A tensor with no elements (shape `[0]`), the placeholder a node's value holds before
  /// its first forward computes it.
  static var empty: Tensor { Tensor(shape: [0], buffer: emptyBuffer) }

  static func uninitialized(_ shape: [Int], dtype: DType) -> Tensor {
    Tensor(shape: shape, buffer: TensorBuffer(count: shape.reduce(1, *), dtype: dtype))
  }
}

// MARK: - Storage access

extension Tensor {
  /// Calls `body` with the elements as a typed buffer; `T` must match ``dtype``.
  @inlinable @inline(__always)
  public func withUnsafeBufferPointer<T: TensorScalar, R>(
    as type: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R
  ) rethrows -> R {
    require(T.dtype == dtype, "Tensor: element type \(T.self) does not match \(dtype)")
    return try withExtendedLifetime(buffer) {
      try body(
        UnsafeBufferPointer(start: buffer.pointer.assumingMemoryBound(to: T.self), count: count))
    }
  }

  /// Calls `body` with the elements as a mutable typed buffer, copying shared storage first.
  @inlinable @inline(__always)
  public mutating func withUnsafeMutableBufferPointer<T: TensorScalar, R>(
    as type: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> R
  ) rethrows -> R {
    require(T.dtype == dtype, "Tensor: element type \(T.self) does not match \(dtype)")
    makeUnique()
    // Bumped again afterwards: a packed copy made from inside `body` is stale too.
    defer { buffer.version &+= 1 }
    return try withExtendedLifetime(buffer) {
      try body(
        UnsafeMutableBufferPointer(
          start: buffer.pointer.assumingMemoryBound(to: T.self), count: count))
    }
  }

  /// The typed base address; the caller keeps the tensor alive while using it. Asking for
  /// the other element type stops the program: no kernel reads a buffer as another type.
  @inline(__always)
  func pointer<T: TensorScalar>(as type: T.Type) -> UnsafeMutablePointer<T> {
    require(T.dtype == dtype, "Tensor: element type \(T.self) does not match \(dtype)")
    return buffer.pointer.assumingMemoryBound(to: T.self)
  }

  /// Makes the storage unique so that it can be written in place, and bumps its version
  /// (every write goes through here or ``prepare(shape:dtype:)``).
  @inlinable @inline(__always)
  mutating func makeUnique() {
    if !isKnownUniquelyReferenced(&buffer) { buffer = buffer.copy() }
    buffer.version &+= 1
  }

  /// Makes this tensor ready to be overwritten with the given shape and dtype, keeping the
  /// storage when it is unshared and has the right size (no allocation when re-evaluating).
  @inline(__always)
  mutating func prepare(shape newShape: [Int], dtype newType: DType) {
    let count = newShape.reduce(1, *)
    if count != buffer.count || newType != buffer.dtype || !isKnownUniquelyReferenced(&buffer) {
      buffer = TensorBuffer(count: count, dtype: newType)
    } else {
      buffer.version &+= 1
    }
    if shape != newShape { shape = newShape }
  }

  /// Writes `value` as the first element, converted to the dtype, into storage already
  /// made ready for writing by ``prepare(shape:dtype:)``.
  @inline(__always)
  mutating func storeScalar(_ value: Double) {
    switch dtype {
    case .float32: pointer(as: Float.self).pointee = Float(value)
    case .float64: pointer(as: Double.self).pointee = value
    }
  }

  /// Sets every element to `value`.
  public mutating func fill(with value: Double) {
    makeUnique()
    let start = UnsafeSendable(buffer.pointer)
    switch dtype {
    case .float32:
      ComputeSettings.forEachRange(of: count) { range in
        (start.pointer.assumingMemoryBound(to: Float.self) + range.lowerBound).update(
          repeating: Float(value), count: range.count)
      }
    case .float64:
      ComputeSettings.forEachRange(of: count) { range in
        (start.pointer.assumingMemoryBound(to: Double.self) + range.lowerBound).update(
          repeating: value, count: range.count)
      }
    }
  }

  /// Overwrites this tensor with `other`, copying into the existing storage when it is
  /// unshared and has the same size and dtype (no allocation), and sharing `other`'s
  /// storage otherwise.
  public mutating func assign(_ other: Tensor) {
    if count == other.count, dtype == other.dtype, isKnownUniquelyReferenced(&buffer),
      buffer !== other.buffer
    {
      buffer.version &+= 1
      buffer.pointer.copyMemory(from: other.buffer.pointer, byteCount: count * dtype.byteCount)
      if shape != other.shape { shape = other.shape }
    } else {
      self = other
    }
  }
}

// MARK: - Elements

extension Tensor {
  /// The row-major offset of a multi-index.
  func offset(of indices: [Int]) -> Int {
    require(
      indices.count == rank, "Tensor: \(indices.count) indices for a tensor of shape \(shape)")
    var offset = 0
    for (axis, index) in indices.enumerated() {
      require(
        index >= 0 && index < shape[axis],
        "Tensor: index \(index) out of range 0..<\(shape[axis]) on axis \(axis)")
      offset = offset * shape[axis] + index
    }
    return offset
  }

  /// The element at a multi-index, as a `Double`.
  public subscript(indices: Int...) -> Double {
    get { self[flat: offset(of: indices)] }
    set { self[flat: offset(of: indices)] = newValue }
  }

  /// The element at a row-major offset, as a `Double`.
  public subscript(flat index: Int) -> Double {
    get {
      require(index >= 0 && index < count, "Tensor: flat index \(index) out of range")
      switch dtype {
      case .float32: return Double(pointer(as: Float.self)[index])
      case .float64: return pointer(as: Double.self)[index]
      }
    }
    set {
      require(index >= 0 && index < count, "Tensor: flat index \(index) out of range")
      makeUnique()
      switch dtype {
      case .float32: pointer(as: Float.self)[index] = Float(newValue)
      case .float64: pointer(as: Double.self)[index] = newValue
      }
    }
  }

  /// All elements in row-major order, as `Double`s.
  public var scalars: [Double] {
    switch dtype {
    case .float64: return withUnsafeBufferPointer(as: Double.self) { Array($0) }
    case .float32: return withUnsafeBufferPointer(as: Float.self) { $0.map { Double($0) } }
    }
  }

  /// All elements in row-major order, converted to `T`.
  public func scalars<T: TensorScalar>(as type: T.Type) -> [T] {
    switch dtype {
    case .float64: return withUnsafeBufferPointer(as: Double.self) { $0.map { T($0) } }
    case .float32: return withUnsafeBufferPointer(as: Float.self) { $0.map { T($0) } }
    }
  }

  /// The only element of a tensor with one element.
  public var scalar: Double {
    require(count == 1, "Tensor: scalar of a tensor of shape \(shape)")
    return self[flat: 0]
  }

  /// The rows of a matrix, as arrays of `Double`s.
  public var rowScalars: [[Double]] {
    require(rank == 2, "Tensor: rows of a tensor of shape \(shape)")
    let all = scalars
    return (0..<shape[0]).map { Array(all[($0 * shape[1])..<(($0 + 1) * shape[1])]) }
  }

  /// Whether this tensor and `other` share their storage: one is a copy (or a reshaped
  /// view) of the other that neither has written since.
  ///
  /// Shared storage is never written in place (a write copies it first), so while two
  /// tensors share storage they hold the same elements: a cache may keep a tensor it was
  /// computed from and know, by this test, that the input has not changed.
  public func sharesStorage(with other: Tensor) -> Bool {
    buffer === other.buffer
  }

  /// The same elements with another shape of equal element count (no copy).
  public func reshaped(_ newShape: [Int]) -> Tensor {
    require(
      newShape.reduce(1, *) == count,
      "reshape: shape \(shape) (\(count) elements) cannot become \(newShape)")
    return Tensor(shape: newShape, buffer: buffer)
  }

  /// The same values in another dtype.
  public func converted(to newType: DType) -> Tensor {
    if newType == dtype { return self }
    var out = Tensor.uninitialized(shape, dtype: newType)
    switch (dtype, newType) {
    case (.float32, .float64):
      let s = pointer(as: Float.self)
      let d = out.pointer(as: Double.self)
      for i in 0..<count { d[i] = Double(s[i]) }
    default:
      let s = pointer(as: Double.self)
      let d = out.pointer(as: Float.self)
      for i in 0..<count { d[i] = Float(s[i]) }
    }
    out.makeUnique()
    return out
  }

  /// Whether every element is finite (neither NaN nor infinite).
  ///
  /// x − x is 0 for a finite x and NaN otherwise, so the sum of x − x over the elements, in
  /// vector lanes, tells without a branch per element (training checks every gradient this
  /// way before each update).
  public var isFinite: Bool {
    switch dtype {
    case .float32: return withUnsafeBufferPointer(as: Float.self) { allFiniteSplit($0) }
    case .float64: return withUnsafeBufferPointer(as: Double.self) { allFiniteSplit($0) }
    }
  }
}

/// Whether every element is finite, checked a range at a time over the compute threads for
/// a large tensor.
private func allFiniteSplit<T: TensorScalar>(_ x: UnsafeBufferPointer<T>) -> Bool {
  let chunk = Kernels.elementwiseChunk
  let ranges = (x.count + chunk - 1) / chunk
  if ranges < 2 { return allFinite(x) }
  let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: ranges)
  defer { results.deallocate() }
  results.initialize(repeating: true)
  let (elements, flags) = (UnsafeSendable(x), UnsafeSendable(results))
  ComputeSettings.forEachRange(of: x.count) { range in
    // A range is a whole number of chunks, the last one possibly shorter.
    let slice = UnsafeBufferPointer(rebasing: elements.pointer[range])
    flags.pointer[range.lowerBound / chunk] = allFinite(slice)
  }
  return results.allSatisfy { $0 }
}

private func allFinite<T: TensorScalar>(_ x: UnsafeBufferPointer<T>) -> Bool {
  // x − x is 0 for a finite x and NaN otherwise, and NaN survives any sum. Two sets of
  // lanes keep two independent chains of additions in flight.
  var (lanes, more) = (SIMD16<T>(repeating: 0), SIMD16<T>(repeating: 0))
  var i = 0
  if let base = x.baseAddress {
    while i + 32 <= x.count {
      let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<T>.self)
      let w = UnsafeRawPointer(base + i + 16).loadUnaligned(as: SIMD16<T>.self)
      lanes += v - v
      more += w - w
      i += 32
    }
    if i + 16 <= x.count {
      let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<T>.self)
      lanes += v - v
      i += 16
    }
  }
  var total = (lanes + more).sum()
  while i < x.count {
    total += x[i] - x[i]
    i += 1
  }
  return total == 0
}

extension Tensor: Equatable {
  /// Tensors are equal when they have the same shape, dtype and elements.
  public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
    guard lhs.shape == rhs.shape && lhs.dtype == rhs.dtype else { return false }
    if lhs.buffer === rhs.buffer { return !lhs.scalars.contains { $0.isNaN } }
    switch lhs.dtype {
    case .float32: return equal(lhs.pointer(as: Float.self), rhs.pointer(as: Float.self), lhs.count)
    case .float64:
      return equal(lhs.pointer(as: Double.self), rhs.pointer(as: Double.self), lhs.count)
    }
  }
}

private func equal<T: TensorScalar>(
  _ a: UnsafeMutablePointer<T>, _ b: UnsafeMutablePointer<T>, _ n: Int
) -> Bool {
  for i in 0..<n where a[i] != b[i] { return false }
  return true
}

extension Tensor: CustomStringConvertible {
  /// Nested brackets in row-major order, like NumPy: `[[1.0, 2.0], [3.0, 4.0]]`.
  public var description: String {
    if rank == 0 { return formatScalar(scalar) }
    let all = scalars
    let limit = 1000
    func render(_ axis: Int, _ start: Int) -> String {
      let n = shape[axis]
      let stride = shape[(axis + 1)...].reduce(1, *)
      if axis == rank - 1 {
        let items = (0..<Swift.min(n, limit)).map { formatScalar(all[start + $0]) }
        return "[" + items.joined(separator: ", ") + (n > limit ? ", …" : "") + "]"
      }
      let items = (0..<Swift.min(n, limit)).map { render(axis + 1, start + $0 * stride) }
      return "[" + items.joined(separator: ", ") + "]"
    }
    return render(0, 0)
  }

  private func formatScalar(_ x: Double) -> String {
    dtype == .float32 ? "\(Float(x))" : "\(x)"
  }
}

extension Tensor {
  @available(*, deprecated, renamed: "rowScalars")
  public var rows: [[Double]] { rowScalars }
}
