"""How fast does nn train and run an MNIST MLP, next to PyTorch and a hand-written loop?

Measures, in one run on one machine (numbers from different runs are not comparable,
and these machines are noisy):

1. one training epoch (60,000 images) of a 784-256-128-10 ReLU network, softmax
   cross-entropy, Adam, batch 128, float32, shuffled: nn through Sequential.fit,
   PyTorch on the CPU with the same thread count, and a minimal hand-written NumPy
   loop doing the same arithmetic, each in a process of its own (benchmarks/workers.py:
   in one process they slow each other down); a warm-up epoch first, then epochs taken
   in turn, one at a time, median;
2. the ratios nn/torch and nn/hand-written, nn's achieved GFLOP/s (GEMM FLOPs only)
   and the float32 GEMM peak NumPy reaches here (large square matmul);
   and, as the ceiling for any implementation, the time of the epoch's matrix
   products alone (same shapes, nothing else), and nn's epoch split into those
   GEMMs, Adam's update (timed as nn's epoch minus nn's epoch with the update
   skipped) and everything else, next to the epoch time that 70% of peak allows;
3. inference: images per second of predict on the 10,000 test images, nn vs torch;
4. time to 98% test accuracy for the MNIST chapter's network;
5. peak resident memory of an nn training run (in a separate process);
6. with --book: wall time of building the whole book from clean, and of the nbval suite.

Prints the machine, a plain-text table, and writes the same numbers as JSON.

    python benchmarks/mnist_speed.py [--rounds 5] [--book] [--json PATH]
"""
import argparse
import functools
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import nn
from nn.datasets import mnist

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workers import KEPT, Workers, ratio_rows  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIZES = (784, 256, 128, 10)
BATCH_SIZE = 128
THREADS = os.cpu_count()


# --------------------------------------------------------------------------- data
def load():
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    scale = np.float32(1 / 255)
    return ((x_train.reshape(-1, 784) * scale, y_train.astype(np.int64)),
            (x_test.reshape(-1, 784) * scale, y_test.astype(np.int64)))


def gemm_flops_per_epoch(n):
    """FLOPs of the matrix products of one epoch: forward x W, backward x^T g and g W^T
    (the first layer's g W^T is skipped: no one needs the gradient of the pixels)."""
    pairs = list(zip(SIZES[:-1], SIZES[1:]))
    forward = sum(2 * n * d_in * d_out for d_in, d_out in pairs)
    weight_grads = forward
    input_grads = forward - 2 * n * SIZES[0] * SIZES[1]
    return forward + weight_grads + input_grads


