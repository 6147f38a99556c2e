import Autodiff

extension Datasets {
  /// The course's four mutually orthogonal 16-bit patterns, rows of ±1, with labels 0…3.
  ///
  /// ```
  /// + + + + + + + + − − − − − − − −
  /// + + + + − − − − + + + + − − − −
  /// + − + − + − + − + − + − + − + −
  /// + + − − + + − − + + − − + + − −
  /// ```
  /// Stored by the Hebbian rule without bias, W = XᵀX/4 − I, they satisfy X·W = 3X.
  public static func orthogonalPatterns(dtype: DType = .default) -> Dataset {
    let rows: [[Double]] = [
      (0..<16).map { $0 < 8 ? 1 : -1 },
      (0..<16).map { $0 % 8 < 4 ? 1 : -1 },
      (0..<16).map { $0 % 2 == 0 ? 1 : -1 },
      (0..<16).map { $0 % 4 < 2 ? 1 : -1 },
    ]
    return Dataset(inputs: Tensor(rows, dtype: dtype), targets: Tensor([0, 1, 2, 3], dtype: dtype))
  }

  /// The names of the ``letters(dtype:)``, by label.
  public static let letterNames = ["A", "B", "C", "E"]

  /// 6×6 bitmaps of the letters A, B, C and E as rows of 36 pixels, +1 for ink and −1 for
  /// background, row by row from the top, with labels 0…3.
  ///
  /// ```
  /// ..###.   ####..   .#####   .####.
  /// .#...#   ##..#.   #....#   .#....
  /// .#...#   ##..#.   #.....   .###..
  /// .#####   #####.   #.....   .#....
  /// .#...#   ##..#.   #....#   .#....
  /// .#...#   ####..   .#####   .####.
  /// ```
  /// The course shows its letters only as images and reports their Gram matrix; these
  /// were drawn to have exactly that Gram matrix (A, B and C mutually orthogonal, E close
  /// to all three):
  /// ```
  /// X Xᵀ = [[36, 0, 0, 8], [0, 36, 0, 4], [0, 0, 36, 8], [8, 4, 8, 36]]
  /// ```
  public static func letters(dtype: DType = .default) -> Dataset {
    let bitmaps = [
      """
      ..###.
      .#...#
      .#...#
      .#####
      .#...#
      .#...#
      """,
      """
      ####..
      ##..#.
      ##..#.
      #####.
      ##..#.
      ####..
      """,
      """
      .#####
      #....#
      #.....
      #.....
      #....#
      .#####
      """,
      """
      .####.
      .#....
      .###..
      .#....
      .#....
      .####.
      """,
    ]
    let rows = bitmaps.map { bitmap in
      bitmap.filter { $0 != "\n" }.map { $0 == "#" ? 1.0 : -1.0 }
    }
    return Dataset(inputs: Tensor(rows, dtype: dtype), targets: Tensor([0, 1, 2, 3], dtype: dtype))
  }
}
