import Autodiff

/// Images drawn as grids of pixels, side by side with captions: Hopfield states, digits and
/// their reconstructions, samples of a generative model, the decoded grid of a 2-D latent
/// space, weight matrices as heat maps.
///
/// ```swift
/// // Ten 8×8 digits, one per row of a [10, 64] tensor, dark ink on white:
/// let grid = PixelGrid(
///   rows: digits, imageHeight: 8, imageWidth: 8, captions: labels.map(String.init))
/// try grid.write(to: URL(fileURLWithPath: "figures/digits.svg"))
/// ```
///
/// All images share one colour scale, so equal values look equal everywhere. A NaN pixel is
/// drawn magenta, a colour no colour map uses.
public struct PixelGrid: Figure {
  /// One image: `height` rows of `width` values, row-major.
  public struct Image: Sendable {
    public var pixels: [Double]
    public var width: Int
    public var height: Int
    /// The text under the image; empty for none.
    public var caption: String

    /// - Precondition: `pixels` has `width · height` values; both are positive.
    public init(pixels: [Double], width: Int, height: Int, caption: String = "") {
      require(
        width > 0 && height > 0 && pixels.count == width * height,
        "PixelGrid.Image: \(pixels.count) pixels do not fill \(height) × \(width)")
      self.pixels = pixels
      self.width = width
      self.height = height
      self.caption = caption
    }

    /// A matrix as an image, row i of the matrix as row i of pixels.
    ///
    /// - Precondition: `matrix` has rank 2.
    public init(_ matrix: Tensor, caption: String = "") {
      require(matrix.rank == 2, "PixelGrid.Image: needs a matrix, got shape \(matrix.shape)")
      self.init(
        pixels: matrix.scalars, width: matrix.shape[1], height: matrix.shape[0], caption: caption)
    }
  }

  /// How values map to colours.
  public enum ColorMap: Sendable {
    /// The lowest value black, the highest white (photographs, activations).
    case grayscale
    /// The lowest value white, the highest black, like ink on paper (digits, letters,
    /// Hopfield states with +1 as ink).
    case ink
    /// Negative blue, zero white, positive red, with a range symmetric about zero (weights,
    /// gradients).
    case diverging
  }

  public var title: String
  public var images: [Image]
  /// Images per row of the grid.
  public var columns: Int
  public var colorMap: ColorMap
  /// The values mapped to the two ends of the colour map (values outside are clamped), or
  /// nil for the smallest and largest value of all the images (for ``ColorMap/diverging``,
  /// minus and plus the largest magnitude).
  public var range: ClosedRange<Double>?
  /// The side of one pixel on the canvas.
  public var pixelSize: Double

  /// - Parameters:
  ///   - columns: Images per row; nil for up to 10.
  ///   - pixelSize: Pixels on the canvas per image pixel; nil to make images about 96
  ///     pixels wide.
  public init(
    title: String = "", images: [Image], columns: Int? = nil, colorMap: ColorMap = .ink,
    range: ClosedRange<Double>? = nil, pixelSize: Double? = nil
  ) {
    require(columns.map { $0 > 0 } ?? true, "PixelGrid: columns must be positive")
    if let range {
      require(
        range.lowerBound.isFinite && range.upperBound.isFinite,
        "PixelGrid: range \(range) is not finite")
    }
    self.title = title
    self.images = images
    self.columns = columns ?? max(1, min(images.count, 10))
    self.colorMap = colorMap
    self.range = range
    let largest = images.map { max($0.width, $0.height) }.max() ?? 1
    self.pixelSize = pixelSize ?? max(1, min(24, (96 / Double(largest)).rounded(.down)))
    require(self.pixelSize > 0 && self.pixelSize.isFinite, "PixelGrid: pixel size must be positive")
  }

  /// One image per row of `rows`, a `[n, imageHeight · imageWidth]` tensor (or a rank-3
  /// `[n, imageHeight, imageWidth]` one).
  ///
  /// - Precondition: the shape matches; `captions` is empty or has one caption per image.
  public init(
    title: String = "", rows: Tensor, imageHeight: Int, imageWidth: Int, captions: [String] = [],
    columns: Int? = nil, colorMap: ColorMap = .ink, range: ClosedRange<Double>? = nil,
    pixelSize: Double? = nil
  ) {
    let size = imageHeight * imageWidth
    require(
      rows.rank >= 1 && rows.count == (rows.shape.first ?? 0) * size && size > 0,
      "PixelGrid: a tensor of shape \(rows.shape) is not rows of \(imageHeight) × \(imageWidth) images"
    )
    let n = rows.shape[0]
    require(
      captions.isEmpty || captions.count == n,
      "PixelGrid: \(captions.count) captions for \(n) images")
    let all = rows.scalars
    let images = (0..<n).map { i in
      Image(
        pixels: Array(all[(i * size)..<((i + 1) * size)]), width: imageWidth, height: imageHeight,
        caption: captions.isEmpty ? "" : captions[i])
    }
    self.init(
      title: title, images: images, columns: columns, colorMap: colorMap, range: range,
      pixelSize: pixelSize)
  }

