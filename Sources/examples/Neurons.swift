import Autodiff
import Foundation
import NeuralNetworks

/// The course's first chapter: a leaky integrate-and-fire neuron's firing rate, simulated,
/// against its closed form, and a Hodgkin–Huxley neuron that fires a spike train above a
/// threshold current and rests below it. Each population is one `Tensor` of state, one
/// neuron per column.
enum NeuronsExample: Example {
  static let name = "neurons"
  static let summary =
    "LIF firing rates against the closed form G(v); Hodgkin–Huxley spikes above threshold"
  static let options: [Option] = [
    .double("dt", in: 1e-9...1e-3, "LIF Euler step in seconds (default 1e-5)"),
    .double(
      "duration", in: 0.2...Double.greatestFiniteMagnitude,
      "LIF simulated time in seconds (default 2; 0.5 with --quick)"),
    .double(
      "hh-duration", in: 60...Double.greatestFiniteMagnitude,
      "Hodgkin–Huxley simulated time in ms (default 300; 150 with --quick)"),
    .plot,
  ]

  static func run(arguments: Arguments) throws {
    let quick = arguments.flag("quick")
    let dt = try arguments.double("dt", default: 1e-5)
    let duration = try arguments.double("duration", default: quick ? 0.5 : 2)
    let hhDuration = try arguments.double("hh-duration", default: quick ? 150 : 300)
    guard dt > 0, dt <= 1e-3, duration >= 0.2, hhDuration >= 60 else {
      throw ExampleFailure(
        "expected --dt in (0, 0.001] s, --duration of at least 0.2 s and --hh-duration of at least 60 ms"
      )
    }
    let plots = arguments.string("plot").map { URL(fileURLWithPath: $0, isDirectory: true) }
    var failures: [String] = []
    failures += try integrateAndFire(dt: dt, duration: duration, plots: plots)
    failures += try hodgkinHuxley(duration: hhDuration, plots: plots)
    if let plots { print("\nFigures written to \(plots.path)") }
    guard failures.isEmpty else { throw ExampleFailure(failures.joined(separator: "; ")) }
  }

  // MARK: - Leaky integrate-and-fire

