#!/usr/bin/env bash
# Mutation testing: do the tests notice a realistic bug?
#
# Each mutation below is one small, plausible bug: a wrong sign or factor in a backward
# rule, an off-by-one in a kernel, a dropped accumulation, an optimizer step written from
# memory. The script copies the working tree to a scratch directory (the working tree is
# never touched, so an interrupted run loses nothing), then for each mutation: restores the
# file, applies the mutation, builds the tests, runs them, and records whether they caught
# it. A mutation the tests do not notice is a survivor: it needs a test that kills it, or,
# if it cannot change any observable behaviour, a `survives:` line saying why.
#
#   scripts/mutants.sh                 every mutation (about a minute each)
#   scripts/mutants.sh 3 7-9 'adam-*'  a subset, by number, range or name pattern
#   scripts/mutants.sh --list          the numbered list
#   scripts/mutants.sh --check         only check that every mutation still applies
#
# Options: --no-baseline skips the unmutated run that checks the tests pass to begin with.
# Environment: MUTANTS_DIR (scratch directory, kept between runs for incremental builds;
# default $TMPDIR/autodiff-mutants), MUTANTS_TIMEOUT (seconds per test run; by default
# four times the unmutated run, at least 180, or 600 without it: a mutation that makes the
# tests hang counts as caught), SWIFT (default swift).
#
# Each mutation's `from:` text must occur exactly once in its file, or the script stops
# before running anything: the list cannot rot silently as the code changes. A mutation
# that no longer compiles counts as invalid, not as caught, and fails the run too.
#
# Exit status: 0 when at least 95% of the mutations run are caught and none is invalid,
# 1 otherwise, 2 when the list or the unmutated tests are broken.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
scratch=${MUTANTS_DIR:-${TMPDIR:-/tmp}/autodiff-mutants}
timeout_seconds=${MUTANTS_TIMEOUT:-600}
swift=${SWIFT:-swift}
threshold=95

