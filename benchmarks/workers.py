"""Epochs of several trainers, interleaved, each trainer in a process of its own.

Two libraries training in one process slow each other down, and unequally. On the
2-core machine, nn's CNN epoch on 12,800 images took 2.52 s alone and 3.07 s with
PyTorch's epochs interleaved in the same process; PyTorch's took 1.59 s alone and
3.01 s beside nn's (the ratio moved from 1.58 to 1.02). Even importing torch slowed
nn's matrix products. Both bring their own thread pools (OpenBLAS, OpenMP) and
allocators, and each leaves the other's caches and threads in a worse state.

So each trainer is built in a fresh process (multiprocessing's "spawn": the child
starts a new interpreter and imports only what its trainer needs) and warmed up there.
The parent then asks the trainers in turn for one epoch each, round after round, with
a pause between turns so that the last one's threads have gone back to sleep: exactly
one library computes at any moment, and each round measures both under the same
conditions of the machine.
"""
import multiprocessing
import time
import traceback


def _serve(connection, make_trainer, args):
    """The worker: build and warm up a trainer, then time one epoch per request."""
    try:
        trainer = make_trainer(*args)
        trainer.warm_up()
        connection.send(("ready", None))
        while connection.recv():
            start = time.perf_counter()
            trainer.epoch()
            connection.send(("epoch", time.perf_counter() - start))
    except Exception:  # the parent raises it, with the worker's traceback
        connection.send(("error", traceback.format_exc()))


def _receive(name, connection):
    kind, value = connection.recv()
    if kind == "error":
        raise RuntimeError(f"the {name} worker failed:\n{value}")
    return value


def time_epochs(makers, rounds, pause=1.0):
    """Seconds of ``rounds`` epochs of each trainer, interleaved, one process each.

    ``makers`` maps a name to ``(function, args)``: ``function(*args)`` (a module-level
    function, so that it can be sent to the new process) returns an object with
    ``warm_up()`` and ``epoch()``. Trainers are built and warmed up one after another,
    then timed in turn. Returns ``{name: [seconds of round 1, round 2, ...]}``.
    """
    context = multiprocessing.get_context("spawn")
    workers = {}
    try:
        for name, (function, args) in makers.items():
            connection, child = context.Pipe()
            process = context.Process(target=_serve, args=(child, function, args),
                                      name=f"{name} trainer", daemon=True)
            process.start()
            workers[name] = process, connection
            _receive(name, connection)  # built and warmed up before the next starts
        times = {name: [] for name in workers}
        for _ in range(rounds):
            for name, (_, connection) in workers.items():
                time.sleep(pause)
                connection.send(True)
                times[name].append(_receive(name, connection))
        return times
    finally:
        for process, connection in workers.values():
            if process.is_alive():
                connection.send(False)
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