  static func integrateAndFire(dt: Double, duration: Double, plots: URL?) throws -> [String] {
    let (tauM, tauRef) = (0.02, 0.002)
    // 201 inputs from 0 to 10, simulated together as one population.
    let inputs = (0...200).map { Double($0) * 0.05 }
    print(
      """
      == Leaky integrate-and-fire: τm dv/dt = v_in − v, spike and reset to 0 at v = 1,
         then τref of rest; τm = \(tauM) s, τref = \(tauRef) s

      \(inputs.count) neurons with constant inputs v_in = 0, 0.05, …, 10, simulated together
      (one [2, \(inputs.count)] tensor of state) for \(fixed(duration, 2)) s with Euler steps of \
      dt = \(dt) s.
      Simulated rate: (spikes − 1) / (last spike − first spike).
      Closed form: G(v) = 1 / (τref − τm ln(1 − 1/v)) for v > 1, else 0.

      """)
    let run = LIFPopulation(inputs: inputs, membraneTime: tauM, refractoryTime: tauRef)
      .simulate(dt: dt, duration: duration)
    print("   v_in   simulated Hz   G(v_in) Hz   difference   bound")
    var failures: [String] = []
    for (i, v) in inputs.enumerated() {
      let (rate, exact, bound) = (run.rates[i], run.closedForm(v), run.bound(v))
      let difference = rate.map { abs($0 - exact) }
      if difference == nil || difference! > bound {
        failures.append("LIF rate at v_in = \(v) is \(rate.map { fixed($0, 3) } ?? "unmeasured")")
      }
      if [0.5, 0.9, 1, 1.05, 1.1, 1.25, 1.5, 2, 3, 5, 10].contains(where: { abs($0 - v) < 1e-9 }) {
        print(
          "  \(pad(fixed(v, 2), 5))   \(pad(rate.map { fixed($0, 3) } ?? "—", 12))"
            + "   \(pad(fixed(exact, 3), 10))   \(pad(difference.map { fixed($0, 3) } ?? "—", 10))"
            + "   \(pad(fixed(bound, 3), 5))")
      }
    }
    let largest = inputs.indices.map { i in
      run.rates[i].map { abs($0 - run.closedForm(inputs[i])) } ?? .infinity
    }.max()!
    print(
      """

      Why the bound. A spike is seen at the first step with v ≥ 1: up to one step dt late.
      Each Euler step multiplies the distance v_in − v by 1 − a, a = dt/τm, a little less
      than the exact factor exp(−a), so the simulated neuron reaches threshold early, by
      t*·(1 − a/(−ln(1 − a))) ≈ t*·a/2, where t* = −τm ln(1 − 1/v) is the exact time to
      threshold. The rest τref is rounded up to whole steps. The interval T = τref + t* is
      off by at most δ, the sum of the three, so the rate 1/T is off by at most
      δ / (T (T − t*·a/2)).

      Largest difference over the \(inputs.count) inputs at dt = \(dt) s: \(fixed(largest, 3)) Hz.
      """)
    // First order in dt: ten times smaller steps, about ten times smaller errors.
    let coarse = LIFPopulation(inputs: inputs, membraneTime: tauM, refractoryTime: tauRef)
      .simulate(dt: dt * 10, duration: duration)
    let coarseLargest = inputs.indices.map { i in
      coarse.rates[i].map { abs($0 - coarse.closedForm(inputs[i])) } ?? .infinity
    }.max()!
    print(
      "At dt = \(dt * 10) s it is \(fixed(coarseLargest, 3)) Hz: the error shrinks in proportion to dt."
    )
    for (i, v) in inputs.enumerated() {
      if let rate = coarse.rates[i], abs(rate - coarse.closedForm(v)) <= coarse.bound(v) {
        continue
      }
      failures.append("LIF rate at v_in = \(v) with dt = \(dt * 10) is outside its bound")
    }
    if !(coarseLargest > 3 * largest) {
      failures.append("the LIF rate error did not shrink with the step")
    }
    if let plots {
      let tuning = LineChart(
        title: "LIF tuning curve", xAxis: Axis("input v_in"), yAxis: Axis("firing rate (Hz)"),
        series: [
          .init("G(v_in), closed form", x: inputs, y: inputs.map(run.closedForm)),
          .init(
            "simulated, dt = \(dt) s",
            x: inputs.enumerated().filter { $0.offset % 5 == 0 }.map(\.element),
            y: inputs.indices.filter { $0 % 5 == 0 }.map { run.rates[$0] ?? .nan },
            style: .dotted, showsMarkers: true),
        ])
      try tuning.write(to: plots.appendingPathComponent("lif-tuning-curve.svg"))
      let traced = [1.2, 2.0, 4.0]
      let trace = LIFPopulation(inputs: traced, membraneTime: tauM, refractoryTime: tauRef)
        .simulate(dt: 1e-5, duration: 0.1, recordEvery: 10)
      let time = trace.times.map { $0 * 1000 }
      var voltage = LineChart(
        title: "LIF membrane potential", xAxis: Axis("time (ms)"), yAxis: Axis("v", range: 0...1.2),
        series: traced.indices.map { k in
          .init("v_in = \(fixed(traced[k], 1))", x: time, y: trace.trace.map { $0[k] })
        })
      voltage.series.append(
        .init("threshold", x: [0, 100], y: [1, 1], color: Color(hex: "888888"), style: .dashed))
      try voltage.write(to: plots.appendingPathComponent("lif-voltage.svg"))
    }
    return failures
  }

  // MARK: - Hodgkin–Huxley