  public var svg: String {
    let (low, high) = resolvedRange()
    let gap = 10.0
    let margin = 12.0
    let hasCaptions = images.contains { !$0.caption.isEmpty }
    let cellWidth = Double(images.map(\.width).max() ?? 1) * pixelSize
    let cellHeight = Double(images.map(\.height).max() ?? 1) * pixelSize + (hasCaptions ? 18 : 0)
    let columnCount = max(1, min(columns, images.count))
    let rowCount = (images.count + columnCount - 1) / columnCount
    let top = margin + (title.isEmpty ? 0 : 26)
    let gridWidth = Double(columnCount) * cellWidth + Double(columnCount - 1) * gap
    let width = max(
      gridWidth + 2 * margin, title.isEmpty ? 0 : estimatedWidth(of: title, size: 15) + 2 * margin
    )
    let height = top + Double(rowCount) * cellHeight + Double(max(rowCount - 1, 0)) * gap + margin
    var writer = SVGWriter(width: max(width, 20), height: max(height, 20))
    if !title.isEmpty {
      writer.text(
        title, at: Point(writer.width / 2, margin + 14), anchor: .middle, size: 15, bold: true,
        class: "title")
    }
    let left = (writer.width - gridWidth) / 2
    for (index, image) in images.enumerated() {
      let (row, column) = (index / columnCount, index % columnCount)
      let x0 = left + Double(column) * (cellWidth + gap)
      let y0 = top + Double(row) * (cellHeight + gap)
      let imageWidth = Double(image.width) * pixelSize
      writer.beginGroup([
        ("class", "image"), ("id", "image-\(index)"), ("shape-rendering", "crispEdges"),
      ])
      for r in 0..<image.height {
        // One rectangle per run of equal colours along the row.
        var c = 0
        while c < image.width {
          let color = self.color(image.pixels[r * image.width + c], low, high)
          var end = c + 1
          while end < image.width
            && self.color(image.pixels[r * image.width + end], low, high) == color
          {
            end += 1
          }
          writer.element(
            "rect",
            numbers: [
              ("x", x0 + Double(c) * pixelSize), ("y", y0 + Double(r) * pixelSize),
              ("width", Double(end - c) * pixelSize), ("height", pixelSize),
            ], [("fill", color.hex)])
          c = end
        }
      }
      writer.rect(
        x: x0, y: y0, width: imageWidth, height: Double(image.height) * pixelSize, fill: nil,
        stroke: Color(hex: "8c8c8c"), strokeWidth: 1, class: "border")
      writer.endGroup()
      if !image.caption.isEmpty {
        writer.text(
          truncated(image.caption, toWidth: cellWidth + gap - 2, size: 11),
          at: Point(x0 + imageWidth / 2, y0 + Double(image.height) * pixelSize + 13),
          anchor: .middle, size: 11, class: "caption")
      }
    }
    return writer.text
  }

  /// The values at the two ends of the colour map.
  private func resolvedRange() -> (Double, Double) {
    if let range, range.lowerBound < range.upperBound {
      return (range.lowerBound, range.upperBound)
    }
    let values = range.map { [$0.lowerBound] } ?? images.flatMap(\.pixels).filter(\.isFinite)
    let (low, high) = (values.min() ?? 0, values.max() ?? 1)
    if colorMap == .diverging {
      let largest = max(abs(low), abs(high))
      return largest > 0 ? (-largest, largest) : (-1, 1)
    }
    return low < high ? (low, high) : (low - 0.5, high + 0.5)
  }

  /// The colour of `value` on a scale from `low` to `high`, in 8-bit steps.
  private func color(_ value: Double, _ low: Double, _ high: Double) -> Color {
    guard !value.isNaN else { return .missing }
    let t = min(max((value - low) / (high - low), 0), 1)
    switch colorMap {
    case .grayscale:
      let v = UInt8((t * 255).rounded())
      return Color(red: v, green: v, blue: v)
    case .ink:
      let v = UInt8(((1 - t) * 255).rounded())
      return Color(red: v, green: v, blue: v)
    case .diverging:
      // Towards blue below the middle, towards red above it.
      let (blue, red) = (Color(hex: "2c62a8"), Color(hex: "c0392b"))
      return t < 0.5 ? blue.lightened((t / 0.5)) : red.lightened((1 - t) / 0.5)
    }
  }
}
