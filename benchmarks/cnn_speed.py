"""How fast does nn train Keras' "simple MNIST convnet", next to PyTorch on the CPU?

The network of keras.io/examples/vision/mnist_convnet: Conv2D 32 3x3 relu, MaxPooling 2x2,
Conv2D 64 3x3 relu, MaxPooling 2x2, Flatten, Dropout 0.5, Dense 10 softmax; Adam,
batch 128, float32, shuffled, on the 60,000 MNIST training images. Measures, in one run
on one machine (numbers from different runs are not comparable, and these machines are
noisy):

1. one training epoch, nn through Sequential.fit and PyTorch with the same thread count
   (torch.set_num_threads), each in a process of its own (benchmarks/workers.py: in one
   process the two slow each other down), a short warm-up first, then epochs taken in
   turn, one library computing at a time; the median of each;
2. the ratio nn / PyTorch, the median of the rounds' ratios;
3. where nn's epoch goes: first by layer, each layer's forward and backward and Adam's
   step timed inside one more real epoch in this process; then finer, the pieces of one
   training step (im2col, the matrix products, col2im's slice additions, bias and ReLU,
   pooling, the dense end of the network and the loss, Adam's update) timed on one batch
   with time.perf_counter loops (median of repeats) and multiplied by the batches per
   epoch; timed alone, on arrays already in cache, they add up to less than the epoch;
4. nn's GEMM throughput (the FLOPs of the epoch's matrix products over their time) and
   the machine's float32 GEMM peak (a large square matmul);
5. peak resident memory of an nn and of a PyTorch training epoch, each measured by
   resource.getrusage in a fresh process (started before this one loads anything).

    python benchmarks/cnn_speed.py [--rounds 3] [--subset N] [--json PATH]

--subset N trains on the first N images only (a quick run; the epoch times shrink in
proportion, the ratio stays comparable).
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
from nn import ops
from nn.datasets import mnist

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mnist_speed import gemm_peak, machine, time_method  # noqa: E402
from workers import KEPT, ratio_rows, time_epochs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BATCH_SIZE = 128
THREADS = os.cpu_count()
WARMUP_IMAGES = 20 * BATCH_SIZE


# --------------------------------------------------------------------------- data
def load(subset=None):
    """MNIST's training images as (n, 28, 28, 1) float32 in [0, 1] and int64 labels."""
    (x_train, y_train), _ = mnist.load_data()
    if subset:
        x_train, y_train = x_train[:subset], y_train[:subset]
    x = np.expand_dims(x_train, -1).astype(np.float32)
    x /= 255  # in place: no second copy of the images
    return x, y_train.astype(np.int64)


# --------------------------------------------------------------------------- nn
def nn_model(seed=0):
    """The Keras example's network, written as the example writes it (nn for keras)."""
    layers = nn.layers
    model = nn.Sequential([
        nn.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ], seed=seed)
    # No metrics: like PyTorch's loop, the epoch computes each batch's loss and no accuracy.
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


class NNTrainer:
    name = "nn"

    def __init__(self, x, y):
        self.x, self.y, self.model = x, y, nn_model()

    def epoch(self, x=None, y=None):
        self.model.fit(self.x if x is None else x, self.y if y is None else y,
                       batch_size=BATCH_SIZE, epochs=1, verbose=0)

    def warm_up(self):
        self.epoch(self.x[:WARMUP_IMAGES], self.y[:WARMUP_IMAGES])


