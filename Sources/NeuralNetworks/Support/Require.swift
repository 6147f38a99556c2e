/// Stops the program with `message` when `condition` is false, in every build configuration
/// (the standard library's `precondition` drops its message in optimized builds).
@inline(__always)
func require(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
  file: StaticString = #fileID, line: UInt = #line
) {
  if !condition() { fatalError(message(), file: file, line: line) }
}
