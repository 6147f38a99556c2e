/// A colour of a figure, as 8-bit red, green and blue.
///
/// ```swift
/// Color(red: 255, green: 128, blue: 0).hex  // "#ff8000"
/// Color.palette[0].hex                      // "#1b6ca8", the first series' colour
/// ```
public struct Color: Hashable, Sendable {
  public var red: UInt8
  public var green: UInt8
  public var blue: UInt8

  public init(red: UInt8, green: UInt8, blue: UInt8) {
    self.red = red
    self.green = green
    self.blue = blue
  }

  /// A colour from six hexadecimal digits, with or without a leading `#`.
  ///
  /// - Precondition: `hex` is six hexadecimal digits after the optional `#`.
  public init(hex: String) {
    let digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
    let value = UInt32(digits, radix: 16)
    require(digits.count == 6 && value != nil, "Color: '\(hex)' is not six hexadecimal digits")
    self.init(
      red: UInt8(value! >> 16 & 0xFF), green: UInt8(value! >> 8 & 0xFF), blue: UInt8(value! & 0xFF))
  }

  /// The colour as `#rrggbb`, the form SVG attributes take.
  public var hex: String {
    let digits = Array("0123456789abcdef")
    return "#"
      + [red, green, blue].map { String([digits[Int($0 >> 4)], digits[Int($0 & 0xF)]]) }.joined()
  }

  /// The colour mixed with white: 0 keeps it, 1 gives white.
  public func lightened(_ amount: Double) -> Color {
    let t = min(max(amount, 0), 1)
    func mix(_ c: UInt8) -> UInt8 { UInt8((Double(c) + (255 - Double(c)) * t).rounded()) }
    return Color(red: mix(red), green: mix(green), blue: mix(blue))
  }

  public static let black = Color(red: 0, green: 0, blue: 0)
  public static let white = Color(red: 255, green: 255, blue: 255)

  /// The colours given to series and classes that do not choose their own, in order: series
  /// (or class) k gets `palette[k % palette.count]`. Neighbours differ in lightness as well
  /// as hue, so that the first few stay apart for readers with a colour-vision deficiency.
  public static let palette: [Color] = [
    Color(hex: "1b6ca8"),  // blue
    Color(hex: "e07b12"),  // orange
    Color(hex: "2a9d5c"),  // green
    Color(hex: "c8384a"),  // red
    Color(hex: "7a4fb3"),  // purple
    Color(hex: "8a5a34"),  // brown
    Color(hex: "d65fa8"),  // pink
    Color(hex: "5c6470"),  // slate
    Color(hex: "a39b14"),  // olive
    Color(hex: "199bb0"),  // teal
  ]

  /// The palette's colour for series or class `index`.
  public static func palette(_ index: Int) -> Color {
    palette[((index % palette.count) + palette.count) % palette.count]
  }

  // Greys used for frames, grid lines and secondary text.
  static let axis = Color(hex: "333333")
  static let grid = Color(hex: "e3e3e3")
  static let secondaryText = Color(hex: "555555")
  /// Marks a value that could not be drawn (a NaN pixel).
  static let missing = Color(hex: "ff00ff")
}