# --------------------------------------------------------------------------- torch
def torch_model(torch):
    """The same network in PyTorch (NCHW); 34,826 parameters, as nn's and Keras'."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(1600, 10))


class TorchTrainer:
    name = "torch"

    def __init__(self, x, y, seed=0):
        import torch

        torch.set_num_threads(THREADS)
        torch.manual_seed(seed)
        self.torch = torch
        self.x = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        self.y = torch.from_numpy(y)
        self.model = torch_model(torch)
        self.loss = torch.nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, eps=1e-7)

    def epoch(self, x=None, y=None):
        x, y = (self.x, self.y) if x is None else (x, y)
        self.model.train()
        order = self.torch.randperm(len(x))
        for start in range(0, len(order), BATCH_SIZE):
            index = order[start:start + BATCH_SIZE]
            self.optimizer.zero_grad(set_to_none=True)
            self.loss(self.model(x[index]), y[index]).backward()
            self.optimizer.step()

    def warm_up(self):
        self.epoch(self.x[:WARMUP_IMAGES], self.y[:WARMUP_IMAGES])


def trainer(name, subset):
    """A worker's trainer (benchmarks/workers.py): loads the images in its own process."""
    return (NNTrainer if name == "nn" else TorchTrainer)(*load(subset))


# ------------------------------------------------------------------- measurements

def median_time(function, repeats=15):
    """Median seconds of ``function()`` over ``repeats`` calls, after one untimed call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gemm_flops_per_batch(n=BATCH_SIZE):
    """FLOPs of one training step's matrix products: each convolution's forward product
    and kernel gradient, the second one's input gradient (the first layer's is skipped:
    nobody needs the gradient of the pixels), and the dense layer's three products."""
    conv_1 = 2 * n * 26 * 26 * 9 * 32  # (n*26*26, 9) @ (9, 32)
    conv_2 = 2 * n * 11 * 11 * 288 * 64  # (n*11*11, 288) @ (288, 64)
    dense = 2 * n * 1600 * 10
    return 2 * conv_1 + 3 * conv_2 + 3 * dense


def layer_times(x, y):
    """nn's epoch as it runs: the seconds of each layer's forward and backward and of the
    optimizer's step inside one real epoch (Sequential.fit over x, y), and the epoch's
    total. Returns ``(total, {part: seconds})``, the rest of the epoch included."""
    model = nn_model()
    model.fit(x[:WARMUP_IMAGES], y[:WARMUP_IMAGES], batch_size=BATCH_SIZE, epochs=1, verbose=0)
    spent = {}
    # With softmax and cross-entropy fused, the model calls the last layer's
    # forward_logits and backward_logits: that layer is timed with the loss, in the rest.
    layers = model.layers[:-1] if model.loss_is_fused else model.layers
    for number, layer in enumerate(layers, 1):
        label = f"{number}. {type(layer).__name__}"
        if getattr(layer, "activation", None) is not None:
            label += f" ({type(layer.activation).__name__})"
        for phase in ("forward", "backward"):
            time_method(spent, f"{label}, {phase}", layer, phase)
    time_method(spent, "Adam's update", model.optimizer, "step")
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
    total = time.perf_counter() - start
    rest = "the rest (Dense and the loss, batching, Python)" if model.loss_is_fused else \
        "the rest (the loss, batching, Python)"
    spent[rest] = total - sum(spent.values())
    return total, spent


