extension GradientCheck {
  /// The gradient check of every op in the library, with input domains that avoid kinks and
  /// undefined points. `swift run -c release examples gradcheck` runs them all.
  public static let all: [GradientCheck] = [
    // Elementwise arithmetic with broadcasting.
    add, addBroadcast, addBroadcastBoth, subtract, multiply, multiplyBroadcast, multiplySelf,
    divide, negate, powConstant, powCube, powVariable, maximum, minimum,
    // Unary functions.
    exp, log, sqrt, abs, square, reciprocal, sin, cos, tan, tanh, sigmoid, relu, leakyRelu,
    elu, softplus, softsign, clamp, sign,
    // Matrix and shape.
    matmul, matmulLarge, matmulTransposedA, matmulTransposedB, matmulTransposedBoth, matmulRows,
    matmulRowsTransposed, matmulBatched, matmulBatchedTransposedA, matmulBatchedTransposedB,
    matmulBatchedTransposedBoth, matmulBatchedBroadcast, matmulMatrixTimesStack,
    matmulStackTransposedTimesMatrix, matmulMatrixTimesStackTransposed,
    matmulBatchedBroadcastTransposedBoth, affineProduct, affineProductTransposed,
    transpose, permute, reshape, slice, last, pad, shapeGuard, concatenate, split, stack, gather,
    gatherColumns,
    gatherRows,
    broadcast, sumToShape, oneHot,
    // Reductions.
    sum, sumAlongAxis, sumKeepingDimensions, mean, meanAlongAxis, max, maxAlongAxis, logSumExp,
    // Softmax and losses.
    softmax, softmaxAxis0, causalSoftmax, causalSoftmaxRectangular, logSoftmax, meanSquaredError,
    binaryCrossEntropy, binaryCrossEntropySum,
    binaryCrossEntropyLogits, crossEntropy, crossEntropySmoothed, crossEntropyIgnoringPadding,
    crossEntropySoft, negativeLogLikelihood,
    gaussianKLDivergence,
    // Layers' building blocks.
    dropout, standardNormal, composite, compositeChain, compositeRepeated, unfold, lstmCellState,
    lstmHiddenState, lstmStep, lstmSequence, lstmSequenceBatchMajor, attention, attentionCausal,
    layerNormalization,
    // Dtype promotion.
    convert,
  ]
}
