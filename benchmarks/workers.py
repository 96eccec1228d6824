"""Epochs of several trainers, interleaved, each trainer in a process of its own.

Two libraries training in one process slow each other down, and unequally. On the
2-core machine, nn's CNN epoch on 12,800 images took 2.52 s alone and 3.07 s with
PyTorch's epochs interleaved in the same process; PyTorch's took 1.59 s alone and
3.01 s beside nn's (the ratio moved from 1.58 to 1.02). Even importing torch slowed
nn's matrix products. Both bring their own thread pools (OpenBLAS, OpenMP) and
allocators, and each leaves the other's caches and threads in a worse state.

So each trainer is built in a fresh process (multiprocessing's "spawn": the child
starts a new interpreter and imports only what its trainer needs) and warmed up there.
The parent then asks the trainers in turn for one epoch each, round after round (the
order reversed every other round), with a pause between turns so that the last one's
threads have gone back to sleep: exactly one library computes at any moment, and each
round measures both under nearly the same conditions of the machine. Those conditions
still drift on a shared virtual machine, so the scripts report the median of the rounds'
ratios and every round's ratio (``ratio_rows``). PyTorch is timed twice, the second
time with glibc's malloc keeping freed memory (``keep_freed_memory``, ``KEPT``).
"""
import ctypes
import ctypes.util
import multiprocessing
import statistics
import time
import traceback

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's mallopt parameters (malloc.h)
KEPT = "torch, memory kept"  # the scripts' name for PyTorch with keep_freed_memory()


def keep_freed_memory():
    """Make glibc's malloc keep the memory a process frees, instead of giving large blocks
    back to the kernel and taking them again (each page then faults in afresh).

    By default glibc serves large requests with mmap and returns them with munmap, and
    trims the heap's free top, under thresholds it adjusts as the program runs. PyTorch
    allocates its CPU tensors through malloc, so how many page faults its epoch pays
    depends on where those thresholds happen to settle: on the 2-core machine, one
    PyTorch CNN epoch took 7.6 s with 0.4 million minor page faults, and the next, in the
    same process, 11.9 s with 3.6 million. Without mmap (M_MMAP_MAX 0) and without
    trimming, freed memory is reused and the epoch stays in the fast state. The scripts
    time PyTorch both ways (``KEPT``) and nn as it comes. Returns whether it was applied
    (glibc only).
    """
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0) and mallopt(M_TRIM_THRESHOLD, 2**31 - 1))


def _serve(connection, make_trainer, args, keep_memory):
    """The worker: build and warm up a trainer, then time one method call per request."""
    try:
        if keep_memory:
            keep_freed_memory()
        trainer = make_trainer(*args)
        trainer.warm_up()
        connection.send(("ready", None))
        while (request := connection.recv()) is not None:
            method, arguments = request
            start = time.perf_counter()
            getattr(trainer, method)(*arguments)
            connection.send(("seconds", time.perf_counter() - start))
    except Exception:  # the parent raises it, with the worker's traceback
        connection.send(("error", traceback.format_exc()))


def _receive(name, connection):
    kind, value = connection.recv()
    if kind == "error":
        raise RuntimeError(f"the {name} worker failed:\n{value}")
    return value


class Workers:
    """One process per trainer, for timing their methods one at a time.

    ``makers`` maps a name to ``(function, args)``: ``function(*args)`` (a module-level
    function, so that it can be sent to the new process) returns an object with a
    ``warm_up()`` method and the methods to be timed; ``(function, args, True)`` runs it
    with ``keep_freed_memory()``. The trainers are built and warmed up
    one after another when the ``with`` block starts; the processes end with it.
    """

    def __init__(self, makers, pause=1.0):
        self.makers, self.pause, self.workers = makers, pause, {}

    def __enter__(self):
        context = multiprocessing.get_context("spawn")
        try:
            for name, (function, args, *keep_memory) in self.makers.items():
                connection, child = context.Pipe()
                process = context.Process(target=_serve,
                                          args=(child, function, args, any(keep_memory)),
                                          name=f"{name} trainer", daemon=True)
                process.start()
                self.workers[name] = process, connection
                _receive(name, connection)  # built and warmed up before the next starts
        except BaseException:
            self.__exit__()
            raise
        return self

    def time(self, name, method, *args):
        """Seconds of ``trainer.method(*args)`` in the worker ``name``, after a pause in
        which every other worker is idle."""
        connection = self.workers[name][1]
        time.sleep(self.pause)
        connection.send((method, args))
        return _receive(name, connection)

    def rounds(self, rounds, method, *args, names=None):
        """``{name: [seconds of round 1, round 2, ...]}`` of ``method(*args)``, the workers
        (all, or ``names``) taking turns within each round, in the reverse order every
        other round (A B, B A, A B, ...), so that each follows the other as often."""
        names = list(self.workers) if names is None else names
        times = {name: [] for name in names}
        for round_ in range(rounds):
            for name in (names if round_ % 2 == 0 else names[::-1]):
                times[name].append(self.time(name, method, *args))
        return times

    def __exit__(self, *exc_info):
        for process, connection in self.workers.values():
            if process.is_alive():
                try:
                    connection.send(None)
                except OSError:  # the worker has gone
                    pass
            process.join(timeout=30)
            if process.is_alive():
                process.kill()


def time_epochs(makers, rounds, pause=1.0):
    """Seconds of ``rounds`` epochs of each trainer (``Workers``; each has ``epoch()``),
    interleaved, one process each: ``{name: [seconds of round 1, round 2, ...]}``."""
    with Workers(makers, pause) as workers:
        return workers.rounds(rounds, "epoch")


def ratio_rows(times, target, digits=2):
    """nn's epoch over PyTorch's, as it comes and with memory kept, round by round.

    ``times`` is ``{name: [seconds per round]}`` with "nn", "torch" and ``KEPT``.
    Returns ``{name: [ratio per round]}`` and the table rows: the median of the rounds'
    ratios (``digits`` decimals), each round's ratio, and ``target`` ("<= 1.0").
    """
    ratios, rows = {}, []
    for name in ("torch", KEPT):
        ratios[name] = [a / b for a, b in zip(times["nn"], times[name])]
        rows.append((f"nn / {name}, epoch (median of the rounds' ratios)",
                     f"{statistics.median(ratios[name]):.{digits}f}  (rounds: "
                     f"{', '.join(f'{r:.2f}' for r in ratios[name])}; target {target})"))
    return ratios, rows
