extension Var {
  /// Image patches as rows (im2col): for input [n, c, h, w] and a k×k window with `stride`
  /// and zero `padding`, row (b, i, j) holds the c·k·k values under the window at output
  /// position (i, j), ordered channel, then kernel row, then kernel column. A convolution is
  /// then one matrix product of these rows with the filters.
  ///
  /// Backward: each patch entry's gradient is added back to the pixel it came from
  /// (col2im); pixels under several windows accumulate, padding receives nothing.
  ///
  /// - Returns: A node of shape [n · outHeight · outWidth, c · k · k], where
  ///   outHeight = (h + 2·padding − k) / stride + 1, likewise outWidth.
  public func unfolded(kernelSize k: Int, stride: Int = 1, padding: Int = 0) -> Var {
    require(rank == 4, "unfold: input must be [n, channels, height, width], got \(shape)")
    let geometry = UnfoldGeometry(shape: shape, k: k, stride: stride, padding: padding)
    return Var(
      op: "unfold", args: [self],
      forward: { args, value in
        require(
          args[0].shape == geometry.imageShape,
          "unfold: built for an image of shape \(geometry.imageShape), evaluated with \(args[0].shape); build the graph again for the new shape"
        )
        value.prepare(shape: geometry.columnsShape, dtype: args[0].dtype)
        geometry.transfer(
          image: args[0].value, columns: value.buffer.pointer, dtype: value.dtype, toColumns: true)
      },
      vectorJacobianProduct: { _, _, s in [s.folded(geometry)] },
      backward: { args, _, s in
        guard let g = args[0].gradientPointer() else { return }
        geometry.transfer(image: g, columns: s, dtype: s.dtype)
      })
  }

  /// The adjoint of ``unfolded(kernelSize:stride:padding:)``: patch rows summed back into an
  /// image.
  ///
  /// Backward: ∂L/∂columns = unfold(s).
  func folded(_ geometry: UnfoldGeometry) -> Var {
    Var(
      op: "fold", args: [self],
      forward: { args, value in
        require(
          args[0].shape == geometry.columnsShape,
          "fold: built for patches of shape \(geometry.columnsShape), evaluated with \(args[0].shape); build the graph again for the new shape"
        )
        value.prepare(shape: geometry.imageShape, dtype: args[0].dtype)
        value.fill(with: 0)
        geometry.transfer(image: value.buffer.pointer, columns: args[0].value, dtype: value.dtype)
      },
      vectorJacobianProduct: { _, _, s in
        [s.unfolded(kernelSize: geometry.k, stride: geometry.stride, padding: geometry.padding)]
      })
  }
}

/// The index arithmetic shared by unfold and fold.
struct UnfoldGeometry {
  let n: Int, c: Int, h: Int, w: Int, k: Int, stride: Int, padding: Int
  let outHeight: Int, outWidth: Int

  init(shape: [Int], k: Int, stride: Int, padding: Int) {
    (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
    (self.k, self.stride, self.padding) = (k, stride, padding)
    require(
      k >= 1 && stride >= 1 && padding >= 0,
      "unfold: bad kernel \(k), stride \(stride), padding \(padding)")
    outHeight = (h + 2 * padding - k) / stride + 1
    outWidth = (w + 2 * padding - k) / stride + 1
    require(
      outHeight >= 1 && outWidth >= 1, "unfold: kernel \(k) larger than the padded input \(shape)")
  }

  var imageShape: [Int] { [n, c, h, w] }
  var columnsShape: [Int] { [n * outHeight * outWidth, c * k * k] }

  /// Copies the patches of `image` into the columns storage.
  func transfer(image: Tensor, columns: UnsafeMutableRawPointer, dtype: DType, toColumns: Bool) {
    withExtendedLifetime(image) { run(image.buffer.pointer, columns, dtype, toColumns: true) }
  }

  /// Adds the patch rows in `columns` back into the image storage.
  func transfer(image: UnsafeMutableRawPointer, columns: Tensor, dtype: DType) {
    withExtendedLifetime(columns) { run(image, columns.buffer.pointer, dtype, toColumns: false) }
  }

  private func run(
    _ image: UnsafeMutableRawPointer, _ columns: UnsafeMutableRawPointer, _ dtype: DType,
    toColumns: Bool
  ) {
    switch dtype {
    case .float32:
      run(
        image.assumingMemoryBound(to: Float.self), columns.assumingMemoryBound(to: Float.self),
        toColumns)
    case .float64:
      run(
        image.assumingMemoryBound(to: Double.self), columns.assumingMemoryBound(to: Double.self),
        toColumns)
    }
  }

  private func run<T: TensorScalar>(
    _ img: UnsafeMutablePointer<T>, _ col: UnsafeMutablePointer<T>, _ toColumns: Bool
  ) {
    let width = c * k * k
    for b in 0..<n {
      for i in 0..<outHeight {
        for j in 0..<outWidth {
          let row = col + ((b * outHeight + i) * outWidth + j) * width
          var entry = 0
          for ch in 0..<c {
            for di in 0..<k {
              let y = i * stride + di - padding
              for dj in 0..<k {
                let x = j * stride + dj - padding
                let inside = y >= 0 && y < h && x >= 0 && x < w
                if toColumns {
                  row[entry] = inside ? img[((b * c + ch) * h + y) * w + x] : 0
                } else if inside {
                  img[((b * c + ch) * h + y) * w + x] += row[entry]
                }
                entry += 1
              }
            }
          }
        }
      }
    }
  }
}

extension GradientCheck {
  static let unfold = GradientCheck("unfold (im2col)", inputs: [.init([2, 2, 5, 4])]) {
    $0[0].unfolded(kernelSize: 3, stride: 2, padding: 1)
  }
}