  static func hodgkinHuxley(duration: Double, plots: URL?) throws -> [String] {
    let currents = (0...80).map { Double($0) * 0.25 }
    let dt = 0.01
    print(
      """

      == Hodgkin–Huxley (1952), squid giant axon, rest at −65 mV: C dV/dt = I − g_Na m³h (V − E_Na)
         − g_K n⁴ (V − E_K) − g_L (V − E_L); \(currents.count) neurons with constant currents
         I = 0, 0.25, …, 20 µA/cm², \(fixed(duration, 0)) ms with Euler steps of \(dt) ms.
         A spike is an upward crossing of 0 mV; the rate is (spikes − 1) / (last − first spike)
         over the second half.

      """)
    let run = HodgkinHuxleyPopulation(currents: currents).simulate(dt: dt, duration: duration)
    print("  I (µA/cm²)   spikes   spikes in 2nd half   rate (Hz)   V range in 2nd half (mV)")
    for (i, current) in currents.enumerated()
    where [0, 2, 4, 6, 6.5, 7, 10, 15, 20].contains(current) {
      print(
        "  \(pad(fixed(current, 2), 10))   \(pad("\(run.spikes[i])", 6))   \(pad("\(run.lateSpikes[i])", 18))"
          + "   \(pad(fixed(run.rate(i), 1), 9))   \(fixed(run.lowest[i], 1)) … \(fixed(run.highest[i], 1))"
      )
    }
    var failures: [String] = []
    // A spike train: at least three spikes in the second half. At rest: none there, and V
    // within 2 mV of constant.
    let firing = currents.indices.map { run.lateSpikes[$0] >= 3 }
    let resting = currents.indices.map {
      run.lateSpikes[$0] == 0 && run.highest[$0] - run.lowest[$0] < 2
    }
    guard let first = firing.firstIndex(of: true), firing[first...].allSatisfy({ $0 }),
      resting[..<first].allSatisfy({ $0 }), first > 0
    else {
      return ["the Hodgkin–Huxley neuron did not switch once from rest to a spike train"]
    }
    print(
      """

      Threshold for a spike train: between \(fixed(currents[first - 1], 2)) and \
      \(fixed(currents[first], 2)) µA/cm².
      Below it every neuron settles at rest (the onset of the current may draw a spike or
      two first); above it each fires a regular train.
      """)
    if !(run.rate(currents.count - 1) > run.rate(first)) {
      failures.append("the Hodgkin–Huxley rate did not grow with the current")
    }
    if !(run.peak[currents.count - 1] > 20) {
      failures.append("the Hodgkin–Huxley spikes did not overshoot 0 mV")
    }
    if let plots {
      let traced = [currents[first - 1], 10, 20]
      let trace = HodgkinHuxleyPopulation(currents: traced).simulate(
        dt: dt, duration: 60, recordEvery: 5)
      let chart = LineChart(
        title: "Hodgkin–Huxley membrane potential", xAxis: Axis("time (ms)"),
        yAxis: Axis("V (mV)"),
        series: traced.indices.map { k in
          .init("I = \(fixed(traced[k], 2)) µA/cm²", x: trace.times, y: trace.trace.map { $0[k] })
        })
      try chart.write(to: plots.appendingPathComponent("hh-voltage.svg"))
      let tuning = LineChart(
        title: "Hodgkin–Huxley firing rate", xAxis: Axis("current I (µA/cm²)"),
        yAxis: Axis("firing rate (Hz)"),
        series: [
          .init("simulated", x: currents, y: currents.indices.map(run.rate), showsMarkers: true)
        ])
      try tuning.write(to: plots.appendingPathComponent("hh-tuning-curve.svg"))
    }
    return failures
  }
}

// MARK: - Models

/// Leaky integrate-and-fire neurons in the course's normalized units: below threshold
/// τm dv/dt = v_in − v; at v = 1 a spike, v back to 0 and τref of rest.
///
/// The state of the whole population is one `[2, n]` tensor: row 0 holds v, row 1 the
/// refractory steps left.
struct LIFPopulation {
  let inputs: Tensor
  let membraneTime: Double
  let refractoryTime: Double

  init(inputs: [Double], membraneTime: Double, refractoryTime: Double) {
    self.inputs = Tensor(inputs, dtype: .float64)
    self.membraneTime = membraneTime
    self.refractoryTime = refractoryTime
  }

  /// What a simulation measured.
  struct Run {
    let dt: Double
    let membraneTime: Double
    let refractoryTime: Double
    /// The rest actually simulated: τref rounded up to whole steps.
    let simulatedRefractoryTime: Double
    /// The rate from the spikes after the first, nil when fewer than two (zero when none).
    let rates: [Double?]
    let times: [Double]
    let trace: [[Double]]