def step_pieces(model, x, y):
    """Seconds per batch of each piece of nn's training step, timed on one batch.

    The pieces are the operations nn's layers perform, on the same shapes and arrays:
    taken from the layers after a real training step, so that nothing is left out or
    timed twice. Returns ``{piece: seconds}`` and the seconds of the step's GEMMs.
    """
    model.train_on_batch(x, y)  # builds, fills every layer's caches
    conv_1, pool_1, conv_2, pool_2, _, dropout, dense = model.layers
    rng = np.random.default_rng(0)
    pieces, gemm_seconds = {}, 0.0
    for name, conv in (("conv 1", conv_1), ("conv 2", conv_2)):
        padded = x if conv is conv_1 else pool_1.outputs
        kernel = conv.params["kernel"].reshape(-1, conv.filters)
        buffer = np.empty(conv.cols.size, np.float32)
        grad_z = rng.standard_normal((conv.cols.shape[0], conv.filters)).astype(np.float32)
        pieces[f"{name}: im2col"] = median_time(
            lambda: ops.im2col(padded, conv.kernel_size, conv.strides, out=buffer))
        forward = median_time(lambda: conv.cols @ kernel)
        kernel_grad = median_time(lambda: conv.cols.T @ grad_z)
        pieces[f"{name}: GEMM forward (cols K)"] = forward
        pieces[f"{name}: GEMM kernel gradient (cols^T dz)"] = kernel_grad
        gemm_seconds += forward + kernel_grad
        if conv is conv_2:  # conv_1's input gradient is never computed
            gemm, adds = input_grad_pieces(grad_z, conv)
            pieces[f"{name}: GEMMs input gradient (dz K_ij^T)"] = gemm
            pieces[f"{name}: col2im slice additions"] = adds
            gemm_seconds += gemm
        output, scratch = conv.activation.output, conv.activation.output.copy()
        ones = np.ones(grad_z.shape[0], np.float32)

        def bias_and_relu():  # in place, as the layer does
            np.add(scratch, conv.params["bias"], out=scratch)
            np.maximum(scratch, 0, out=scratch)

        pieces[f"{name}: bias, ReLU, their gradients"] = (
            median_time(bias_and_relu) + median_time(lambda: conv.activation.backward(output))
            + median_time(lambda: ones @ grad_z))
    for name, pool in (("pool 1", pool_1), ("pool 2", pool_2)):
        inputs = pool.inputs
        grad = np.ones_like(pool.outputs)
        pieces[f"{name}: max pooling forward and backward"] = (
            median_time(lambda: pool.forward(inputs, training=True))
            + median_time(lambda: pool.backward(grad)))
    flat = pool_2.outputs.reshape(len(x), -1)
    loss = model.training_loss
    logits = dense.forward_logits(dropout.forward(flat, training=True))

    def dense_end():
        dropout.backward(dense.backward_logits(loss.backward()))

    loss.forward(y, logits)
    pieces["flatten, dropout, dense, loss (forward and backward)"] = (
        median_time(lambda: dense.forward_logits(dropout.forward(flat, training=True)))
        + median_time(lambda: loss.forward(y, logits)) + median_time(dense_end))
    gemm_seconds += 3 * median_time(lambda: flat @ dense.params["kernel"])  # three alike
    pieces["Adam's update"] = median_time(lambda: model.optimizer.step(model.params_and_grads))
    return pieces, gemm_seconds


def input_grad_pieces(grad_z, conv):
    """The two halves of ops.conv2d_input_grad on conv's shapes: the kh*kw products
    dz K_ij^T, and the kh*kw slice additions that put them in place (col2im)."""
    kernel = conv.params["kernel"]
    channels = kernel.shape[2]
    piece = np.empty((grad_z.shape[0], channels), np.float32)
    image = np.zeros(conv.padded_shape, np.float32)
    positions = list(ops.window_positions(conv.kernel_size, conv.strides, conv.out_shape))
    shaped = piece.reshape(-1, *conv.out_shape, channels)

    def products():
        for (i, j), _ in positions:
            np.matmul(grad_z, kernel[i, j].T, out=piece)

    def additions():
        image[...] = 0
        for _, (rows, columns) in positions:
            image[:, rows, columns, :] += shaped

    return median_time(products), median_time(additions)


