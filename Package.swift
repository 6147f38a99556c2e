// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "Autodiff",
  products: [
    .library(name: "Autodiff", targets: ["Autodiff"]),
    .executable(name: "examples", targets: ["examples"]),
    .executable(name: "benchmarks", targets: ["benchmarks"]),
  ],
  targets: [
    .target(name: "CKernels"),
    .target(name: "Autodiff", dependencies: ["CKernels"]),
    .executableTarget(name: "examples", dependencies: ["Autodiff"]),
    .executableTarget(name: "benchmarks", dependencies: ["Autodiff"]),
    .testTarget(name: "AutodiffTests", dependencies: ["Autodiff", "CKernels"]),
  ],
  swiftLanguageModes: [.v6]
)