    /// G(v) = 1 / (τref − τm ln(1 − 1/v)) for v > 1, else 0.
    func closedForm(_ v: Double) -> Double {
      v > 1 ? 1 / (refractoryTime - membraneTime * log(1 - 1 / v)) : 0
    }

    /// The largest difference between the simulated rate and G(v) that steps of dt allow.
    func bound(_ v: Double) -> Double {
      guard v > 1 else { return 0 }
      let a = dt / membraneTime
      let toThreshold = -membraneTime * log(1 - 1 / v)
      let early = toThreshold * (1 - a / -log(1 - a))
      let delta = early + dt + (simulatedRefractoryTime - refractoryTime)
      let interval = refractoryTime + toThreshold
      return delta / (interval * (interval - early))
    }
  }

  /// Simulates `duration` seconds from v = 0 with Euler steps of `dt`, keeping v every
  /// `recordEvery` steps when it is positive.
  func simulate(dt: Double, duration: Double, recordEvery: Int = 0) -> Run {
    let n = inputs.count
    let steps = Int((duration / dt).rounded())
    let refractorySteps = Int((refractoryTime / dt - 1e-9).rounded(.up))
    var state = Tensor.zeros([2, n], dtype: .float64)
    var (count, first, last) = (
      [Int](repeating: 0, count: n), [Int](repeating: 0, count: n), [Int](repeating: 0, count: n)
    )
    var (times, trace): ([Double], [[Double]]) = ([], [])
    let rate = dt / membraneTime
    inputs.withUnsafeBufferPointer(as: Double.self) { input in
      state.withUnsafeMutableBufferPointer(as: Double.self) { s in
        for step in 1...steps {
          for i in 0..<n {
            if s[n + i] > 0 {
              s[n + i] -= 1
              continue
            }
            s[i] += rate * (input[i] - s[i])
            if s[i] >= 1 {
              s[i] = 0
              s[n + i] = Double(refractorySteps)
              if count[i] == 0 { first[i] = step }
              last[i] = step
              count[i] += 1
            }
          }
          if recordEvery > 0 && step % recordEvery == 0 {
            times.append(Double(step) * dt)
            trace.append(Array(s[0..<n]))
          }
        }
      }
    }
    let rates = (0..<n).map { i -> Double? in
      count[i] == 0
        ? 0 : count[i] == 1 ? nil : Double(count[i] - 1) / (Double(last[i] - first[i]) * dt)
    }
    return Run(
      dt: dt, membraneTime: membraneTime, refractoryTime: refractoryTime,
      simulatedRefractoryTime: Double(refractorySteps) * dt, rates: rates, times: times,
      trace: trace)
  }
}

/// Hodgkin–Huxley neurons with the squid-axon constants of Hodgkin & Huxley (1952), with
/// the membrane potential in mV from the outside (rest near −65 mV), time in ms, currents in
/// µA/cm², conductances in mS/cm², C = 1 µF/cm².
///
/// The population's state is one `[4, n]` tensor: rows V, m, h, n.
struct HodgkinHuxleyPopulation {
  let currents: Tensor
  static let (capacitance, gNa, gK, gL) = (1.0, 120.0, 36.0, 0.3)
  static let (eNa, eK, eL) = (50.0, -77.0, -54.387)

  init(currents: [Double]) { self.currents = Tensor(currents, dtype: .float64) }

  // Opening (α) and closing (β) rates per ms of the gates at membrane potential V.
  static func alphaN(_ v: Double) -> Double { 0.01 * linear(v + 55, 10) }
  static func betaN(_ v: Double) -> Double { 0.125 * exp(-(v + 65) / 80) }
  static func alphaM(_ v: Double) -> Double { 0.1 * linear(v + 40, 10) }
  static func betaM(_ v: Double) -> Double { 4 * exp(-(v + 65) / 18) }
  static func alphaH(_ v: Double) -> Double { 0.07 * exp(-(v + 65) / 20) }
  static func betaH(_ v: Double) -> Double { 1 / (1 + exp(-(v + 35) / 10)) }

  /// x / (1 − exp(−x/k)), with its limit k at x = 0.
  static func linear(_ x: Double, _ k: Double) -> Double {
    abs(x) < 1e-7 ? k : x / (1 - exp(-x / k))
  }