# --------------------------------------------------------------------------- nn
def nn_model(seed=0, optimizer=None):
    model = nn.Sequential([
        nn.layers.Dense(256, activation="relu", input_dim=784),
        nn.layers.Dense(128, activation="relu"),
        nn.layers.Dense(10, activation="softmax"),
    ], seed=seed)
    # No metrics: like the other two, the epoch computes each batch's loss and no accuracy.
    model.compile(optimizer=optimizer or nn.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy")
    return model


class NNTrainer:
    name = "nn"

    def __init__(self, x, y, optimizer=None):
        self.x, self.y, self.model = x, y, nn_model(optimizer=optimizer)

    def epoch(self):
        self.model.fit(self.x, self.y, batch_size=BATCH_SIZE, epochs=1, verbose=0)

    def warm_up(self):
        self.epoch()

    def predict(self, x, batch_size):
        return self.model.predict(x, batch_size=batch_size)


class _NoUpdate(nn.optimizers.Adam):
    """Adam that computes nothing: every step is taken, no parameter or moment changes."""

    def _update(self, param, grad, state, learning_rate):
        pass


class NNNoUpdateTrainer(NNTrainer):
    """nn's epoch with the optimizer's update removed: what an epoch would cost if the
    update were free. The difference to NNTrainer is the time of Adam's update."""

    name = "nn, no update"

    def __init__(self, x, y):
        super().__init__(x, y, optimizer=_NoUpdate())


# ------------------------------------------------------------ hand-written NumPy
class HandWrittenTrainer:
    """The floor for a NumPy design: the same arithmetic with no abstractions at all."""

    name = "hand-written"

    def __init__(self, x, y, seed=0):
        self.x, self.y = x, y
        self.rng = np.random.default_rng(seed)
        self.params = []
        for d_in, d_out in zip(SIZES[:-1], SIZES[1:]):
            limit = np.sqrt(6 / (d_in + d_out))
            self.params += [self.rng.uniform(-limit, limit, (d_in, d_out)).astype(np.float32),
                            np.zeros(d_out, np.float32)]
        self.grads = [np.empty_like(p) for p in self.params]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.scratch = [np.empty_like(p) for p in self.params]
        self.t = 0

    def step(self, x, labels):
        """One Adam step on one batch; returns the batch's mean cross-entropy."""
        w1, b1, w2, b2, w3, b3 = self.params
        h1 = x @ w1
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ w2
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ w3
        z += b3
        rows = np.arange(len(labels))
        z -= z.max(axis=1, keepdims=True)
        true_logits = z[rows, labels]
        np.exp(z, out=z)
        totals = z.sum(axis=1, keepdims=True)
        loss = (np.log(totals[:, 0]) - true_logits).mean()  # cross-entropy by log-sum-exp
        z /= totals
        z[rows, labels] -= 1
        z /= len(labels)                                   # dL/dz = (p - y) / n
        g1, gb1, g2, gb2, g3, gb3 = self.grads
        np.matmul(h2.T, z, out=g3)
        np.sum(z, axis=0, out=gb3)
        d2 = z @ w3.T
        d2 *= h2 > 0
        np.matmul(h1.T, d2, out=g2)
        np.sum(d2, axis=0, out=gb2)
        d1 = d2 @ w2.T
        d1 *= h1 > 0
        np.matmul(x.T, d1, out=g1)
        np.sum(d1, axis=0, out=gb1)
        self.t += 1
        lr, b1_, b2_, eps = 1e-3, 0.9, 0.999, 1e-7
        step_size = lr / (1 - b1_**self.t)
        root_correction = np.sqrt(1 - b2_**self.t)
        for p, g, m, v, s in zip(self.params, self.grads, self.m, self.v, self.scratch):
            m *= b1_
            np.multiply(g, 1 - b1_, out=s)
            m += s
            v *= b2_
            np.multiply(g, g, out=s)
            s *= 1 - b2_
            v += s
            np.sqrt(v, out=s)
            s /= root_correction
            s += eps
            np.divide(m, s, out=s)
            s *= step_size
            p -= s
        return loss

    def epoch(self):
        order = self.rng.permutation(len(self.x))
        for start in range(0, len(order), BATCH_SIZE):
            index = order[start:start + BATCH_SIZE]
            self.step(np.take(self.x, index, axis=0), np.take(self.y, index))

    def warm_up(self):
        self.epoch()


# --------------------------------------------------------------------------- torch
class TorchTrainer:
    name = "torch"

    def __init__(self, x, y, seed=0):
        import torch

        torch.set_num_threads(THREADS)
        torch.manual_seed(seed)
        self.torch = torch
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        layers = []
        for d_in, d_out in zip(SIZES[:-1], SIZES[1:]):
            layers += [torch.nn.Linear(d_in, d_out), torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers[:-1])
        self.loss = torch.nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, eps=1e-7)

    def epoch(self):
        order = self.torch.randperm(len(self.x))
        for start in range(0, len(order), BATCH_SIZE):
            index = order[start:start + BATCH_SIZE]
            self.optimizer.zero_grad(set_to_none=True)
            self.loss(self.model(self.x[index]), self.y[index]).backward()
            self.optimizer.step()

    def warm_up(self):
        self.epoch()

    def predict(self, x, batch_size):
        x = self.torch.from_numpy(x)
        with self.torch.no_grad():
            return np.concatenate([self.torch.softmax(self.model(x[i:i + batch_size]), 1).numpy()
                                   for i in range(0, len(x), batch_size)])


TRAINERS = {trainer.name: trainer
            for trainer in (NNTrainer, NNNoUpdateTrainer, HandWrittenTrainer, TorchTrainer)}


def trainer(name):
    """A worker's trainer (benchmarks/workers.py): loads MNIST in its own process and keeps
    the test images for ``predict_test``."""
    (x_train, y_train), (x_test, _) = load()
    built = TRAINERS[name](x_train, y_train)
    built.predict_test = lambda batch_size: built.predict(x_test, batch_size)
    return built


