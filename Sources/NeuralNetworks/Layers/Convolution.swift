import Autodiff

/// A 2-D convolution over [n, channels, height, width] inputs with square k×k filters,
/// computed as im2col (`Var.unfolded(kernelSize:stride:padding:)`) and one matrix
/// product with the filters, so it runs on the fast matrix-product kernels.
///
/// 5×5 filters on a 28×28 image give 24×24 maps (no padding, stride 1).
public final class Conv2D: Module {
  /// Filters as a matrix [inputChannels · k · k, outputChannels].
  public let weight: Var
  public let bias: Var
  public let kernelSize: Int
  public let stride: Int
  public let padding: Int

  public init(
    inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    dtype: DType = .default, using generator: inout some RandomNumberGenerator
  ) {
    let fanIn = inputChannels * kernelSize * kernelSize
    weight = Var(
      Initialization.he.weights(
        fanIn: fanIn, fanOut: outputChannels, dtype: dtype, using: &generator),
      name: "K")
    bias = Var(Tensor.zeros([outputChannels], dtype: dtype), name: "b")
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
  }

  public override var ownParameters: [Var] { [weight, bias] }

  public override func callAsFunction(_ x: Var) -> Var {
    require(x.rank == 4, "Conv2D: input must be [n, channels, height, width], got \(x.shape)")
    let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
    let x = x.guardingShape(for: summary)
    let outHeight = (h + 2 * padding - kernelSize) / stride + 1
    let outWidth = (w + 2 * padding - kernelSize) / stride + 1
    let columns = x.unfolded(kernelSize: kernelSize, stride: stride, padding: padding)
    let maps = columns.matmul(weight) + bias  // [n · oh · ow, outputChannels]
    return maps.reshaped([n, outHeight, outWidth, weight.shape[1]]).permuted([0, 3, 1, 2])
  }

  public override var summary: String {
    "Conv2D(\(weight.shape[0] / (kernelSize * kernelSize)) → \(weight.shape[1]), \(kernelSize)×\(kernelSize))"
  }
}

/// Max pooling over non-overlapping k×k windows (stride k), composed from im2col per
/// channel and a maximum along each patch.
///
/// Backward: the gradient goes to the largest value of each window.
public final class MaxPool2D: Module {
  public let size: Int

  public init(size: Int = 2) { self.size = size }

  public override func callAsFunction(_ x: Var) -> Var {
    require(
      x.rank == 4, "MaxPool2D: input must be [n, channels, height, width], got \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let x = x.guardingShape(for: summary)
    let patches = x.reshaped([n * c, 1, h, w]).unfolded(kernelSize: size, stride: size)
    return patches.max(along: 1).reshaped([n, c, h / size, w / size])
  }

  public override var summary: String { "MaxPool2D(\(size)×\(size))" }
}
