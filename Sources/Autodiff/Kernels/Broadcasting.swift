/// NumPy broadcasting: shapes are aligned at their last dimension, and a dimension of 1
/// (or a missing one) stretches to match the other.
func broadcastShape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
  if a == b { return a }
  let rank = max(a.count, b.count)
  var out = [Int](repeating: 1, count: rank)
  for i in 0..<rank {
    let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
    let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
    if da == db || db == 1 {
      out[i] = da
    } else if da == 1 {
      out[i] = db
    } else {
      fatalError(
        "\(op): shapes \(a) and \(b) cannot be broadcast: dimension \(da) and \(db) differ")
    }
  }
  return out
}

/// The strides of `shape` seen from a broadcast result of `outShape`: 0 on stretched axes.
func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
  let rank = outShape.count
  var strides = [Int](repeating: 0, count: rank)
  var step = 1
  for i in stride(from: shape.count - 1, through: 0, by: -1) {
    let axis = i + rank - shape.count
    strides[axis] = shape[i] == 1 ? 0 : step
    step *= shape[i]
  }
  return strides
}

/// Walks a broadcast result row by row (a row is the last axis), giving each row's start
/// offsets in two operands and the operands' strides along the row.
struct BroadcastWalk {
  let outShape: [Int]
  let aStrides: [Int]
  let bStrides: [Int]
  let rowLength: Int
  let rowCount: Int

  init(outShape: [Int], a: [Int], b: [Int]) {
    self.outShape = outShape.isEmpty ? [1] : outShape
    aStrides = broadcastStrides(a, to: self.outShape)
    bStrides = broadcastStrides(b, to: self.outShape)
    rowLength = self.outShape.last!
    rowCount = rowLength == 0 ? 0 : self.outShape.reduce(1, *) / rowLength
  }

  var aRowStride: Int { aStrides.last! }
  var bRowStride: Int { bStrides.last! }

  /// Calls `body(row, aOffset, bOffset)` for every row in order.
  @inline(__always)
  func forEachRow(_ body: (Int, Int, Int) -> Void) {
    let outer = outShape.count - 1
    var index = [Int](repeating: 0, count: max(outer, 1))
    var offA = 0
    var offB = 0
    for row in 0..<rowCount {
      body(row, offA, offB)
      // Advance the odometer over the leading axes.
      var axis = outer - 1
      while axis >= 0 {
        index[axis] += 1
        offA += aStrides[axis]
        offB += bStrides[axis]
        if index[axis] < outShape[axis] { break }
        offA -= aStrides[axis] * outShape[axis]
        offB -= bStrides[axis] * outShape[axis]
        index[axis] = 0
        axis -= 1
      }
    }
  }
}
