import Autodiff
import NeuralNetworks
import Testing

@Suite("Layers")
struct LayerTests {
  @Test func dropoutScalesInTrainingAndIsIdentityInEvaluation() {
    let layer = Dropout(rate: 0.5, seed: 1)
    let x = Var(Tensor.ones([100, 100], dtype: .float32))
    let y = layer(x)
    let values = y.value.scalars
    #expect(Set(values).isSubset(of: [0, 2]))
    let kept = Double(values.filter { $0 == 2 }.count) / Double(values.count)
    #expect(abs(kept - 0.5) < 0.03)
    y.sum().backward()
    #expect(zip(x.grad!.scalars, values).allSatisfy { $0 == $1 })  // gradient = mask
    layer.isTraining = false
    y.evaluate()
    #expect(y.value == x.value)
    layer.isTraining = true
    y.evaluate()
    #expect(y.value.scalars != values)  // a fresh mask each evaluation
  }

  @Test func batchNormGradientCheckInTraining() {
    let check = GradientCheck("BatchNorm", inputs: [.init([5, 3])]) { x in
      let norm = BatchNorm(features: 3, dtype: .float64)
      return norm(x[0] * x[0] + x[0]) * Var.constant(Tensor([1, 2, 3], dtype: .float64))
    }
    #expect(check.run().passed)
  }

  @Test func batchNormNormalizesAndTracksRunningStatistics() {
    var rng = SeededGenerator(seed: 2)
    let norm = BatchNorm(features: 2, momentum: 1, dtype: .float64)
    let data = Tensor.normal(
      [1000, 2], mean: 5, standardDeviation: 3, dtype: .float64, using: &rng)
    let y = norm(Var(data)).value
    let column0 = (0..<1000).map { y[$0, 0] }
    let mean = column0.reduce(0, +) / 1000
    let variance = column0.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 1000
    #expect(abs(mean) < 1e-9)
    #expect(abs(variance - 1) < 1e-3)
    #expect(abs(norm.runningMean[0] - 5) < 0.3)
    norm.isTraining = false
    let z = norm(Var(Tensor([[5, 5]], dtype: .float64))).value
    #expect(abs(z[0, 0]) < 0.1)
  }

  @Test func layerNormGradientCheck() {
    let check = GradientCheck("LayerNorm", inputs: [.init([3, 4])]) { x in
      LayerNorm(features: 4, dtype: .float64)(x[0])
    }
    #expect(check.run().passed)
  }

  @Test func embeddingAccumulatesRepeatedRows() {
    var rng = SeededGenerator(seed: 3)
    let embedding = Embedding(count: 5, dimension: 2, dtype: .float64, using: &rng)
    let tokens = Var.constant(Tensor([[1, 3], [1, 1]]))
    let y = embedding(tokens)
    #expect(y.shape == [2, 2, 2])
    y.sum().backward()
    #expect(embedding.table.grad!.rowScalars == [[0, 0], [3, 3], [0, 0], [1, 1], [0, 0]])
  }

  /// The convolution against a direct sum over the window.
  @Test func conv2DMatchesADirectConvolution() {
    var rng = SeededGenerator(seed: 4)
    let conv = Conv2D(
      inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1, dtype: .float64, using: &rng)
    let x = Tensor.normal([2, 2, 5, 6], dtype: .float64, using: &rng)
    let y = conv(Var(x)).value
    #expect(y.shape == [2, 3, 5, 6])
    let k = conv.weight.value
    for (b, o, i, j) in [(0, 0, 0, 0), (1, 2, 4, 5), (0, 1, 2, 3), (1, 0, 4, 0)] {
      var total = 0.0
      for c in 0..<2 {
        for di in 0..<3 {
          for dj in 0..<3 {
            let (yy, xx) = (i + di - 1, j + dj - 1)
            if yy >= 0 && yy < 5 && xx >= 0 && xx < 6 {
              total += x[b, c, yy, xx] * k[(c * 3 + di) * 3 + dj, o]
            }
          }
        }
      }
      #expect(abs(y[b, o, i, j] - total) < 1e-12)
    }
    var lenet = SeededGenerator(seed: 5)
    let c1 = Conv2D(inputChannels: 1, outputChannels: 6, kernelSize: 5, using: &lenet)
    #expect(c1(Var(Tensor.zeros([1, 1, 28, 28], dtype: .float32))).shape == [1, 6, 24, 24])
  }