# The mutations. A record starts with `== name` and has:
#   file:      the file, from the package root
#   what:      the bug, in one line
#   from:      the exact original text (several lines are joined with newlines)
#   to:        its replacement (several lines are joined; none or an empty one deletes)
#   survives:  for a mutation that cannot change observable behaviour, the reason
mutations() {
  cat <<'LIST'
# ---- Ops -------------------------------------------------------------------------------

== softmax-no-max-shift
file: Sources/Autodiff/Ops/Activations/Softmax.swift
what: softmax and log-softmax do not subtract the row maximum (e^1000 overflows)
from: for l in 0..<length { m = Swift.max(m, xp[base + l * inner]) }
to:

== softmax-backward-sign
file: Sources/Autodiff/Ops/Activations/Softmax.swift
what: the softmax backward adds the dot product s·y instead of subtracting it
from: yp[k] * (sp[k] - dot)
to: yp[k] * (sp[k] + dot)

== log-sum-exp-drops-max
file: Sources/Autodiff/Ops/Reductions/LogSumExp.swift
what: log-sum-exp shifts by the maximum and forgets to add it back
from: yp[o * inner + i] = m + T.log(total)
to: yp[o * inner + i] = T.log(total)

== tanh-derivative-of-input
file: Sources/Autodiff/Ops/Activations/Tanh.swift
what: tanh's derivative written from the input, 1 − x², instead of the output, 1 − y²
from: 1 - y * y
to: 1 - x * x

== sigmoid-negative-branch
file: Sources/Autodiff/Ops/Activations/Sigmoid.swift
what: the stable sigmoid's branch for x < 0 computes 1 / (1 + eˣ), which is σ(−x)
from: return e / (1 + e)
to: return 1 / (1 + e)

== divide-derivative-sign
file: Sources/Autodiff/Ops/Arithmetic/Divide.swift
what: ∂(a / b)/∂b loses its minus sign
from: (1 / b, -y / b)
to: (1 / b, y / b)

== multiply-arguments-swapped
file: Sources/Autodiff/Ops/Arithmetic/Multiply.swift
what: the product rule gives each argument its own value instead of the other's
from: (b, a)
to: (a, b)

== sum-along-axis-strides-wrong-axis
file: Sources/Autodiff/Ops/Reductions/Sum.swift
what: sum(along:) over an inner axis steps through the data by 1 instead of by the axis stride
from: let row = base + l * inner
to: let row = base + l

== count-along-last-axis
file: Sources/Autodiff/Ops/Reductions/Count.swift
what: count(along:), the divisor of mean(along:), counts the last axis whatever the axis
from: let n = axis.map { x.shape[$0] } ?? x.count
to: let n = axis.map { _ in x.shape[x.rank - 1] } ?? x.count

== cross-entropy-mean-over-padding
file: Sources/Autodiff/Ops/Losses/CrossEntropy.swift
what: the mean cross-entropy divides by every row, padded (label −1) rows included
from: return Swift.max(count, 1)
to: return Swift.max(rows, 1)

== lstm-cell-gate-order
file: Sources/Autodiff/Ops/Layers/LSTMCell.swift
what: the fused LSTM cell swaps the forget and input gates (f ⊙ c + i ⊙ g)
from: for j in 0..<h { y[j] = g[j] * cr[j] + g[h + j] * g[2 * h + j] }
to: for j in 0..<h { y[j] = g[h + j] * cr[j] + g[j] * g[2 * h + j] }

== lstm-sequence-gate-order
file: Sources/Autodiff/Ops/Layers/LSTMSequence.swift
what: the fused LSTM sequence swaps the forget and input gates
from: for j in 0..<h { c[j] = g[j] * cOld[j] + g[h + j] * g[2 * h + j] }
to: for j in 0..<h { c[j] = g[h + j] * cOld[j] + g[j] * g[2 * h + j] }

== thread-chunks-drop-the-remainder
file: Sources/Autodiff/Kernels/ComputeSettings.swift
what: work split in chunks over threads (the LSTM sequence's batch) loses the last partial chunk
from: let chunks = (units + chunk - 1) / max(chunk, 1)
to: let chunks = units / max(chunk, 1)

== lstm-sequence-backward-ignores-forget-gate
file: Sources/Autodiff/Ops/Layers/LSTMSequence.swift
what: backpropagation through time carries ∂c to the previous step without the forget gate
from: dcr[j] = dCell * f
to: dcr[j] = dCell

# ---- Graph core --------------------------------------------------------------------------

== gradient-accumulation-overwrites
file: Sources/Autodiff/Graph/Backward.swift
what: a second contribution to a gradient replaces the first instead of adding to it
from: Kernels.addInPlace(contribution, into: storedGrad!.buffer.pointer)
to: storedGrad!.assign(contribution)

== backward-sweeps-in-forward-order
file: Sources/Autodiff/Graph/Backward.swift
what: the backward sweep visits nodes in topological order instead of reverse order
from: for node in below.reversed() { node.propagate() }
to: for node in below { node.propagate() }

== stale-gradients-not-reset
file: Sources/Autodiff/Graph/Backward.swift
what: intermediate gradients are not marked stale, so a second backward adds to them
from: for node in below where !node.isLeaf { node.markGradientStale() }
to:

== topological-order-revisits-shared-nodes
file: Sources/Autodiff/Graph/TopologicalOrder.swift
what: the depth-first search does not remember visited nodes; shared nodes appear twice
from: if visited.insert(ObjectIdentifier(arg)).inserted { stack.append((arg, 0)) }
to: stack.append((arg, 0))

== differentiable-sweep-overwrites
file: Sources/Autodiff/Graph/Gradients.swift
what: gradients(of:) keeps only the last contribution to a node used twice
from: grads[key] = grads[key].map { $0 + g } ?? g
to: grads[key] = g

== out-of-date-ignores-leaves-below
file: Sources/Autodiff/Graph/Evaluate.swift
what: backward re-evaluates only when the output's own arguments changed, not deeper leaves
from: if isOutOfDate || below.contains(where: \.isOutOfDate) { evaluateNodeByNode(below) }
to: if isOutOfDate { evaluateNodeByNode(below) }

== update-in-place-keeps-version
file: Sources/Autodiff/Graph/Var+Update.swift
what: updateValue (the optimizers' in-place update) does not bump the leaf's version
from: version += 1
to:

# ---- Kernels -----------------------------------------------------------------------------

== gemm-threads-run-first-part-only
file: Sources/Autodiff/Kernels/MatrixProductKernel.swift
what: the threaded matrix product computes only the first of its parts
from: ComputeSettings.$kernelLevel.withValue(level) { runPart(part) }
to: ComputeSettings.$kernelLevel.withValue(level) { if part == 0 { runPart(part) } }

== gemm-row-split-offset-transposed
file: Sources/Autodiff/Kernels/MatrixProductKernel.swift
what: a thread's first row of A is found with the offsets of the other layout
from: let aOffset = transA ? first : first * lda
to: let aOffset = transA ? first * lda : first

== gemm-edge-tile-off-by-one
file: Sources/Autodiff/Kernels/MatrixProductKernel.swift
what: the portable edge tile copies one column too few into C
from: for j in 0..<nEff {
to: for j in 0..<nEff - 1 {

== gemm-k-blocks-overwrite
file: Sources/Autodiff/Kernels/MatrixProductKernel.swift
what: every block of the inner dimension overwrites C instead of adding to it
from: let addToC = accumulate || pc > 0
to: let addToC = accumulate

== gemm-reads-transposed-b-in-place
file: Sources/Autodiff/Kernels/MatrixProductKernel.swift
what: a transposed B with few rows of A is read in place as if it were not transposed
from: let packsAllOfB = transB || m > readsBInPlaceBelow
to: let packsAllOfB = m > readsBInPlaceBelow

== gemm-pack-a-no-zero-padding
file: Sources/Autodiff/Kernels/MatrixProductKernel.swift
what: packing a transposed A leaves the rows past the edge unset instead of zero
from: for i in rows..<mr { dst[i] = 0 }
to:
survives: equivalent. The padded rows only feed rows of the register tile that are never stored (the AVX edge kernels store m rows; the portable path copies mEff rows out of a scratch tile), so their values cannot reach C. The zeros keep junk (NaN, subnormals) out of the arithmetic, which costs time, not correctness.

== broadcast-aligns-leading-axes
file: Sources/Autodiff/Kernels/Broadcasting.swift
what: broadcasting aligns shapes at their first axis instead of their last
from: let axis = i + rank - shape.count
to: let axis = i

== broadcast-gradient-overwrites
file: Sources/Autodiff/Kernels/ElementwiseKernels.swift
what: the broadcast backward of a binary op stores into ∂b instead of adding to it
from: gb?[offB + j * sb] += sp[i] * db
to: gb?[offB + j * sb] = sp[i] * db

== c-portable-kernel-drops-accumulate
file: Sources/CKernels/GemmKernels.c
what: the portable C micro-kernel overwrites C when asked to accumulate
from: c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + acc[i][j];
to: c[i * ldc + j] = acc[i][j];

== c-avx2-kernel-row-five-reads-row-four
file: Sources/CKernels/GemmKernels.c
what: the AVX2 Float micro-kernel broadcasts row 4 of A into the accumulators of row 5
from: x = _mm256_broadcast_ss(a + 5);
to: x = _mm256_broadcast_ss(a + 4);

== c-avx2-edge-mask-off-by-one
file: Sources/CKernels/GemmKernels.c
what: the AVX2 edge tile's mask for its second vector stores one column too few
from: m1 = MASK(n - WIDTH);
to: m1 = MASK(n - WIDTH - 1);

== c-exp-clamped-below-overflow
file: Sources/CKernels/VectorMath.c
what: the vectorized exp clamps its input at 88 (below ln FLT_MAX), so exp(88.5) is finite and wrong
from: float v = x > 89.0f ? 89.0f : x;
to: float v = x > 88.0f ? 88.0f : x;

== c-tanh-series-sign
file: Sources/CKernels/VectorMath.c
what: a sign error in the x⁵ term of tanh's Taylor series for |x| < 0.5
from: q = q * v2 + 2.0f / 15.0f;
to: q = q * v2 - 2.0f / 15.0f;

== c-log-exponent-not-moved
file: Sources/CKernels/VectorMath.c
what: the vectorized log halves a mantissa above √2 without adding one to the exponent
from: float fe = (float)(high ? e + 1 : e);
to: float fe = (float)e;

== affine-product-input-gradient-untransposed
file: Sources/Autodiff/Ops/LinearAlgebra/AffineProduct.swift
what: the affine op's input gradient multiplies by W instead of Wᵀ
from: (x, s, false, w.value, !tb),
to: (x, s, false, w.value, tb),

== pool-returns-before-workers-finish
file: Sources/CKernels/ThreadPool.c
what: the thread pool returns as soon as the caller runs out of indices, while a worker may still be running one
from: while (atomic_load(&finished) < iterations) wait_a_moment(&spins);
to:

== pool-skips-the-last-index
file: Sources/CKernels/ThreadPool.c
what: the thread pool counts the last index as run without running it
from: function(context, index);
to: if (index + 1 < iterations) function(context, index);

== finiteness-check-skips-alternate-blocks
file: Sources/Autodiff/Tensor/Tensor.swift
what: the finiteness check reads every other block of 16 elements
from:       more += w - w
to:       more += v - v

== finiteness-check-reads-one-range
file: Sources/Autodiff/Tensor/Tensor.swift
what: a large tensor's finiteness check, split over threads, keeps only the first range's answer
from: return results.allSatisfy { $0 }
to: return results[0]

== optimizer-split-reuses-first-range
file: Sources/NeuralNetworks/Optimizers/Optimizer.swift
what: a large parameter's update, split over threads, gives every range the first range's gradient
from: .init(rebasing: b.w[range]), .init(rebasing: b.g[range]),
to: .init(rebasing: b.w[range]), .init(rebasing: b.g[0..<range.count]),

== zeroed-gradient-reads-stale-values
file: Sources/Autodiff/Graph/Var.swift
what: a gradient set to zero by zeroGradients() reads as its old values until a contribution arrives
from: if isGradStale { zeroStaleGradient() }
from:       return storedGrad
to:       return storedGrad

== product-gradient-always-overwrites
file: Sources/Autodiff/Graph/Backward.swift
what: a product's gradient overwrites a leaf's gradient instead of adding to it
from: return (withGradientBuffer { $0 }, false)
to: return (withGradientBuffer { $0 }, true)

== packed-partial-panel-drops-its-last-column
file: Sources/CKernels/GemmPacking.c
what: packing the last, partial panel of B leaves out its last column (zeros in its place)
from: _mm256_set1_epi32((int)(left < 0 ? 0 : left > 8 ? 8 : left)),
to: _mm256_set1_epi32((int)(left - 1 < 0 ? 0 : left - 1 > 8 ? 8 : left - 1)),

== backward-pair-adds-to-stale-gradients
file: Sources/Autodiff/Ops/LinearAlgebra/MatrixProduct.swift
what: the two backward products run together add to a stale gradient instead of writing it
from:       gemmInto(destination.pointer, a, ta, b, tb, accumulate: !destination.overwrite)
to:       gemmInto(destination.pointer, a, ta, b, tb, accumulate: true)

== seeded-samples-draw-from-a-copy
file: Sources/Autodiff/Tensor/SeededGenerator.swift
what: the samplers draw from a copy of a SeededGenerator, which then does not advance
from:           seededSamples(distribution, count: count, using: &$0.pointee)
to:           { (g: SeededGenerator) -> [Double] in var copy = g; return seededSamples(distribution, count: count, using: &copy) }($0.pointee)

== trainer-evaluate-leaves-training-mode
file: Sources/NeuralNetworks/Training/Trainer.swift
what: evaluate sets training mode afterwards instead of restoring the model's mode
from:     defer { model.isTraining = wasTraining }
from:     var total = 0.0
to:     defer { model.isTraining = true }
to:     var total = 0.0

== shared-slices-drop-the-last-unit
file: Sources/Autodiff/Kernels/MatrixProductKernel.swift
what: the slices of a product with a shared packed operand leave out the last column or row
from:       let last = min(extent, units * (slice + 1) / slices * unit)
to:       let last = min(extent - 1, units * (slice + 1) / slices * unit)

== shared-packed-a-blocks-overlap
file: Sources/Autodiff/Kernels/MatrixProductKernel.swift
what: the k blocks of a shared packed A are laid out one panel apart instead of one block
from:         let into = destination.pointer + pc * rowPanels.count * mr
to:         let into = destination.pointer + pc / blockK * rowPanels.count * mr

== shared-packed-b-blocks-overlap
file: Sources/Autodiff/Kernels/MatrixProductKernel.swift
what: the k blocks of a shared packed B are laid out one row apart instead of one block
from:           kc: kc, nc: n, nr: nr, into: destination.pointer + pc * packedWidth)
to:           kc: kc, nc: n, nr: nr, into: destination.pointer + pc / blockK * packedWidth)

== narrow-product-forgets-what-it-adds-to
file: Sources/Autodiff/Kernels/MatrixProductKernel.swift
what: a product with few columns, computed transposed, does not start from C when accumulating
from:         for j in 0..<n { cT[j * m + i] = c[i * ldc + j] }
to:         for j in 0..<n { cT[j * m + i] = 0 }

== narrow-product-writes-rows-for-columns
file: Sources/Autodiff/Kernels/MatrixProductKernel.swift
what: the transposed result of a product with few columns is copied back without transposing
from:       for j in 0..<n { c[i * ldc + j] = cT[j * m + i] }
to:       for j in 0..<n { c[i * ldc + j] = cT[i * n + j] }

== small-product-empty-sum-not-zeroed
file: Sources/CKernels/SmallProduct.c
what: a product with an inner dimension of 0 leaves C as it was instead of writing zeros
from: if (!accumulate)                                                                      \
to: if (0)                                                                                  \

== small-product-drops-accumulation
file: Sources/CKernels/SmallProduct.c
what: a product small enough to skip packing overwrites C when asked to add to it
from: if (accumulate || p0 > 0) {
to: if (p0 > 0) {

== bias-gradient-overwrites
file: Sources/Autodiff/Ops/Shape/Broadcast.swift
what: the column sums of a bias's gradient keep only the last row
from: for j in 0..<m { op[j] += r[j] }
to: for j in 0..<m { op[j] = r[j] }

== bce-logs-swapped-for-binary-targets
file: Sources/Autodiff/Ops/Losses/BinaryCrossEntropy.swift
what: binary cross-entropy takes the log of the wrong probability for 0/1 targets
from: ? logQ[i] : inside && t == 1 ? logP[i] : t * logP[i] + (1 - t) * logQ[i]
to: ? logQ[i] : inside && t == 1 ? logQ[i] : t * logP[i] + (1 - t) * logQ[i]

== assign-rows-ignores-indices
file: Sources/Autodiff/Tensor/Tensor+Rows.swift
what: writing rows into a tensor copies the first rows instead of the chosen ones
from: from: source.buffer.pointer + index * bytes, byteCount: bytes)
to: from: source.buffer.pointer + i * bytes, byteCount: bytes)

# ---- Optimizers --------------------------------------------------------------------------

== adam-no-bias-correction
file: Sources/NeuralNetworks/Optimizers/Adam.swift
what: Adam drops the bias correction of the first moment
from: let mHat = m[i] * c1
to: let mHat = m[i]

== adam-epsilon-misplaced
file: Sources/NeuralNetworks/Optimizers/Adam.swift
what: Adam puts ε outside the square root when asked for inside, and the reverse
from: let denominator = inside ? (vHat + eps).squareRoot() : vHat.squareRoot() + eps
to: let denominator = inside ? vHat.squareRoot() + eps : (vHat + eps).squareRoot()

== adam-l2-weight-decay-sign
file: Sources/NeuralNetworks/Optimizers/Adam.swift
what: Adam's L2 weight decay subtracts λθ from the gradient (growing the weights)
from: let gi = g[i] + l2 * w[i]
to: let gi = g[i] - l2 * w[i]

== adamw-decay-sign
file: Sources/NeuralNetworks/Optimizers/Adam.swift
what: AdamW's decoupled decay adds αλθ to the weights
from: w[i] -= lr * mHat / denominator + decoupled * w[i]
to: w[i] -= lr * mHat / denominator - decoupled * w[i]

== sgd-momentum-dropped
file: Sources/NeuralNetworks/Optimizers/SGD.swift
what: SGD forgets the previous velocity
from: v[i] = beta * v[i] + keep * gi
to: v[i] = keep * gi

== sgd-nesterov-uses-gradient-for-velocity
file: Sources/NeuralNetworks/Optimizers/SGD.swift
what: Nesterov's look-ahead uses the gradient where it needs the velocity
from: w[i] -= lr * (nesterov ? gi + beta * v[i] : v[i])
to: w[i] -= lr * (nesterov ? gi + beta * gi : v[i])

== sgd-weight-decay-sign
file: Sources/NeuralNetworks/Optimizers/SGD.swift
what: plain SGD's weight decay has the wrong sign
from: for i in 0..<w.count { w[i] -= lr * (g[i] + decay * w[i]) }
to: for i in 0..<w.count { w[i] -= lr * (g[i] - decay * w[i]) }

== rmsprop-decay-swapped
file: Sources/NeuralNetworks/Optimizers/RMSProp.swift
what: RMSProp weighs the old average by 1 − ρ and the new square by ρ
from: v[i] = rho * v[i] + (1 - rho) * g[i] * g[i]
to: v[i] = (1 - rho) * v[i] + rho * g[i] * g[i]

== clip-norm-not-square-rooted
file: Sources/NeuralNetworks/Optimizers/GradientClipping.swift
what: gradient clipping compares the squared norm with the maximum norm
from: let norm = total.squareRoot()
to: let norm = total

== clip-value-no-lower-bound
file: Sources/NeuralNetworks/Optimizers/GradientClipping.swift
what: clipping by value limits gradients from above only
from: Swift.min(Swift.max(g, -maxValue), maxValue)
to: Swift.min(g, maxValue)

== optimizer-state-shared
file: Sources/NeuralNetworks/Optimizers/Optimizer.swift
what: every parameter of a list is given the optimizer state of the first
from: recent = parameters.map(slot(for:))
to: recent = parameters.map { _ in slot(for: parameters[0]) }

# ---- Data readers ------------------------------------------------------------------------

== csv-lines-counted-from-zero
file: Sources/NeuralNetworks/Data/CSV.swift
what: CSV error messages number lines from 0
from: var line = 1
to: var line = 0

== csv-crlf-counts-two-lines
file: Sources/NeuralNetworks/Data/CSV.swift
what: a CRLF line ending is read as two line endings, so errors name the wrong line
from: if position < bytes.endIndex && bytes[position] == Self.lf { position += 1 }
to:

== text-lines-crlf-counts-two-lines
file: Sources/NeuralNetworks/Data/DataFileError.swift
what: the line splitter of the protein reader reads CRLF as two line endings
from: if byte == 0x0D && i + 1 < bytes.endIndex && bytes[i + 1] == 0x0A { i += 1 }
to:

== idx-accepts-truncated-data
file: Sources/NeuralNetworks/Data/IDX.swift
what: the IDX reader accepts a file whose data is shorter than its shape says
from: byteCount.partialValue == found else {
to: byteCount.partialValue >= found || true else {

== idx-little-endian
file: Sources/NeuralNetworks/Data/IDX.swift
what: IDX elements are read little-endian
from: for k in 0..<type.size { bits = bits << 8 | UInt64(bytes[o + k]) }
to: for k in 0..<type.size { bits = bits | UInt64(bytes[o + k]) << (8 * k) }

# ---- Trainer -----------------------------------------------------------------------------

== trainer-skips-last-batch
file: Sources/NeuralNetworks/Training/Trainer.swift
what: the trainer never trains on the last batch of an epoch
from: while run.batch < batches.count {
to: while run.batch < batches.count - 1 {

== batches-drop-last-always
file: Sources/NeuralNetworks/Training/Dataset.swift
what: minibatching drops the last smaller batch even when asked to keep it
from: if end - start < size && dropLast { break }
to: if end - start < size { break }

== trainer-does-not-zero-gradients
file: Sources/NeuralNetworks/Training/Trainer.swift
what: the training step does not zero the gradients, so they pile up across steps
from: model.zeroGradients()
to:

== trainer-loss-not-weighted-by-batch-size
file: Sources/NeuralNetworks/Training/Trainer.swift
what: the epoch's training loss averages batch means as if every batch were full
from: run.lossSum += loss * Double(rows.count)
to: run.lossSum += loss * Double(batchSize)

== trainer-early-stopping-off-by-one
file: Sources/NeuralNetworks/Training/Trainer.swift
what: early stopping waits one epoch more than its patience
from: record.epoch - run.best!.epoch >= earlyStopping.patience
to: record.epoch - run.best!.epoch > earlyStopping.patience

== trainer-schedule-off-by-one
file: Sources/NeuralNetworks/Training/Trainer.swift
what: the learning-rate schedule is read one epoch ahead (epoch 1 already decayed)
from: base: baseLearningRate, step: run.epoch - 1)
to: base: baseLearningRate, step: run.epoch)

== trainer-ignores-clip-norm
file: Sources/NeuralNetworks/Training/Trainer.swift
what: the trainer never applies gradientClipNorm
from: if let gradientClipNorm { clipGradients(parameters, maxNorm: gradientClipNorm) }
to:

== trainer-metric-never-picks-last-class
file: Sources/NeuralNetworks/Training/Trainer.swift
what: the accuracy tally's argmax stops before the last class
from: for j in 1..<k where values[i * k + j] > values[i * k + best] { best = j }
to: for j in 1..<(k - 1) where values[i * k + j] > values[i * k + best] { best = j }
LIST
}

# ---- Parsing the list ------------------------------------------------------------------

names=() files=() whats=() froms=() tos=() reasons=()

parse() {
  local line n=-1 field value
  while IFS= read -r line; do
    case $line in
      '' | '#'*) continue ;;
      '== '*)
        n=$((n + 1))
        names[n]=${line#== } files[n]='' whats[n]='' froms[n]='' tos[n]='' reasons[n]=''
        fromcount[n]=0 tocount[n]=0
        continue ;;
    esac
    if ((n < 0)); then echo "mutants: line outside a record: $line" >&2; exit 2; fi
    field=${line%%:*}
    value=${line#*:}
    value=${value# }
    case $field in
      file) files[n]=$value ;;
      what) whats[n]=$value ;;
      survives) reasons[n]=$value ;;
      from)
        if ((fromcount[n]++)); then froms[n]+=$'\n'; fi
        froms[n]+=$value ;;
      to)
        if ((tocount[n]++)); then tos[n]+=$'\n'; fi
        tos[n]+=$value ;;
      *) echo "mutants: unknown field '$field' in ${names[n]}" >&2; exit 2 ;;
    esac
  done < <(mutations)
}
declare -a fromcount tocount
parse
total=${#names[@]}

# ---- Selection ---------------------------------------------------------------------------

list=0 check_only=0 baseline=1 selected=()
for arg in "$@"; do
  case $arg in
    -l | --list) list=1 ;;
    --check) check_only=1 ;;
    --no-baseline) baseline=0 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "mutants: unknown option $arg (see --help)" >&2; exit 2 ;;
    *[!0-9-]* | *-) # a name pattern
      found=0
      for ((i = 0; i < total; i++)); do
        # shellcheck disable=SC2053
        if [[ ${names[i]} == $arg ]]; then selected+=("$i"); found=1; fi
      done
      ((found)) || { echo "mutants: no mutation matches '$arg' (see --list)" >&2; exit 2; } ;;
    *-*)
      for ((i = ${arg%-*}; i <= ${arg#*-}; i++)); do selected+=("$((i - 1))"); done ;;
    *) selected+=("$((arg - 1))") ;;
  esac
done
if ((${#selected[@]} == 0)); then
  for ((i = 0; i < total; i++)); do selected+=("$i"); done
fi
for i in "${selected[@]}"; do
  if ((i < 0 || i >= total)); then
    echo "mutants: no mutation number $((i + 1)) (there are $total)" >&2
    exit 2
  fi
done

if ((list)); then
  for ((i = 0; i < total; i++)); do
    printf '%3d  %-44s %s\n' "$((i + 1))" "${names[i]}" "${whats[i]}"
  done
  exit 0
fi

# ---- Applying a mutation -------------------------------------------------------------------

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# mutate SOURCE FROM TO OUTPUT: writes SOURCE with the one occurrence of FROM replaced by
# TO to OUTPUT; fails, printing the number of occurrences, unless there is exactly one.
mutate() {
  printf '%s\n' "$2" > "$work/from"
  printf '%s\n' "$3" > "$work/to"
  awk -v fromfile="$work/from" -v tofile="$work/to" -v output="$4" '
    BEGIN {
      while ((getline line < fromfile) > 0) from = from (nf++ ? "\n" : "") line
      while ((getline line < tofile) > 0) to = to (nt++ ? "\n" : "") line
    }
    { text = text (NR > 1 ? "\n" : "") $0 }
    END {
      rest = text; offset = 0; count = 0
      while ((at = index(rest, from)) > 0) {
        if (++count == 1) first = offset + at
        offset += at; rest = substr(rest, at + 1)
      }
      if (count != 1) { print count; exit 3 }
      printf "%s%s%s\n", substr(text, 1, first - 1), to, substr(text, first + length(from)) > output
    }' "$1"
}

# Every selected mutation must apply to the working tree as it is now.
problems=0
for i in "${selected[@]}"; do
  file=$root/${files[i]}
  if [[ -z ${files[i]} || ! -f $file ]]; then
    echo "mutants: $((i + 1)) ${names[i]}: no file '${files[i]}'" >&2
    problems=$((problems + 1))
  elif [[ -z ${froms[i]} ]]; then
    echo "mutants: $((i + 1)) ${names[i]}: no 'from:' text" >&2
    problems=$((problems + 1))
  elif ! count=$(mutate "$file" "${froms[i]}" "${tos[i]}" "$work/mutated"); then
    echo "mutants: $((i + 1)) ${names[i]}: the 'from:' text occurs $count times in ${files[i]}, not once:" >&2
    sed 's/^/    /' <<< "${froms[i]}" >&2
    problems=$((problems + 1))
  elif cmp -s "$file" "$work/mutated"; then
    echo "mutants: $((i + 1)) ${names[i]}: the mutation changes nothing" >&2
    problems=$((problems + 1))
  fi
done
if ((problems)); then
  echo "mutants: $problems of the mutations do not apply; fix the list in $0" >&2
  exit 2
fi
if ((check_only)); then
  echo "mutants: all ${#selected[@]} mutations apply"
  exit 0
fi

# ---- The scratch copy ------------------------------------------------------------------------

# Copy the working tree (tracked and untracked, not ignored) into $scratch/package, only the
# files that differ, so that unchanged files keep their timestamps and builds stay
# incremental between runs.
package=$scratch/package
logs=$scratch/logs
mkdir -p "$package" "$logs"
rm -f "$logs"/*.log
(cd "$root" && git ls-files --cached --others --exclude-standard) | while IFS= read -r path; do
  [[ -f $root/$path ]] || continue
  if ! cmp -s "$root/$path" "$package/$path"; then
    mkdir -p "$(dirname "$package/$path")"
    cp "$root/$path" "$package/$path"
  fi
done
(cd "$root" && git ls-files --cached --others --exclude-standard) | while IFS= read -r path; do
  [[ -f $root/$path ]] && echo "$path"
done | sort > "$work/wanted"
(cd "$package" && find . \( -name .build -o -name .swiftpm \) -prune -o -type f -print |
  sed 's|^\./||' | sort) > "$work/present"
comm -13 "$work/wanted" "$work/present" | while IFS= read -r path; do rm -f "$package/$path"; done

# The file being mutated, restored on any exit.
current=''
restore() {
  if [[ -n $current ]]; then
    cp "$work/original" "$package/$current"
    current=''
  fi
}
trap 'restore; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

build() { (cd "$package" && "$swift" build --build-tests) > "$1" 2>&1; }
run_tests() {
  (cd "$package" && timeout -k 10 "$timeout_seconds" \
    "$swift" test --skip-build --skip millionNode) > "$1" 2>&1
}

# What stopped the tests: the first failing test and where, or the crash.
killer() {
  local log=$1 line
  line=$(grep -m1 '^✘ Test .* recorded an issue' "$log" || true)
  if [[ -n $line ]]; then
    local test=${line#✘ Test }
    test=${test%% recorded an issue*}
    local at arguments=''
    at=$(grep -o -m1 'at [A-Za-z]*Tests\.swift:[0-9]*' <<< "$line" || true)
    if [[ $line == *' recorded an issue with '*' at '* ]]; then
      arguments=${line#* recorded an issue with }
      arguments=" [${arguments%% at *}]"
    fi
    local failed
    failed=$(grep -E '^✘ Test .* failed after' "$log" | grep -cv '^✘ Test run with' || true)
    case $failed in
      0) failed='' ;;
      1) failed='1 test failed' ;;
      *) failed="$failed tests failed" ;;
    esac
    echo "$test$arguments ${at:+($at)}${failed:+, $failed}"
    return
  fi
  line=$(grep -m1 -E 'Fatal error|Precondition failed|Assertion failed|Illegal instruction|Segmentation fault|signal code' "$log" || true)
  if [[ -n $line ]]; then
    echo "crash: ${line:0:110}"
    return
  fi
  echo "the tests failed (see the log)"
}

seconds() { date +%s; }

if ((baseline)); then
  printf 'baseline: building and testing the unmutated package in %s\n' "$package"
  if ! build "$logs/baseline.build.log"; then
    echo "mutants: the unmutated package does not build: $logs/baseline.build.log" >&2
    exit 2
  fi
  start=$(seconds)
  if ! run_tests "$logs/baseline.test.log"; then
    echo "mutants: the tests fail without any mutation: $logs/baseline.test.log" >&2
    exit 2
  fi
  elapsed=$(($(seconds) - start))
  if [[ -z ${MUTANTS_TIMEOUT:-} ]]; then
    timeout_seconds=$((4 * elapsed > 180 ? 4 * elapsed : 180))
  fi
  printf 'baseline: the tests pass in %ds; a test run longer than %ds counts as a hang\n\n' \
    "$elapsed" "$timeout_seconds"
fi

# ---- The run -----------------------------------------------------------------------------------

caught=0 survived=0 invalid=0 accepted=0
survivors=() invalids=()
results=$scratch/results.txt
: > "$results"
count=${#selected[@]}
position=0
for i in "${selected[@]}"; do
  position=$((position + 1))
  name=${names[i]}
  number=$(printf '%02d' "$((i + 1))")
  log=$logs/$number-$name
  start=$(seconds)
  cp "$package/${files[i]}" "$work/original"
  current=${files[i]}
  mutate "$work/original" "${froms[i]}" "${tos[i]}" "$package/${files[i]}" > /dev/null
  if ! build "$log.build.log"; then
    status=invalid detail="does not compile: $log.build.log"
    invalid=$((invalid + 1))
    invalids+=("$name")
  elif run_tests "$log.test.log"; then
    status=SURVIVED
    if [[ -n ${reasons[i]} ]]; then
      detail="accepted: ${reasons[i]%%.*}"
      accepted=$((accepted + 1))
    else
      detail="no test failed: $log.test.log"
    fi
    survived=$((survived + 1))
    survivors+=("$name")
  else
    code=$?
    status=caught
    if ((code == 124 || code == 137)); then
      detail="the tests hung (timeout after ${timeout_seconds}s)"
    else
      detail=$(killer "$log.test.log")
    fi
    caught=$((caught + 1))
  fi
  restore
  line=$(printf '%2d/%-2d %-3s %-8s %-42s %4ds  %s' "$position" "$count" "$number" "$status" \
    "$name" "$(($(seconds) - start))" "$detail")
  echo "$line"
  echo "$line" >> "$results"
done

# ---- The score -----------------------------------------------------------------------------------

scored=$((caught + survived))
echo
if ((scored > 0)); then
  percent=$(awk -v c="$caught" -v n="$scored" 'BEGIN { printf "%.1f", 100 * c / n }')
  echo "score: $caught of $scored mutations caught ($percent%; at least $threshold% required)"
else
  percent=0
  echo "score: no mutation could be scored"
fi
if ((survived)); then
  echo "survivors: ${survivors[*]} ($accepted with a written reason)"
fi
if ((invalid)); then
  echo "invalid (no longer compile; fix them): ${invalids[*]}"
fi
echo "logs: $logs"
if ((invalid)) || awk -v p="$percent" -v t="$threshold" 'BEGIN { exit !(p < t) }'; then
  exit 1
fi
