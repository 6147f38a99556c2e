#!/usr/bin/env python3
"""The workloads of docs/benchmarks.md on PyTorch (eager), JAX (jit) and NumPy
(hand-written backprop), printing the same JSON lines as `swift run -c release benchmarks`.

    python3 peers.py [--threads N] [--quick] [--frameworks torch,jax,numpy,scalar]
                     [--omp-wait default|active|passive] [WORKLOAD ...]

Install the peers with `pip install torch jax jaxlib numpy`. Thread counts are fixed through
environment variables before the frameworks load. On machines where OPENBLAS_CORETYPE is set,
unset it (and OPENBLAS_L2_SIZE) for this script only: it slows NumPy's kernels.
"""
import argparse
import json
import math
import os
import random
import sys
import time
from functools import partial

parser = argparse.ArgumentParser()
parser.add_argument("workloads", nargs="*")
parser.add_argument("--threads", type=int, default=os.cpu_count())
parser.add_argument("--quick", action="store_true")
parser.add_argument("--frameworks", default="torch,jax,numpy,scalar")
parser.add_argument("--omp-wait", choices=["default", "active", "passive"], default="default",
                    help="OMP_WAIT_POLICY for PyTorch's OpenMP threads: on a busy machine, threads that spin "
                         "at every barrier can slow a two-thread step a hundredfold; passive ones sleep")
args = parser.parse_args()
T = str(args.threads)
if args.omp_wait != "default":
    os.environ["OMP_WAIT_POLICY"] = args.omp_wait.upper()
for var in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]:
    os.environ[var] = T
# XLA has no flag for a thread count (an `intra_op_parallelism_threads=N` word in XLA_FLAGS is
# ignored): at one thread this turns off Eigen's thread pool, and compare.sh pins the process
# to one core; at more threads JAX uses every core the process may run on.
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=%s" % ("true" if args.threads > 1 else "false")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
frameworks = args.frameworks.split(",")

import numpy as np  # noqa: E402


def median_seconds(fn, warmup, timed):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(timed):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    n = len(times)
    return times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2


def emit(**fields):
    fields.setdefault("threads", args.threads)
    if args.omp_wait != "default":
        fields.setdefault("omp_wait", args.omp_wait)
    print(json.dumps(fields), flush=True)


def reps(warmup, timed):
    return (min(warmup, 2), min(timed, 5)) if args.quick else (warmup, timed)


rng = np.random.default_rng(1)
PATTERNS = np.array([[1, 0, 1, 0, 0, 1, 1, 0], [0, 1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 1, 0, 0, 1],
                     [1, 0, 0, 0, 1, 0, 1, 1], [1, 0, 0, 1, 0, 1, 0, 1]], dtype=np.float32)

# ---------------------------------------------------------------- PyTorch (eager)


