// swift-tools-version: 6.0
// Runs the notebooks: `make notebooks` writes a notebook's Swift blocks into
// Sources/notebook/main.swift and compares the program's output with its text blocks.
import PackageDescription

let package = Package(
  name: "NotebookRunner",
  dependencies: [.package(name: "Autodiff", path: "../..")],
  targets: [
    .executableTarget(
      name: "notebook",
      dependencies: [
        .product(name: "Autodiff", package: "Autodiff"),
        .product(name: "NeuralNetworks", package: "Autodiff"),
      ])
  ],
  swiftLanguageModes: [.v6]
)