  /// What a simulation measured.
  struct Run {
    let duration: Double
    let spikes: [Int]
    let lateSpikes: [Int]
    /// The first and last spike times of the second half, in ms.
    let lateFirst: [Double]
    let lateLast: [Double]
    let lowest: [Double]
    let highest: [Double]
    let peak: [Double]
    let times: [Double]
    let trace: [[Double]]

    /// Spikes per second in the second half, from the intervals between its spikes.
    func rate(_ i: Int) -> Double {
      lateSpikes[i] < 2 ? 0 : Double(lateSpikes[i] - 1) / ((lateLast[i] - lateFirst[i]) / 1000)
    }
  }

  /// Simulates `duration` ms from rest (V = −65 mV, gates at their steady states) with
  /// Euler steps of `dt` ms, keeping V every `recordEvery` steps when it is positive.
  func simulate(dt: Double, duration: Double, recordEvery: Int = 0) -> Run {
    typealias H = HodgkinHuxleyPopulation
    let count = currents.count
    let steps = Int((duration / dt).rounded())
    let rest = -65.0
    var state = Tensor.zeros([4, count], dtype: .float64)
    var spikes = [Int](repeating: 0, count: count)
    var late = spikes
    var (lateFirst, lateLast) = (
      [Double](repeating: 0, count: count), [Double](repeating: 0, count: count)
    )
    var (lowest, highest) = (
      [Double](repeating: .infinity, count: count), [Double](repeating: -.infinity, count: count)
    )
    var peak = highest
    var (times, trace): ([Double], [[Double]]) = (
      recordEvery > 0 ? [0] : [], recordEvery > 0 ? [[Double](repeating: rest, count: count)] : []
    )
    currents.withUnsafeBufferPointer(as: Double.self) { current in
      state.withUnsafeMutableBufferPointer(as: Double.self) { s in
        for i in 0..<count {
          s[i] = rest
          s[count + i] = H.alphaM(rest) / (H.alphaM(rest) + H.betaM(rest))
          s[2 * count + i] = H.alphaH(rest) / (H.alphaH(rest) + H.betaH(rest))
          s[3 * count + i] = H.alphaN(rest) / (H.alphaN(rest) + H.betaN(rest))
        }
        for step in 1...steps {
          let isLate = step > steps / 2
          for i in 0..<count {
            let (v, m, h, n) = (s[i], s[count + i], s[2 * count + i], s[3 * count + i])
            let ionic =
              H.gNa * m * m * m * h * (v - H.eNa) + H.gK * n * n * n * n * (v - H.eK)
              + H.gL * (v - H.eL)
            let next = v + dt * (current[i] - ionic) / H.capacitance
            s[count + i] = m + dt * (H.alphaM(v) * (1 - m) - H.betaM(v) * m)
            s[2 * count + i] = h + dt * (H.alphaH(v) * (1 - h) - H.betaH(v) * h)
            s[3 * count + i] = n + dt * (H.alphaN(v) * (1 - n) - H.betaN(v) * n)
            s[i] = next
            if v < 0 && next >= 0 {
              spikes[i] += 1
              if isLate {
                if late[i] == 0 { lateFirst[i] = Double(step) * dt }
                lateLast[i] = Double(step) * dt
                late[i] += 1
              }
            }
            peak[i] = max(peak[i], next)
            if isLate {
              lowest[i] = min(lowest[i], next)
              highest[i] = max(highest[i], next)
            }
          }
          if recordEvery > 0 && step % recordEvery == 0 {
            times.append(Double(step) * dt)
            trace.append(Array(s[0..<count]))
          }
        }
      }
    }
    return Run(
      duration: duration, spikes: spikes, lateSpikes: late, lateFirst: lateFirst,
      lateLast: lateLast, lowest: lowest, highest: highest,
      peak: peak, times: times, trace: trace)
  }
}

// MARK: - Formatting

/// `value` with `decimals` decimals (the same text on every platform).
private func fixed(_ value: Double, _ decimals: Int) -> String {
  String(format: "%.\(decimals)f", value)
}

private func pad(_ text: String, _ width: Int) -> String {
  String(repeating: " ", count: max(0, width - text.count)) + text
}