def torch_version():
    """torch's version, read from its metadata: importing torch into a process slows
    NumPy's matrix products in it (benchmarks/workers.py), so only a worker imports it."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


# ------------------------------------------------------------------- measurements
def gemm_peak(size=2048, repeats=10):
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    a @ a
    best = min(_timed(lambda: a @ a) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def gemm_only_epoch(n, rounds):
    """One epoch's matrix products with nothing else: the ceiling for any implementation.

    The same GEMMs, shapes and memory layouts as a training epoch (forward x W, backward
    x^T g and g W^T), on preallocated arrays; the median over `rounds` epochs.
    """
    rng = np.random.default_rng(0)
    pairs = list(zip(SIZES[:-1], SIZES[1:]))
    inputs = [rng.random((BATCH_SIZE, d_in), dtype=np.float32) for d_in, _ in pairs]
    weights = [rng.random((d_in, d_out), dtype=np.float32) for d_in, d_out in pairs]
    grads = [rng.random((BATCH_SIZE, d_out), dtype=np.float32) for _, d_out in pairs]
    weight_grads = [np.empty_like(w) for w in weights]

    def epoch():
        for _ in range(n // BATCH_SIZE):
            for x, w in zip(inputs, weights):
                x @ w
            for x, g, out in zip(inputs, grads, weight_grads):
                np.matmul(x.T, g, out=out)
            for g, w in zip(grads[1:], weights[1:]):
                g @ w.T

    epoch()
    return statistics.median(_timed(epoch) for _ in range(rounds))


def time_method(spent, label, owner, name):
    """Replace ``owner.name`` (a method) by a version that adds its seconds to
    ``spent[label]``: for timing the parts of a real epoch as it runs."""
    method = getattr(owner, name)
    spent.setdefault(label, 0.0)

    @functools.wraps(method)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        result = method(*args, **kwargs)
        spent[label] += time.perf_counter() - start
        return result

    setattr(owner, name, timed)


def _timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


PREDICT_BATCH_SIZES = (32, 1000, 10000)  # Keras' default, a typical choice, the whole test set


def images_per_second(workers, names, n_images, rounds):
    """Median images per second of `predict` over the test set, per batch size, each
    implementation in its worker (one untimed call first); they take turns in each round."""
    rates = {}
    for batch_size in PREDICT_BATCH_SIZES:
        workers.rounds(1, "predict_test", batch_size, names=names)
        times = workers.rounds(rounds, "predict_test", batch_size, names=names)
        rates[batch_size] = {name: n_images / statistics.median(values)
                             for name, values in times.items()}
    return rates


def chapter_model(total_steps, seed=0):
    """The MNIST chapter's network (book/07_mnist.ipynb): 784-256-128-10 ReLU with dropout 0.2,
    Adam with a cosine-decaying learning rate from 2e-3 over the whole run."""
    model = nn.Sequential([
        nn.layers.Dense(256, activation="relu", input_dim=784),
        nn.layers.Dropout(0.2),
        nn.layers.Dense(128, activation="relu"),
        nn.layers.Dropout(0.2),
        nn.layers.Dense(10, activation="softmax"),
    ], seed=seed)
    schedule = nn.optimizers.CosineDecay(initial_learning_rate=2e-3, decay_steps=total_steps)
    model.compile(optimizer=nn.optimizers.Adam(learning_rate=schedule), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def time_to_98(data, epochs=12, validation_split=0.1):
    """Train the chapter's network as the chapter does (12 epochs, 10% held out for
    validation), epoch by epoch, until the test accuracy reaches 98%."""
    (x_train, y_train), (x_test, y_test) = data
    n_fit = len(x_train) - round(validation_split * len(x_train))
    model = chapter_model(total_steps=epochs * -(-n_fit // BATCH_SIZE))
    x_fit, y_fit = x_train[:n_fit], y_train[:n_fit]
    training_seconds, accuracy = 0.0, 0.0
    for epoch in range(1, epochs + 1):
        training_seconds += _timed(lambda: model.fit(x_fit, y_fit, batch_size=BATCH_SIZE, epochs=1, verbose=0))
        accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
        if accuracy >= 0.98:
            break
    return {"epochs": epoch, "seconds": training_seconds, "test_accuracy": accuracy}


def peak_memory_mb():
    """Peak RSS of a fresh process that loads MNIST and trains nn for one epoch (its own
    ru_maxrss, which on Linux includes this process's size when it was forked: call this
    before loading anything)."""
    code = ("import resource, sys; sys.path.insert(0, %r); import mnist_speed as b; "
            "data = b.load(); m = b.nn_model(); "
            "m.fit(*data[0], batch_size=128, epochs=1, verbose=0); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)") % str(Path(__file__).parent)
    run = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(run.stdout.split()[-1]) / 1024


def book_times():
    """Wall time of `jupyter-book build` from clean and of the nbval suite, on a copy of the repo."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "book"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("_build", ".git", "*.egg-info", ".pytest_cache"))
        bin_dir = Path(sys.executable).parent
        start = time.perf_counter()
        subprocess.run([str(bin_dir / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"], cwd=copy,
                       check=True, stdout=subprocess.DEVNULL)
        build = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "book"], cwd=copy, check=True,
                       stdout=subprocess.DEVNULL)
        return {"book_build_seconds": build, "nbval_seconds": time.perf_counter() - start}


def machine():
    cpu = platform.processor()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = "unknown"
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{info.get('name')} {info.get('version')}"
    except Exception:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "blas": blas, "torch": torch_version()}