  @Test func conv2DAndPoolingGradientCheck() {
    let check = GradientCheck("Conv2D + MaxPool2D", inputs: [.init([2, 1, 6, 6])]) { x in
      var rng = SeededGenerator(seed: 6)
      let conv = Conv2D(
        inputChannels: 1, outputChannels: 2, kernelSize: 3, padding: 1, dtype: .float64, using: &rng
      )
      return MaxPool2D(size: 2)(conv(x[0]).tanh())
    }
    #expect(check.run().passed)
  }

  @Test func maxPoolPicksWindowMaxima() {
    let x = Var(Tensor((0..<16).map(Double.init), shape: [1, 1, 4, 4]))
    let y = MaxPool2D(size: 2)(x)
    #expect(y.value.scalars == [5, 7, 13, 15])
  }

  @Test func residualAndFlatten() {
    var rng = SeededGenerator(seed: 7)
    let block = Residual(Linear(inputSize: 3, outputSize: 3, dtype: .float64, using: &rng))
    let x = Var(Tensor([[1, 2, 3]], dtype: .float64))
    let inner = (block.body as! Linear)(x).value
    #expect(block(x).value.scalars == zip(inner.scalars, [1.0, 2, 3]).map { $0 + $1 })
    #expect(Flatten()(Var(Tensor.zeros([2, 3, 4]))).shape == [2, 12])
  }

  @Test func perceptronLearnsASeparableSet() throws {
    var rng = SeededGenerator(seed: 8)
    var x = Tensor.uniform([100, 2], in: -1...1, dtype: .float32, using: &rng)
    var t: [Double] = []
    for i in 0..<100 {
      if abs(x[i, 0] + x[i, 1]) < 0.1 { x[i, 0] += 0.3 }  // keep a margin
      t.append(x[i, 0] + x[i, 1] > 0 ? 1 : 0)
    }
    let model = Perceptron(inputSize: 2, using: &rng)
    let trainer = Trainer(
      model: model, optimizer: SGD(learningRate: 0.5),
      loss: { perceptronLoss(scores: $0, targets: $1) })
    trainer.showsProgress = false
    let targets = Tensor(t, shape: [100, 1], dtype: .float32)
    try trainer.fit(Dataset(inputs: x, targets: targets), epochs: 100, batchSize: 10)
    #expect(model.classify(x).scalars == t)
  }
}

@Suite("Layer gradient checks")
struct LayerGradientCheckTests {
  @Test func embeddingLayerParameters() {
    // Central differences on the layer's own table, re-evaluating the built graph.
    var rng = SeededGenerator(seed: 2)
    let embedding = Embedding(count: 4, dimension: 2, dtype: .float64, using: &rng)
    let tokens = Var.constant(Tensor([[3, 1], [1, 1]]))
    let y = (embedding(tokens).squared() * Var.constant(Tensor([1, -2], dtype: .float64))).sum()
    y.backward()
    let analytic = embedding.table.grad!
    let h = 1e-6
    for i in 0..<analytic.count {
      var t = embedding.table.value
      t[flat: i] += h
      embedding.table.set(t)
      y.evaluate()
      let plus = y.value.scalar
      t[flat: i] -= 2 * h
      embedding.table.set(t)
      y.evaluate()
      let minus = y.value.scalar
      t[flat: i] += h
      embedding.table.set(t)
      #expect(abs((plus - minus) / (2 * h) - analytic[flat: i]) < 1e-6)
    }
  }

  @Test func residualFlattenAndActivations() {
    let check = GradientCheck("Residual + Flatten + activations", inputs: [.init([2, 2, 3])]) { x in
      var rng = SeededGenerator(seed: 3)
      let net = Sequential(
        Flatten(),
        Residual(
          Sequential(
            Linear(inputSize: 6, outputSize: 6, dtype: .float64, using: &rng),
            Activation(.elu(alpha: 1)))),
        Activation(.softplus), Linear(inputSize: 6, outputSize: 2, dtype: .float64, using: &rng),
        Activation(.leakyRelu(alpha: 0.1)))
      return net(x[0])
    }
    #expect(check.run().passed)
  }
}

@Suite("Data loader")
struct DataLoaderTests {
  @Test func epochsReshuffleAndKeepTheLastBatch() {
    let data = Dataset(
      inputs: Tensor((0..<300).map(Double.init), shape: [300, 1]), targets: Tensor.zeros([300]))
    var loader = DataLoader(data, batchSize: 38, seed: 1)
    let first = loader.nextEpoch()
    let second = loader.nextEpoch()
    #expect(first.map(\.count) == Array(repeating: 38, count: 7) + [34])
    #expect(loader.batchCount == 8)
    #expect(first[0].inputs.scalars != second[0].inputs.scalars)
    let all = first.flatMap { $0.inputs.scalars }.sorted()
    #expect(all == (0..<300).map(Double.init))
  }
}
