import Foundation

/// A picture that renders as a standalone SVG document.
///
/// The figure types (``LineChart``, ``ScatterPlot``, ``BarChart``, ``PixelGrid`` and
/// ``GraphPicture``) are values: build one, set its properties, then read ``svg`` or call
/// ``write(to:)``. The same data always gives the same text, byte for byte (coordinates
/// have at most two decimals), so figures can be committed and compared.
///
/// ```swift
/// let losses = [0.9, 0.5, 0.31, 0.2, 0.14]
/// let chart = LineChart(
///   title: "Training", xAxis: Axis("epoch"), yAxis: Axis("loss", scale: .logarithmic),
///   series: [.init("training loss", y: losses)])
/// try chart.write(to: URL(fileURLWithPath: "loss.svg"))
/// ```
public protocol Figure {
  /// The figure as an SVG document (UTF-8 text with an XML declaration).
  var svg: String { get }
}

extension Figure {
  /// Writes ``svg`` to `url` atomically, creating the directory if needed.
  ///
  /// - Throws: The file system's error when the directory or the file cannot be written.
  public func write(to url: URL) throws {
    try FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(svg.utf8).write(to: url, options: .atomic)
  }
}
