# Short wrappers around swift commands. `make check` is what CI runs.
SWIFT ?= swift

.PHONY: build test examples notebooks bench docs format lint check sanitize sanitize-threads sanitize-ci mutants

build:
	$(SWIFT) build -c release

test:
	$(SWIFT) test

# Every example in quick mode, then the variants selected by a flag.
VARIANTS = "digits --conv" "digits --lstm"

examples:
	$(SWIFT) build -c release --product examples
	@for name in $$($(SWIFT) run -c release examples --names); do \
	  echo "== $$name"; \
	  .build/release/examples $$name --quick || exit 1; \
	done
	@for variant in $(VARIANTS); do \
	  echo "== $$variant"; \
	  .build/release/examples $$variant --quick || exit 1; \
	done

notebooks:
	Notebooks/run.sh

bench:
	$(SWIFT) run -c release benchmarks

docs:
	mkdir -p .build/docs
	for module in Autodiff NeuralNetworks; do \
	  $(SWIFT) build --target $$module -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc .build/symbol-graphs/$$module >/dev/null && \
	  docc convert Sources/$$module/$$module.docc --additional-symbol-graph-dir .build/symbol-graphs/$$module \
	    --output-path .build/docs/$$module.doccarchive || exit 1; \
	done

# The tests under the address and the thread sanitizers, each in its own build folder.
# SANITIZE_FILTER narrows the tests (CI runs the threaded ones under the thread sanitizer).
SANITIZE_FILTER ?= .
sanitize:
	$(SWIFT) test --sanitize=address --scratch-path .build/asan --skip millionNode --filter '$(SANITIZE_FILTER)'
	$(SWIFT) test --sanitize=thread --scratch-path .build/tsan --skip millionNode --filter '$(SANITIZE_FILTER)'

# The tests that run work on several threads, under the thread sanitizer.
sanitize-threads:
	$(SWIFT) test --sanitize=thread --scratch-path .build/tsan --filter 'MatrixProductTests|ConcurrencyTests|ReproducibilityTests|fusedSequenceSplitsTheBatch'

# What CI runs of the sanitizers: every threaded path (`checks threads`: split products,
# the split LSTM sequence, tasks training side by side) under the thread sanitizer, and the
# same with a short training run under the address sanitizer; any report fails.
sanitize-ci:
	$(SWIFT) build --product checks --sanitize=thread --scratch-path .build/tsan-checks
	TSAN_OPTIONS=halt_on_error=1:exitcode=66 .build/tsan-checks/debug/checks threads
	$(SWIFT) build --product checks --sanitize=address --scratch-path .build/asan-checks
	ASAN_OPTIONS=halt_on_error=1 .build/asan-checks/debug/checks threads
	ASAN_OPTIONS=halt_on_error=1 .build/asan-checks/debug/checks memory lstm 200

format:
	swift format --in-place --recursive Sources Tests

lint:
	swift format lint --recursive Sources Tests

# Mutation testing: about 60 realistic bugs, one at a time, each built and tested in a
# scratch copy (about an hour; not part of `check`). `make mutants MUTANTS="3 adam-*"` runs
# a subset; see scripts/mutants.sh --help.
mutants:
	scripts/mutants.sh $(MUTANTS)

check: test examples notebooks
	$(SWIFT) run -c release benchmarks --quick
