// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "Autodiff",
  products: [
    .library(name: "Autodiff", targets: ["Autodiff"]),
    .library(name: "NeuralNetworks", targets: ["NeuralNetworks"]),
    .executable(name: "examples", targets: ["examples"]),
    .executable(name: "benchmarks", targets: ["benchmarks"]),
  ],
  targets: [
    .target(name: "CKernels"),
    .target(name: "Autodiff", dependencies: ["CKernels"]),
    .target(name: "NeuralNetworks", dependencies: ["Autodiff"], resources: [.copy("Resources")]),
    .executableTarget(name: "examples", dependencies: ["Autodiff", "NeuralNetworks"]),
    .executableTarget(name: "checks", dependencies: ["Autodiff", "NeuralNetworks"]),
    .executableTarget(
      name: "benchmarks", dependencies: ["Autodiff", "NeuralNetworks"], exclude: ["peers"]),
    .testTarget(name: "AutodiffTests", dependencies: ["Autodiff", "CKernels"]),
    .testTarget(
      name: "NeuralNetworksTests", dependencies: ["Autodiff", "NeuralNetworks"],
      resources: [.copy("Golden")]),
  ],
  swiftLanguageModes: [.v6]
)