def peak_memory_mb(which, subset):
    """Peak RSS of a fresh process that loads MNIST and trains ``which`` for one epoch
    (its ru_maxrss, which on Linux includes this process's size when it was forked)."""
    code = ("import resource, sys; sys.path.insert(0, %r); import cnn_speed as b; "
            "x, y = b.load(%r); t = b.NNTrainer(x, y) if %r == 'nn' else b.TorchTrainer(x, y); "
            "t.epoch(); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
            % (str(Path(__file__).parent), subset, which))
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True)
    return int(result.stdout.split()[-1]) / 1024  # kilobytes on Linux


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3,
                        help="timed epochs per implementation (median)")
    parser.add_argument("--subset", type=int, default=None,
                        help="train on the first N images only (quick run)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "cnn_speed.json"))
    args = parser.parse_args()

    results = {"machine": machine(), "threads": THREADS, "rounds": args.rounds}
    print("Machine: " + ", ".join(f"{key} {value}" for key, value in results["machine"].items()))
    # First, while this process is small: on Linux a child's ru_maxrss starts from its
    # parent's resident size at the fork, so measuring later would report this process.
    memory = {"nn": peak_memory_mb("nn", args.subset)}
    if results["machine"]["torch"]:
        memory["torch"] = peak_memory_mb("torch", args.subset)
    makers = {"nn": (trainer, ("nn", args.subset))}
    if results["machine"]["torch"]:
        makers["torch"] = (trainer, ("torch", args.subset))
        makers[KEPT] = (trainer, ("torch", args.subset), True)
    else:
        print("torch is not installed: skipping the PyTorch comparison (pip install torch==2.13.0)")
    all_times = time_epochs(makers, args.rounds)
    epoch = {name: statistics.median(values) for name, values in all_times.items()}
    x, y = load(args.subset)
    n_images = len(x)

    batches = -(-n_images // BATCH_SIZE)
    profiled, parts = layer_times(x, y)
    pieces, gemm_seconds = step_pieces(nn_model(), x[:BATCH_SIZE], y[:BATCH_SIZE])
    per_epoch = {piece: seconds * batches for piece, seconds in pieces.items()}
    peak = gemm_peak()
    flops = gemm_flops_per_batch() * batches
    gemm_gflops = gemm_flops_per_batch() / gemm_seconds / 1e9
    results.update({"images": n_images, "epoch_seconds": epoch, "epoch_seconds_all": all_times,
                    "profiled_epoch_seconds": profiled, "layer_seconds": parts,
                    "pieces_seconds_per_epoch": per_epoch, "gemm_peak_gflops": peak,
                    "gemm_gflops": gemm_gflops, "gemm_flops_per_epoch": flops,
                    "peak_rss_mb": memory})

    rows = [(f"epoch of {n_images:,} images, {name} (median of {args.rounds})", f"{seconds:.2f} s")
            for name, seconds in epoch.items()]
    if "torch" in epoch:
        results["ratios"], ratio_table = ratio_rows(all_times, "<= 1.00")
        rows += ratio_table
    rows.append((f"nn's epoch by layer, as it runs ({profiled:.2f} s, one more epoch):", ""))
    rows += [(f"  {part}", f"{seconds:.2f} s ({seconds / profiled:.0%})")
             for part, seconds in parts.items()]
    rows.append(("the pieces of a step (one batch timed, times batches):", ""))
    rows += [(f"  {piece}", f"{seconds:.2f} s") for piece, seconds in per_epoch.items()]
    accounted = sum(per_epoch.values())
    rows += [("  sum of the pieces", f"{accounted:.2f} s"),
             ("  the rest (Python, batching, ...)", f"{epoch['nn'] - accounted:.2f} s"),
             ("nn's GEMMs: time per epoch, throughput",
              f"{gemm_seconds * batches:.2f} s, {gemm_gflops:.1f} GFLOP/s"),
             ("float32 GEMM peak (2048^2 matmul)", f"{peak:.1f} GFLOP/s"),
             ("nn's GEMMs / peak", f"{gemm_gflops / peak:.0%}"),
             ("nn: all GEMM FLOPs / epoch time", f"{flops / epoch['nn'] / 1e9:.1f} GFLOP/s")]
    rows += [(f"peak RSS, {name} training run", f"{mb:.0f} MB" + ("  (target < 2048 MB)"
                                                                 if name == "nn" else ""))
             for name, mb in memory.items()]
    width = max(len(label) for label, _ in rows)
    print("\n".join(f"{label.ljust(width)}  {value}" for label, value in rows))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(f"JSON: {path}")


if __name__ == "__main__":
    main()
