"""How fast does nn train a character LSTM, next to torch.nn.LSTM on the same CPU?

The model of Keras' character-level text generation example: one-hot windows of 40
characters, LSTM(128), Dense(softmax) predicting the next character, RMSprop, batch
128, float32, shuffled, over the windows (every third position, as in the example) of
the first 200,000 characters of Tiny Shakespeare.  Measured in one run (numbers from
different runs are not comparable, and this machine is shared and noisy):

1. one training epoch with nn (Sequential.fit) and with PyTorch (torch.nn.LSTM, same
   thread count, the same arithmetic: cross-entropy from the logits, RMSprop with the
   same hyperparameters), each in a process of its own (benchmarks/workers.py: in one
   process the two slow each other down), after a warm-up epoch, epochs taken in turn,
   one library computing at a time: the median of each and of the per-round ratio
   nn / torch;
2. where nn's epoch goes, from one more epoch with the LSTM's and the optimizer's
   methods timed: the input projection (forward gather and backward dW, db), the
   forward steps, the backward steps (the reverse loop and dU), the optimizer, the rest
   (Dense, the loss, batching);
3. the memory of a fresh process training one epoch, each library: resident after
   loading the data (631 MB of one-hot windows), the peak while training (the peak is
   reset after loading), and the difference, the training's own;
4. the embedding gradient's scatter-add: np.add.at against nn's sort-and-reduceat.

    python benchmarks/rnn_speed.py [--rounds 3] [--chars 200000] [--json PATH]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import nn
from nn.datasets import tinyshakespeare
from nn.layers.embedding import scatter_add_rows

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mnist_speed import time_method, torch_version  # noqa: E402
from workers import KEPT, ratio_rows, time_epochs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MAXLEN, STEP, UNITS, BATCH_SIZE, LEARNING_RATE = 40, 3, 128, 128, 0.01
THREADS = os.cpu_count()


def load(chars):
    """One-hot windows x (n, 40, vocabulary) float32 and next characters y (n,) int64."""
    text = tinyshakespeare.load_data()[:chars]
    index = {char: code for code, char in enumerate(sorted(set(text)))}
    codes = np.array([index[char] for char in text])
    starts = np.arange(0, len(text) - MAXLEN, STEP)
    windows = codes[starts[:, None] + np.arange(MAXLEN)]
    x = np.eye(len(index), dtype=np.float32)[windows]
    return x, codes[starts + MAXLEN].astype(np.int64)


# --------------------------------------------------------------------------- nn
def nn_model(vocabulary, seed=0):
    model = nn.Sequential([
        nn.Input((MAXLEN, vocabulary)),
        nn.layers.LSTM(UNITS),
        nn.layers.Dense(vocabulary, activation="softmax"),
    ], seed=seed)
    model.compile(optimizer=nn.optimizers.RMSprop(learning_rate=LEARNING_RATE),
                  loss="sparse_categorical_crossentropy")
    return model


class NNTrainer:
    name = "nn"

    def __init__(self, x, y):
        self.x, self.y, self.model = x, y, nn_model(x.shape[-1])

    def epoch(self):
        self.model.fit(self.x, self.y, batch_size=BATCH_SIZE, epochs=1, verbose=0)

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
        self.lstm = torch.nn.LSTM(x.shape[-1], UNITS, batch_first=True)
        self.dense = torch.nn.Linear(UNITS, x.shape[-1])
        parameters = list(self.lstm.parameters()) + list(self.dense.parameters())
        # nn's RMSprop: rho 0.9, epsilon 1e-7 added outside the square root, as torch does
        self.optimizer = torch.optim.RMSprop(parameters, lr=LEARNING_RATE, alpha=0.9, eps=1e-7)

    def epoch(self):
        functional = self.torch.nn.functional
        order = self.torch.randperm(len(self.x))
        for start in range(0, len(order), BATCH_SIZE):
            index = order[start:start + BATCH_SIZE]
            self.optimizer.zero_grad(set_to_none=True)
            outputs, _ = self.lstm(self.x[index])
            functional.cross_entropy(self.dense(outputs[:, -1]), self.y[index]).backward()
            self.optimizer.step()

    def warm_up(self):
        self.epoch()


def trainer(name, chars):
    """A worker's trainer (benchmarks/workers.py): loads the windows in its own process."""
    return (NNTrainer if name == "nn" else TorchTrainer)(*load(chars))


# ------------------------------------------------------------------- measurements
def _timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def where_the_time_goes(x, y):
    """One nn epoch with the LSTM's phases and the optimizer's step timed."""
    model = nn_model(x.shape[-1])
    model.fit(x[:BATCH_SIZE], y[:BATCH_SIZE], batch_size=BATCH_SIZE, epochs=1, verbose=0)
    lstm = model.layers[0]
    spent = {}
    for label, owner, method in [("input projection, forward", lstm, "_project"),
                                 ("input projection, backward", lstm, "_backward_projection"),
                                 ("forward steps", lstm, "_steps"),
                                 ("backward steps (with dU)", lstm, "_backward_steps"),
                                 ("optimizer", model.optimizer, "step")]:
        time_method(spent, label, owner, method)
    total = _timed(lambda: model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0))
    spent["the rest (Dense, loss, batches)"] = total - sum(spent.values())
    return total, spent