def torch_workloads():
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    out = {}

    def adam(params, lr):
        """Adam in its fastest form on this build: fused, else one multi-tensor (foreach) update."""
        try:
            return torch.optim.Adam(params, lr=lr, fused=True)
        except (RuntimeError, TypeError):
            return torch.optim.Adam(params, lr=lr, foreach=True)

    def gemm():
        for n in ([128, 256] if args.quick else [128, 256, 512, 1024]):
            a, b = torch.randn(n, n), torch.randn(n, n)
            timed = 2 if args.quick else max(10, int(2e10 / (2 * n ** 3)))
            s = median_seconds(lambda: torch.mm(a, b), 3, timed)
            emit(workload="gemm", framework="torch", n=n, metric="gflops", value=2 * n ** 3 / s / 1e9,
                 dtype="f32", reps=timed)

    def mlp(name, sizes, act, batch, warm, timed):
        model = torch.nn.Sequential(torch.nn.Linear(sizes[0], sizes[1]), act(),
                                    torch.nn.Linear(sizes[1], sizes[2]))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x = torch.randn(batch, sizes[0])
        y = torch.randint(0, sizes[2], (batch,))
        lossf = torch.nn.CrossEntropyLoss()
        losses = []

        def step():
            opt.zero_grad()
            loss = lossf(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        w, t = reps(warm, timed)
        s = median_seconds(step, w, t)
        emit(workload=name, framework="torch", metric="step_ms", value=s * 1e3, dtype="f32", reps=t,
             first_loss=losses[0], last_loss=losses[-1])

    def lstm():
        model = torch.nn.LSTM(28, 128, batch_first=True)
        head = torch.nn.Linear(128, 10)
        opt = adam(list(model.parameters()) + list(head.parameters()), lr=1e-3)
        x = torch.randn(32, 28, 28)
        y = torch.randint(0, 10, (32,))
        lossf = torch.nn.CrossEntropyLoss()
        losses = []

        def step():
            opt.zero_grad()
            out, _ = model(x)
            loss = lossf(head(out[:, -1]), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        w, t = reps(5, 50)
        s = median_seconds(step, w, t)
        emit(workload="lstm", framework="torch", metric="step_ms", value=s * 1e3, dtype="f32", reps=t,
             first_loss=losses[0], last_loss=losses[-1])

    def hopfield():
        x, probes = hopfield_data()
        X, P = torch.from_numpy(x), torch.from_numpy(probes)
        W = X.T @ X / X.shape[0] - torch.eye(X.shape[1])
        result = {}

        def recall():
            # A probe that a sweep leaves unchanged is a fixed point: later sweeps multiply
            # only the probes still changing (the project's recall does the same).
            s = P.clone()
            active = torch.arange(s.shape[0])
            for _ in range(20):
                rows = s[active]
                n = torch.where(rows @ W >= 0, 1.0, -1.0)
                changed = (n != rows).any(dim=1)
                s[active] = n
                active = active[changed]
                if active.numel() == 0:
                    break
            result["s"] = s
        w, t = reps(2, 10)
        sec = median_seconds(recall, w, t)
        emit(workload="hopfield", framework="torch", metric="recall_ms", value=sec * 1e3, dtype="f32", reps=t)
        acc = float((result["s"] == X).all(dim=1).float().mean())
        emit(workload="hopfield", framework="torch", metric="recall_accuracy", value=acc, dtype="f32")

    def autoencoder():
        x = torch.from_numpy(PATTERNS)
        epochs = 500 if args.quick else 5000
        result = {}

        def run():
            torch.manual_seed(1)
            # The output sigmoid is folded into the loss: binary cross-entropy from the logits.
            model = torch.nn.Sequential(torch.nn.Linear(8, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 8))
            opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
            lossf = torch.nn.BCEWithLogitsLoss()
            for _ in range(epochs):
                opt.zero_grad()
                loss = lossf(model(x), x)
                loss.backward()
                opt.step()
            result["loss"] = loss.item()
        t = 1 if args.quick else 3
        s = median_seconds(run, 0, t)
        emit(workload="autoencoder", framework="torch", metric="run_ms", value=s * 1e3, dtype="f32", reps=t,
             final_loss=result["loss"], epochs=epochs)

    def vae():
        enc = torch.nn.Linear(64, 128)
        mean_head, logvar_head = torch.nn.Linear(128, 8), torch.nn.Linear(128, 8)
        dec = torch.nn.Sequential(torch.nn.Linear(8, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64))
        params = [p for m in (enc, mean_head, logvar_head, dec) for p in m.parameters()]
        opt = adam(params, lr=1e-3)
        x = torch.rand(64, 64)
        losses = []

        def step():
            opt.zero_grad()
            h = torch.relu(enc(x))
            mu, logvar = mean_head(h), logvar_head(h)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            logits = dec(z)
            rec = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
            kl = 0.5 * torch.sum(logvar.exp() + mu * mu - logvar - 1)
            loss = (rec + kl) / x.shape[0]
            loss.backward()
            opt.step()
            losses.append(loss.item())
        w, t = reps(20, 200)
        s = median_seconds(step, w, t)
        emit(workload="vae", framework="torch", metric="step_ms", value=s * 1e3, dtype="f32", reps=t,
             first_loss=losses[0], last_loss=losses[-1])

    def charlm():
        x, y = (torch.from_numpy(a).long() for a in charlm_data())
        embed = torch.nn.Embedding(CHARLM["symbols"], CHARLM["embedding"])
        lstm = torch.nn.LSTM(CHARLM["embedding"], CHARLM["hidden"], batch_first=True)
        head = torch.nn.Linear(CHARLM["hidden"], CHARLM["symbols"])
        params = [p for m in (embed, lstm, head) for p in m.parameters()]
        opt = adam(params, lr=2e-3)
        losses = []

        def step():
            opt.zero_grad()
            out, _ = lstm(embed(x))
            loss = torch.nn.functional.cross_entropy(head(out).reshape(-1, CHARLM["symbols"]), y.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            losses.append(loss.item())
        w, t = reps(5, 50)
        s = median_seconds(step, w, t)
        charlm_emit("torch", s, t, losses)

    def transformer():
        x, y = (torch.from_numpy(a).long() for a in transformer_data())
        c = TRANSFORMER
        embed = torch.nn.Embedding(c["symbols"], c["width"])
        positions = torch.nn.Parameter(0.02 * torch.randn(c["context"], c["width"]))
        layer = torch.nn.TransformerEncoderLayer(
            c["width"], c["heads"], dim_feedforward=c["hidden"], dropout=0.0, activation="relu",
            batch_first=True, norm_first=True)
        encoder = torch.nn.TransformerEncoder(layer, c["layers"], enable_nested_tensor=False)
        norm = torch.nn.LayerNorm(c["width"])
        head = torch.nn.Linear(c["width"], c["symbols"])
        params = [positions] + [p for m in (embed, encoder, norm, head) for p in m.parameters()]
        opt = adam(params, lr=1e-3)
        mask = torch.nn.Transformer.generate_square_subsequent_mask(c["context"])
        losses = []

        def step():
            opt.zero_grad()
            h = encoder(embed(x) + positions, mask=mask, is_causal=True)
            logits = head(norm(h))
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, c["symbols"]), y.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            losses.append(loss.item())
        w, t = reps(3, 20)
        s = median_seconds(step, w, t)
        transformer_emit("torch", s, t, losses)

    out["gemm"] = gemm
    out["mlp-mnist"] = lambda: mlp("mlp-mnist", [784, 256, 10], torch.nn.ReLU, 64, 20, 200)
    out["mlp-qs"] = lambda: mlp("mlp-qs", [273, 40, 3], torch.nn.Sigmoid, 32, 50, 1000)
    out["lstm"] = lstm
    out["hopfield"] = hopfield
    out["autoencoder"] = autoencoder
    out["vae"] = vae
    out["charlm"] = charlm
    out["transformer"] = transformer
    return out

# ---------------------------------------------------------------- JAX (jit)


def jax_workloads():
    import jax
    import jax.numpy as jnp
    out = {}

    def gemm():
        mm = jax.jit(jnp.dot)
        for n in ([128, 256] if args.quick else [128, 256, 512, 1024]):
            a = jnp.asarray(rng.standard_normal((n, n), dtype=np.float32))
            b = jnp.asarray(rng.standard_normal((n, n), dtype=np.float32))
            timed = 2 if args.quick else max(10, int(2e10 / (2 * n ** 3)))
            s = median_seconds(lambda: mm(a, b).block_until_ready(), 3, timed)
            emit(workload="gemm", framework="jax", n=n, metric="gflops", value=2 * n ** 3 / s / 1e9,
                 dtype="f32", reps=timed)

    def mlp(name, sizes, act, batch, warm, timed):
        key = jax.random.PRNGKey(1)
        k1, k2 = jax.random.split(key)
        params = [jax.random.normal(k1, (sizes[0], sizes[1])) / math.sqrt(sizes[0]), jnp.zeros(sizes[1]),
                  jax.random.normal(k2, (sizes[1], sizes[2])) / math.sqrt(sizes[1]), jnp.zeros(sizes[2])]
        x = jnp.asarray(rng.standard_normal((batch, sizes[0]), dtype=np.float32))
        y = jnp.asarray(rng.integers(0, sizes[2], batch))

        def loss_fn(p):
            h = act(x @ p[0] + p[1])
            logits = h @ p[2] + p[3]
            return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(batch), y])

        @partial(jax.jit, donate_argnums=0)
        def step(p):
            loss, g = jax.value_and_grad(loss_fn)(p)
            return [a - 0.1 * b for a, b in zip(p, g)], loss
        state = {"p": params, "losses": []}

        def run():
            state["p"], loss = step(state["p"])
            loss.block_until_ready()
            state["losses"].append(float(loss))
        w, t = reps(warm, timed)
        s = median_seconds(run, w, t)
        emit(workload=name, framework="jax", metric="step_ms", value=s * 1e3, dtype="f32", reps=t,
             first_loss=state["losses"][0], last_loss=state["losses"][-1])

    def lstm():
        H, I, B = 128, 28, 32
        key = jax.random.PRNGKey(1)
        ks = jax.random.split(key, 3)
        sc = 1 / math.sqrt(H)
        params = {"wx": jax.random.uniform(ks[0], (I, 4 * H), minval=-sc, maxval=sc),
                  "wh": jax.random.uniform(ks[1], (H, 4 * H), minval=-sc, maxval=sc),
                  "b": jnp.zeros(4 * H), "wo": jax.random.normal(ks[2], (H, 10)) / math.sqrt(H),
                  "bo": jnp.zeros(10)}
        xs = jnp.asarray(rng.standard_normal((28, B, I), dtype=np.float32))
        y = jnp.asarray(rng.integers(0, 10, B))

        def loss_fn(p):
            def cell(carry, x):
                h, c = carry
                z = x @ p["wx"] + h @ p["wh"] + p["b"]
                f, i, g, o = jnp.split(z, 4, axis=1)
                c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
                h = jax.nn.sigmoid(o) * jnp.tanh(c)
                return (h, c), None
            (h, _), _ = jax.lax.scan(cell, (jnp.zeros((B, H)), jnp.zeros((B, H))), xs)
            logits = h @ p["wo"] + p["bo"]
            return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(B), y])

        @partial(jax.jit, donate_argnums=(0, 1, 2))
        def step(p, m, v, t):
            loss, g = jax.value_and_grad(loss_fn)(p)
            m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
            v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
            p = jax.tree_util.tree_map(
                lambda p, m, v: p - 1e-3 * (m / (1 - 0.9 ** t)) / (jnp.sqrt(v / (1 - 0.999 ** t)) + 1e-8),
                p, m, v)
            return p, m, v, loss
        state = {"p": params, "m": jax.tree_util.tree_map(jnp.zeros_like, params),
                 "v": jax.tree_util.tree_map(jnp.zeros_like, params), "t": 0, "losses": []}

        def run():
            state["t"] += 1
            state["p"], state["m"], state["v"], loss = step(state["p"], state["m"], state["v"], state["t"])
            loss.block_until_ready()
            state["losses"].append(float(loss))
        w, t = reps(5, 50)
        s = median_seconds(run, w, t)
        emit(workload="lstm", framework="jax", metric="step_ms", value=s * 1e3, dtype="f32", reps=t,
             first_loss=state["losses"][0], last_loss=state["losses"][-1])

    def vae():
        ks = jax.random.split(jax.random.PRNGKey(1), 5)
        shapes = {"we": (64, 128), "wm": (128, 8), "wv": (128, 8), "wd": (8, 128), "wo": (128, 64)}
        params = {name: jax.random.normal(k, shape) / math.sqrt(shape[0])
                  for k, (name, shape) in zip(ks, shapes.items())}
        params.update({"be": jnp.zeros(128), "bm": jnp.zeros(8), "bv": jnp.zeros(8), "bd": jnp.zeros(128),
                       "bo": jnp.zeros(64)})
        x = jnp.asarray(rng.random((64, 64), dtype=np.float32))

        def loss_fn(p, key):
            h = jax.nn.relu(x @ p["we"] + p["be"])
            mu, logvar = h @ p["wm"] + p["bm"], h @ p["wv"] + p["bv"]
            z = mu + jax.random.normal(key, mu.shape) * jnp.exp(0.5 * logvar)
            logits = jax.nn.relu(z @ p["wd"] + p["bd"]) @ p["wo"] + p["bo"]
            rec = jnp.sum(jax.nn.softplus(logits) - x * logits)
            kl = 0.5 * jnp.sum(jnp.exp(logvar) + mu * mu - logvar - 1)
            return (rec + kl) / x.shape[0]

        @partial(jax.jit, donate_argnums=(0, 1, 2))
        def step(p, m, v, t, key):
            key, noise = jax.random.split(key)
            loss, g = jax.value_and_grad(loss_fn)(p, noise)
            m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
            v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
            p = jax.tree_util.tree_map(
                lambda p, m, v: p - 1e-3 * (m / (1 - 0.9 ** t)) / (jnp.sqrt(v / (1 - 0.999 ** t)) + 1e-8),
                p, m, v)
            return p, m, v, loss, key
        state = {"p": params, "m": jax.tree_util.tree_map(jnp.zeros_like, params),
                 "v": jax.tree_util.tree_map(jnp.zeros_like, params), "t": 0, "key": jax.random.PRNGKey(2),
                 "losses": []}

        def run():
            state["t"] += 1
            state["p"], state["m"], state["v"], loss, state["key"] = step(
                state["p"], state["m"], state["v"], state["t"], state["key"])
            loss.block_until_ready()
            state["losses"].append(float(loss))
        w, t = reps(20, 200)
        s = median_seconds(run, w, t)
        emit(workload="vae", framework="jax", metric="step_ms", value=s * 1e3, dtype="f32", reps=t,
             first_loss=state["losses"][0], last_loss=state["losses"][-1])

    def charlm():
        V, E, H = CHARLM["symbols"], CHARLM["embedding"], CHARLM["hidden"]
        x, y = charlm_data()
        xs, ys = jnp.asarray(x.T), jnp.asarray(y.T)  # time-major: [sequence, batch]
        ks = jax.random.split(jax.random.PRNGKey(1), 5)
        sc = 1 / math.sqrt(H)
        params = {"embed": jax.random.normal(ks[0], (V, E)),
                  "wx": jax.random.uniform(ks[1], (E, 4 * H), minval=-sc, maxval=sc),
                  "wh": jax.random.uniform(ks[2], (H, 4 * H), minval=-sc, maxval=sc),
                  "b": jnp.zeros(4 * H),
                  "wo": jax.random.uniform(ks[3], (H, V), minval=-sc, maxval=sc),
                  "bo": jnp.zeros(V)}

        def loss_fn(p):
            def cell(carry, e):
                h, c = carry
                z = e @ p["wx"] + h @ p["wh"] + p["b"]
                i, f, g, o = jnp.split(z, 4, axis=1)
                c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
                h = jax.nn.sigmoid(o) * jnp.tanh(c)
                return (h, c), h
            zero = jnp.zeros((xs.shape[1], H))
            _, hs = jax.lax.scan(cell, (zero, zero), p["embed"][xs])
            logp = jax.nn.log_softmax(hs @ p["wo"] + p["bo"])
            return -jnp.mean(jnp.take_along_axis(logp, ys[..., None], axis=2))

        @partial(jax.jit, donate_argnums=(0, 1, 2))
        def step(p, m, v, t):
            loss, g = jax.value_and_grad(loss_fn)(p)
            norm = jnp.sqrt(sum(jnp.sum(a * a) for a in jax.tree_util.tree_leaves(g)))
            scale = jnp.minimum(1.0, 5.0 / (norm + 1e-6))
            g = jax.tree_util.tree_map(lambda g: g * scale, g)
            m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
            v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
            p = jax.tree_util.tree_map(
                lambda p, m, v: p - 2e-3 * (m / (1 - 0.9 ** t)) / (jnp.sqrt(v / (1 - 0.999 ** t)) + 1e-8),
                p, m, v)
            return p, m, v, loss
        state = {"p": params, "m": jax.tree_util.tree_map(jnp.zeros_like, params),
                 "v": jax.tree_util.tree_map(jnp.zeros_like, params), "t": 0, "losses": []}

        def run():
            state["t"] += 1
            state["p"], state["m"], state["v"], loss = step(state["p"], state["m"], state["v"], state["t"])
            loss.block_until_ready()
            state["losses"].append(float(loss))
        w, t = reps(5, 50)
        s = median_seconds(run, w, t)
        charlm_emit("jax", s, t, state["losses"])

    def transformer():
        c = TRANSFORMER
        V, D, H, F, T = c["symbols"], c["width"], c["heads"], c["hidden"], c["context"]
        x, y = (jnp.asarray(a) for a in transformer_data())
        keys = iter(jax.random.split(jax.random.PRNGKey(1), 4 + 6 * c["layers"]))

        def dense(fan_in, fan_out):
            return jax.random.normal(next(keys), (fan_in, fan_out)) / math.sqrt(fan_in)
        params = {"embed": jax.random.normal(next(keys), (V, D)),
                  "positions": 0.02 * jax.random.normal(next(keys), (T, D)),
                  "norm": (jnp.ones(D), jnp.zeros(D)),
                  "head": (dense(D, V), jnp.zeros(V)),
                  "layers": [{"norm1": (jnp.ones(D), jnp.zeros(D)), "norm2": (jnp.ones(D), jnp.zeros(D)),
                              "q": (dense(D, D), jnp.zeros(D)), "k": (dense(D, D), jnp.zeros(D)),
                              "v": (dense(D, D), jnp.zeros(D)), "o": (dense(D, D), jnp.zeros(D)),
                              "up": (dense(D, F), jnp.zeros(F)), "down": (dense(F, D), jnp.zeros(D))}
                             for _ in range(c["layers"])]}
        causal = jnp.tril(jnp.ones((T, T), dtype=bool))

        def layer_norm(h, p):
            mu = h.mean(-1, keepdims=True)
            var = ((h - mu) ** 2).mean(-1, keepdims=True)
            return p[0] * (h - mu) / jnp.sqrt(var + 1e-5) + p[1]

        def linear(h, p):
            return h @ p[0] + p[1]

        def attention(h, p):
            b = h.shape[0]

            def heads(z):
                return z.reshape(b, T, H, D // H).transpose(0, 2, 1, 3)
            q, k, v = (heads(linear(h, p[n])) for n in "qkv")
            scores = jnp.where(causal, q @ k.transpose(0, 1, 3, 2) / math.sqrt(D // H), -jnp.inf)
            out = (jax.nn.softmax(scores, axis=-1) @ v).transpose(0, 2, 1, 3).reshape(b, T, D)
            return linear(out, p["o"])

        def loss_fn(p):
            h = p["embed"][x] + p["positions"]
            for lp in p["layers"]:
                h = h + attention(layer_norm(h, lp["norm1"]), lp)
                h = h + linear(jax.nn.relu(linear(layer_norm(h, lp["norm2"]), lp["up"])), lp["down"])
            logp = jax.nn.log_softmax(linear(layer_norm(h, p["norm"]), p["head"]))
            return -jnp.mean(jnp.take_along_axis(logp, y[..., None], axis=2))

        @partial(jax.jit, donate_argnums=(0, 1, 2))
        def step(p, m, v, t):
            loss, g = jax.value_and_grad(loss_fn)(p)
            norm = jnp.sqrt(sum(jnp.sum(a * a) for a in jax.tree_util.tree_leaves(g)))
            scale = jnp.minimum(1.0, 1.0 / (norm + 1e-6))
            g = jax.tree_util.tree_map(lambda g: g * scale, g)
            m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
            v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
            p = jax.tree_util.tree_map(
                lambda p, m, v: p - 1e-3 * (m / (1 - 0.9 ** t)) / (jnp.sqrt(v / (1 - 0.999 ** t)) + 1e-8),
                p, m, v)
            return p, m, v, loss
        state = {"p": params, "m": jax.tree_util.tree_map(jnp.zeros_like, params),
                 "v": jax.tree_util.tree_map(jnp.zeros_like, params), "t": 0, "losses": []}

        def run():
            state["t"] += 1
            state["p"], state["m"], state["v"], loss = step(state["p"], state["m"], state["v"], state["t"])
            loss.block_until_ready()
            state["losses"].append(float(loss))
        w, t = reps(3, 20)
        s = median_seconds(run, w, t)
        transformer_emit("jax", s, t, state["losses"])

    def hopfield():
        x, probes = hopfield_data()
        X, P = jnp.asarray(x), jnp.asarray(probes)
        W = X.T @ X / X.shape[0] - jnp.eye(X.shape[1])

        @jax.jit
        def recall(s, W):
            """Synchronous sweeps until nothing changes, at most 20, as one compiled loop (every
            probe in every sweep: jit needs fixed shapes)."""
            def sweep(state):
                i, s, _ = state
                n = jnp.where(s @ W >= 0, 1.0, -1.0).astype(s.dtype)
                return i + 1, n, jnp.any(n != s)
            return jax.lax.while_loop(lambda state: (state[0] < 20) & state[2], sweep, (0, s, True))[1]
        result = {}

        def run():
            result["s"] = recall(P, W).block_until_ready()
        w, t = reps(2, 10)
        sec = median_seconds(run, w, t)
        emit(workload="hopfield", framework="jax", metric="recall_ms", value=sec * 1e3, dtype="f32", reps=t)
        acc = float(jnp.mean(jnp.all(result["s"] == X, axis=1)))
        emit(workload="hopfield", framework="jax", metric="recall_accuracy", value=acc, dtype="f32")

    def autoencoder():
        """The whole training run as one jitted `lax.fori_loop` (framework "jax"), and the same
        epochs as a jitted step called from Python (framework "jax-step")."""
        x = jnp.asarray(PATTERNS)
        epochs = 500 if args.quick else 5000
        r = np.random.default_rng(1)
        init = (jnp.asarray(r.standard_normal((8, 3)) / math.sqrt(8), jnp.float32), jnp.zeros(3),
                jnp.asarray(r.standard_normal((3, 8)) / math.sqrt(3), jnp.float32), jnp.zeros(8))

        def loss_fn(p):
            # Binary cross-entropy of sigmoid(z) against x, written from the logits z.
            z = jax.nn.sigmoid(x @ p[0] + p[1]) @ p[2] + p[3]
            return jnp.mean(jax.nn.softplus(z) - x * z)

        def epoch(p, v):
            loss, g = jax.value_and_grad(loss_fn)(p)
            v = tuple(0.9 * a + b for a, b in zip(v, g))
            return tuple(a - 0.1 * b for a, b in zip(p, v)), v, loss

        @jax.jit
        def train(p):
            zeros = tuple(jnp.zeros_like(a) for a in p)
            return jax.lax.fori_loop(0, epochs, lambda _, s: epoch(s[0], s[1]), (p, zeros, jnp.float32(0)))[2]

        step = jax.jit(epoch, donate_argnums=(0, 1))
        train = train.lower(init).compile()  # compiled once, outside the timing
        result = {}

        def run_loop():
            result["loop"] = float(train(init).block_until_ready())

        def run_steps():
            p, v = tuple(jnp.array(a) for a in init), tuple(jnp.zeros_like(a) for a in init)
            for _ in range(epochs):
                p, v, loss = step(p, v)
            result["step"] = float(loss.block_until_ready())
        w, t = (0, 1) if args.quick else (1, 5)
        s = median_seconds(run_loop, w, t)
        emit(workload="autoencoder", framework="jax", metric="run_ms", value=s * 1e3, dtype="f32", reps=t,
             final_loss=result["loop"], epochs=epochs, form="fori_loop")
        run_steps()  # compiles the step
        w, t = (0, 1) if args.quick else (1, 3)
        s = median_seconds(run_steps, w, t)
        emit(workload="autoencoder", framework="jax-step", metric="run_ms", value=s * 1e3, dtype="f32",
             reps=t, final_loss=result["step"], epochs=epochs, form="jitted step per epoch")

    out["gemm"] = gemm
    out["mlp-mnist"] = lambda: mlp("mlp-mnist", [784, 256, 10], jax.nn.relu, 64, 20, 200)
    out["mlp-qs"] = lambda: mlp("mlp-qs", [273, 40, 3], jax.nn.sigmoid, 32, 50, 1000)
    out["lstm"] = lstm
    out["hopfield"] = hopfield
    out["autoencoder"] = autoencoder
    out["vae"] = vae
    out["charlm"] = charlm
    out["transformer"] = transformer
    return out

# ---------------------------------------------------------------- NumPy (hand-written backprop)


def numpy_workloads():
    out = {}

    def gemm():
        for n in ([128, 256] if args.quick else [128, 256, 512, 1024]):
            a = rng.standard_normal((n, n), dtype=np.float32)
            b = rng.standard_normal((n, n), dtype=np.float32)
            timed = 2 if args.quick else max(10, int(2e10 / (2 * n ** 3)))
            s = median_seconds(lambda: a @ b, 3, timed)
            emit(workload="gemm", framework="numpy", n=n, metric="gflops", value=2 * n ** 3 / s / 1e9,
                 dtype="f32", reps=timed)

    def mlp(name, sizes, act, batch, warm, timed):
        W1 = (rng.standard_normal((sizes[0], sizes[1])) / math.sqrt(sizes[0])).astype(np.float32)
        b1 = np.zeros(sizes[1], np.float32)
        W2 = (rng.standard_normal((sizes[1], sizes[2])) / math.sqrt(sizes[1])).astype(np.float32)
        b2 = np.zeros(sizes[2], np.float32)
        x = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
        y = rng.integers(0, sizes[2], batch)
        losses = []

        def step():
            nonlocal W1, b1, W2, b2
            a = x @ W1 + b1
            h = np.maximum(a, 0) if act == "relu" else 1 / (1 + np.exp(-a))
            z = h @ W2 + b2
            z = z - z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            losses.append(float(-np.mean(np.log(p[np.arange(batch), y]))))
            dz = p
            dz[np.arange(batch), y] -= 1
            dz /= batch
            dW2, db2 = h.T @ dz, dz.sum(0)
            dh = dz @ W2.T
            da = dh * (a > 0) if act == "relu" else dh * h * (1 - h)
            dW1, db1 = x.T @ da, da.sum(0)
            W1 -= 0.1 * dW1
            b1 -= 0.1 * db1
            W2 -= 0.1 * dW2
            b2 -= 0.1 * db2
        w, t = reps(warm, timed)
        s = median_seconds(step, w, t)
        emit(workload=name, framework="numpy", metric="step_ms", value=s * 1e3, dtype="f32", reps=t,
             first_loss=losses[0], last_loss=losses[-1])

    def hopfield():
        X, P = hopfield_data()
        W = X.T @ X / X.shape[0] - np.eye(X.shape[1], dtype=np.float32)
        result = {}

        def recall():
            # Settled probes leave the batch, as in the PyTorch peer and the project.
            s = P.copy()
            active = np.arange(s.shape[0])
            for _ in range(20):
                rows = s[active]
                n = np.where(rows @ W >= 0, 1.0, -1.0).astype(np.float32)
                changed = (n != rows).any(axis=1)
                s[active] = n
                active = active[changed]
                if active.size == 0:
                    break
            result["s"] = s
        w, t = reps(2, 10)
        sec = median_seconds(recall, w, t)
        emit(workload="hopfield", framework="numpy", metric="recall_ms", value=sec * 1e3, dtype="f32", reps=t)
        emit(workload="hopfield", framework="numpy", metric="recall_accuracy",
             value=float((result["s"] == X).all(axis=1).mean()), dtype="f32")

    def autoencoder():
        x = PATTERNS
        epochs = 500 if args.quick else 5000
        result = {}

        def run():
            r = np.random.default_rng(1)
            W1 = (r.standard_normal((8, 3)) / math.sqrt(8)).astype(np.float32)
            b1 = np.zeros(3, np.float32)
            W2 = (r.standard_normal((3, 8)) / math.sqrt(3)).astype(np.float32)
            b2 = np.zeros(8, np.float32)
            V = [np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)]
            n = x.size
            for _ in range(epochs):
                h = 1 / (1 + np.exp(-(x @ W1 + b1)))
                y = 1 / (1 + np.exp(-(h @ W2 + b2)))
                yc = np.clip(y, 1e-7, 1 - 1e-7)
                loss = -np.mean(x * np.log(yc) + (1 - x) * np.log(1 - yc))
                dz2 = (y - x) / n
                dW2, db2 = h.T @ dz2, dz2.sum(0)
                dz1 = (dz2 @ W2.T) * h * (1 - h)
                dW1, db1 = x.T @ dz1, dz1.sum(0)
                for k, (p, g) in enumerate(zip([W1, b1, W2, b2], [dW1, db1, dW2, db2])):
                    V[k] = 0.9 * V[k] + g
                    p -= 0.1 * V[k]
            result["loss"] = float(loss)
        t = 1 if args.quick else 3
        s = median_seconds(run, 0, t)
        emit(workload="autoencoder", framework="numpy", metric="run_ms", value=s * 1e3, dtype="f32", reps=t,
             final_loss=result["loss"], epochs=epochs)

    out["gemm"] = gemm
    out["mlp-mnist"] = lambda: mlp("mlp-mnist", [784, 256, 10], "relu", 64, 20, 200)
    out["mlp-qs"] = lambda: mlp("mlp-qs", [273, 40, 3], "sigmoid", 32, 50, 1000)
    out["hopfield"] = hopfield
    out["autoencoder"] = autoencoder
    return out

# ---------------------------------------------------------------- scalar autodiff (micrograd-style)


class Scalar:
    """A scalar autodiff node in plain Python, written here to time the scalar-mlp workload."""
    __slots__ = ("data", "grad", "parents", "local")

    def __init__(self, data, parents=(), local=()):
        self.data, self.grad, self.parents, self.local = data, 0.0, parents, local

    def __add__(self, o):
        o = o if isinstance(o, Scalar) else Scalar(o)
        return Scalar(self.data + o.data, (self, o), (1.0, 1.0))

    def __mul__(self, o):
        o = o if isinstance(o, Scalar) else Scalar(o)
        return Scalar(self.data * o.data, (self, o), (o.data, self.data))

    def relu(self):
        return Scalar(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                order.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((p, False) for p in v.parents)
        self.grad = 1.0
        for v in reversed(order):
            for p, d in zip(v.parents, v.local):
                p.grad += d * v.grad


def scalar_workloads():
    def scalar_mlp():
        r = random.Random(1)
        sizes = [2, 16, 16, 1]
        layers = [[([Scalar(r.uniform(-1, 1)) for _ in range(sizes[l])], Scalar(0.0))
                   for _ in range(sizes[l + 1])] for l in range(3)]
        params = [p for layer in layers for w, b in layer for p in w + [b]]
        pts = [[r.uniform(-2, 2), r.uniform(-2, 2)] for _ in range(100)]
        tgt = [math.sin(a) * math.cos(b) for a, b in pts]
        losses = []

        def step():
            total = Scalar(0.0)
            for p, t in zip(pts, tgt):
                act = [Scalar(v) for v in p]
                for l, layer in enumerate(layers):
                    nxt = []
                    for w, b in layer:
                        s = b
                        for wi, ai in zip(w, act):
                            s = s + wi * ai
                        nxt.append(s.relu() if l < 2 else s)
                    act = nxt
                d = act[0] + (-t)
                total = total + d * d
            loss = total * (1 / 100)
            for p in params:
                p.grad = 0.0
            loss.backward()
            for p in params:
                p.data -= 0.05 * p.grad
            losses.append(loss.data)
        w, t = (1, 2) if args.quick else (2, 5)
        s = median_seconds(step, w, t)
        emit(workload="scalar-mlp", framework="python-scalar", metric="step_ms", value=s * 1e3, dtype="f64",
             reps=t, first_loss=losses[0], last_loss=losses[-1])
    return {"scalar-mlp": scalar_mlp}


def hopfield_data():
    r = np.random.default_rng(1)
    X = np.where(r.random((100, 1024)) < 0.5, 1.0, -1.0).astype(np.float32)
    flip = r.random(X.shape) < 0.2
    return X, np.where(flip, -X, X).astype(np.float32)


CHARLM = {"symbols": 65, "embedding": 64, "hidden": 256, "batch": 32, "sequence": 100}


def charlm_data():
    """Pseudo-random symbols cut into `batch` windows of `sequence` inputs, each target the next symbol."""
    b, n = CHARLM["batch"], CHARLM["sequence"]
    text = np.random.default_rng(1).integers(0, CHARLM["symbols"], b * n + 1).astype(np.int32)
    return text[:-1].reshape(b, n), text[1:].reshape(b, n)


def charlm_emit(framework, seconds, reps, losses):
    b, n = CHARLM["batch"], CHARLM["sequence"]
    emit(workload="charlm", framework=framework, metric="step_ms", value=seconds * 1e3, dtype="f32",
         reps=reps, first_loss=losses[0], last_loss=losses[-1], batch=b, sequence=n)
    emit(workload="charlm", framework=framework, metric="chars_per_s", value=b * n / seconds, dtype="f32",
         reps=reps, batch=b, sequence=n)


TRANSFORMER = {"symbols": 65, "width": 128, "heads": 4, "hidden": 512, "layers": 2, "context": 128, "batch": 32}


def transformer_data():
    """Pseudo-random symbols cut into `batch` windows of `context` inputs, each target the next symbol."""
    b, n = TRANSFORMER["batch"], TRANSFORMER["context"]
    text = np.random.default_rng(1).integers(0, TRANSFORMER["symbols"], b * n + 1).astype(np.int32)
    return text[:-1].reshape(b, n), text[1:].reshape(b, n)


def transformer_emit(framework, seconds, reps, losses):
    b, n = TRANSFORMER["batch"], TRANSFORMER["context"]
    emit(workload="transformer", framework=framework, metric="step_ms", value=seconds * 1e3, dtype="f32",
         reps=reps, first_loss=losses[0], last_loss=losses[-1], batch=b, sequence=n)
    emit(workload="transformer", framework=framework, metric="chars_per_s", value=b * n / seconds, dtype="f32",
         reps=reps, batch=b, sequence=n)


builders = {"torch": torch_workloads, "jax": jax_workloads, "numpy": numpy_workloads, "scalar": scalar_workloads}
for name in frameworks:
    try:
        table = builders[name]()
    except ImportError as error:
        print(f"peers: skipping {name}: {error}", file=sys.stderr)
        continue
    for workload, fn in table.items():
        if not args.workloads or workload in args.workloads:
            fn()