def time_budget(epoch, gemm_only, flops, peak, target=0.70):
    """Rows that split nn's epoch into GEMMs, Adam's update and everything else, next to
    the time an epoch may take to reach `target` of the GEMM peak."""
    budget = flops / (target * peak * 1e9)
    without_update = epoch[NNNoUpdateTrainer.name]
    return [
        (f"epoch time that reaches {target:.0%} of peak", f"{budget:.3f} s"),
        ("nn epoch with the update skipped", f"{without_update:.3f} s = {flops / without_update / 1e9 / peak:.1%}"
                                             " of peak (as if the optimizer were free)"),
        ("  of which the GEMMs", f"{gemm_only:.3f} s"),
        ("  of which everything else", f"{without_update - gemm_only:.3f} s (activations, loss, biases, batches)"),
        ("Adam's update in an nn epoch", f"{epoch['nn'] - without_update:.3f} s"),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed epochs per implementation (median)")
    parser.add_argument("--book", action="store_true", help="also time the book build and the nbval suite")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "mnist_speed.json"))
    args = parser.parse_args()

    results = {"machine": machine(), "threads": THREADS}
    print("Machine: " + ", ".join(f"{key} {value}" for key, value in results["machine"].items()))
    results["peak_rss_mb"] = peak_memory_mb()  # first, while this process is small
    makers = {name: (trainer, (name,))
              for name in ("nn", NNNoUpdateTrainer.name, HandWrittenTrainer.name)}
    if results["machine"]["torch"]:
        makers["torch"] = (trainer, ("torch",))
        makers[KEPT] = (trainer, ("torch",), True)
    else:
        print("torch is not installed: skipping the PyTorch comparison (pip install torch==2.13.0)")
    with Workers(makers) as workers:
        all_times = workers.rounds(args.rounds, "epoch")
        rates = images_per_second(workers, [name for name in ("nn", "torch", KEPT)
                                            if name in makers], 10_000, args.rounds)
    epoch = {name: statistics.median(values) for name, values in all_times.items()}
    data = load()
    x_train = data[0][0]
    peak = gemm_peak()
    flops = gemm_flops_per_epoch(len(x_train))
    gflops = flops / epoch["nn"] / 1e9
    gemm_only = gemm_only_epoch(len(x_train), args.rounds)
    results.update({"epoch_seconds": epoch, "epoch_seconds_all": all_times, "gemm_peak_gflops": peak,
                    "nn_gflops": gflops, "gemm_only_epoch_seconds": gemm_only,
                    "gemm_only_gflops": flops / gemm_only / 1e9, "predict_images_per_second": rates})
    results["time_to_98"] = time_to_98(data)
    if args.book:
        results.update(book_times())

    rows = [(f"epoch, {name} (median of {args.rounds})", f"{seconds:.3f} s") for name, seconds in epoch.items()
            if name != NNNoUpdateTrainer.name]
    if "torch" in epoch:
        results["ratios"], ratio_table = ratio_rows(all_times, "<= 0.90", digits=3)
        rows += ratio_table
    rows.append(("nn / hand-written, epoch time", f"{epoch['nn'] / epoch['hand-written']:.3f}  (target <= 1.10)"))
    rows += [("nn GEMM throughput", f"{gflops:.1f} GFLOP/s"),
             ("float32 GEMM peak (2048^2 matmul)", f"{peak:.1f} GFLOP/s"),
             ("nn / peak", f"{gflops / peak:.1%}  (target >= 70%)"),
             ("the epoch's GEMMs alone, nothing else", f"{gemm_only:.3f} s = {flops / gemm_only / 1e9:.1f} GFLOP/s"
                                                      f" = {flops / gemm_only / 1e9 / peak:.1%} of peak (the ceiling)"),
             *time_budget(epoch, gemm_only, flops, peak)]
    for batch_size, by_name in rates.items():
        rows += [(f"predict, batch {batch_size}, {name}", f"{rate:,.0f} images/s") for name, rate in by_name.items()]
        rows += [(f"predict, batch {batch_size}, nn / {name} speed",
                  f"{by_name['nn'] / by_name[name]:.2f}  (target >= 1.00)")
                 for name in ("torch", KEPT) if name in by_name]
    t98 = results["time_to_98"]
    rows += [("time to 98% test accuracy", f"{t98['seconds']:.1f} s, {t98['epochs']} epochs "
                                            f"(test accuracy {t98['test_accuracy']:.4f})"),
             ("peak RSS, nn training run", f"{results['peak_rss_mb']:.0f} MB")]
    if args.book:
        rows += [("book build from clean", f"{results['book_build_seconds']:.0f} s"),
                 ("nbval over the chapters", f"{results['nbval_seconds']:.0f} s")]
    width = max(len(label) for label, _ in rows)
    print("\n".join(f"{label.ljust(width)}  {value}" for label, value in rows))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(f"JSON: {path}")


if __name__ == "__main__":
    main()