def _status_mb(field):
    """A memory figure of this process from /proc/self/status (Linux), in MB."""
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def reset_peak_memory_mb():
    """This process's resident MB now, with its peak (VmHWM) reset to it (Linux: writing 5
    to /proc/self/clear_refs), so that a later VmHWM is the peak from here on: loading the
    data, whose one-hot windows peak above the training, then does not count."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    return _status_mb("VmRSS")


def peak_memory_mb(library, chars):
    """Memory of a fresh process that loads the data and trains one epoch, in MB: resident
    after loading, the peak while training, and their difference (the training's own)."""
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"import rnn_speed as b; x, y = b.load({chars}); "
            f"trainer = b.{'NNTrainer' if library == 'nn' else 'TorchTrainer'}(x, y); "
            "loaded = b.reset_peak_memory_mb(); trainer.epoch(); "
            "print(loaded, b._status_mb('VmHWM'))")
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True).stdout
    loaded, peak = map(float, output.split()[-2:])
    return {"after loading": loaded, "peak while training": peak,
            "training's own": peak - loaded}


def scatter_add_times(repeats=20):
    """Seconds per call of np.add.at and of nn's scatter_add_rows, at embedding sizes."""
    rng = np.random.default_rng(0)
    results = {}
    for vocabulary, width, rows in [(65, 32, 64 * 100), (10_000, 64, 32 * 200)]:
        ids = rng.integers(0, vocabulary, rows)
        values = rng.standard_normal((rows, width)).astype(np.float32)
        out = np.zeros((vocabulary, width), np.float32)

        def add_at():
            out[...] = 0
            np.add.at(out, ids, values)

        timings = {}
        for name, function in [("np.add.at", add_at),
                               ("scatter_add_rows", lambda: scatter_add_rows(out, ids, values))]:
            function()
            timings[name] = min(_timed(function) for _ in range(repeats))
        results[f"{vocabulary} ids x {width}, {rows} rows"] = timings
    return results


def machine():
    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = "unknown"
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{info.get('name')} {info.get('version')}"
    except Exception:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "numpy": np.__version__, "blas": blas,
            "torch": torch_version(), "load average": os.getloadavg()[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed epochs per library")
    parser.add_argument("--chars", type=int, default=200_000, help="characters of the corpus")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "rnn_speed.json"))
    args = parser.parse_args()

    results = {"machine": machine(), "threads": THREADS}
    print("Machine: " + ", ".join(f"{key} {value}" for key, value in results["machine"].items()))
    makers = {"nn": (trainer, ("nn", args.chars))}
    if results["machine"]["torch"]:
        makers["torch"] = (trainer, ("torch", args.chars))
        makers[KEPT] = (trainer, ("torch", args.chars), True)
    else:
        print("torch is not installed: skipping the PyTorch comparison (pip install torch)")
    times = time_epochs(makers, args.rounds)
    median = {name: statistics.median(values) for name, values in times.items()}
    x, y = load(args.chars)  # after the workers have gone: 631 MB of windows each
    print(f"{len(x):,} windows of {MAXLEN} characters, vocabulary {x.shape[-1]}, "
          f"{-(-len(x) // BATCH_SIZE)} batches of {BATCH_SIZE} an epoch")
    total, spent = where_the_time_goes(x, y)
    memory = {name: peak_memory_mb(name, args.chars) for name in makers if name != KEPT}
    scatter = scatter_add_times()
    results.update({"epoch_seconds": times, "median_epoch_seconds": median,
                    "profiled_epoch_seconds": total, "profile": spent, "peak_rss_mb": memory,
                    "scatter_add_seconds": scatter})

    rows = [(f"epoch, {name} (median of {args.rounds})", f"{seconds:.2f} s")
            for name, seconds in median.items()]
    if "torch" in median:
        results["ratios"], ratio_table = ratio_rows(times, "<= 1.0")
        rows += ratio_table
    rows.append((f"nn epoch, profiled ({total:.2f} s):", ""))
    rows += [(f"  {label}", f"{seconds:.2f} s ({seconds / total:.0%})")
             for label, seconds in spent.items()]
    rows += [(f"memory of one epoch in a fresh process, {name}",
              ", ".join(f"{label} {mb:,.0f} MB" for label, mb in figures.items()))
             for name, figures in memory.items()]
    for size, timings in scatter.items():
        rows.append((f"scatter-add {size}", ", ".join(f"{name} {seconds * 1e3:.2f} ms"
                                                      for name, seconds in timings.items())))
    width = max(len(label) for label, _ in rows)
    print("\n".join(f"{label.ljust(width)}  {value}" for label, value in rows))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(f"JSON: {path}")


if __name__ == "__main__":
    main()
