# Turns the ```swift blocks of a Markdown file into one Swift program, so that the code the
# README and docs/ show is compiled and run (Notebooks/run.sh does both).
#
# - `import` lines go to the top, once each.
# - A block that declares something at top level (an extension, a type, a function) stays
#   at top level, so that later blocks can use it.
# - Any other block runs in its own `do { }` scope, so that two blocks may both say
#   `var rng = …`.
# - A block right after a line `<!-- not compiled: why -->` is left out (a Package.swift
#   fragment, say).
/^```swift[[:space:]]*$/ {
  inside = 1; skip = (previous ~ /<!-- not compiled/); count = 0; declares = 0
  next
}
inside && /^```/ {
  inside = 0
  if (!skip) {
    body = body "// block " ++blocks "\n"
    if (!declares) body = body "do {\n"
    for (i = 1; i <= count; i++) body = body (declares ? "" : "  ") lines[i] "\n"
    if (!declares) body = body "}\n"
  }
  next
}
inside {
  if ($0 ~ /^import [A-Za-z]+[[:space:]]*$/) {
    if (!($0 in imported)) { imported[$0] = 1; imports = imports $0 "\n" }
    next
  }
  if ($0 ~ /^(public |private |fileprivate |final |@[A-Za-z]+ )*(extension|actor|struct|class|enum|protocol|func) /) declares = 1
  lines[++count] = $0
  next
}
NF { previous = $0 }
END { printf "%s\n%s", imports, body }
