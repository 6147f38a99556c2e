/// Stops the program with `message` when `condition` is false, in every build configuration.
///
/// The standard library's `precondition` drops its message in optimized builds, where a user
/// of `swift run -c release` would see only a backtrace. The library's messages name the op
/// and the shapes involved, so every programming-error check goes through this function.
@inlinable @inline(__always)
func require(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
  file: StaticString = #fileID, line: UInt = #line
) {
  if !condition() { fatalError(message(), file: file, line: line) }
}
