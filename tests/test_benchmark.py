"""The speed benchmark compares like with like.

benchmarks/mnist_speed.py times nn against a hand-written NumPy loop (the floor for a
NumPy design) and splits nn's epoch with an optimizer that skips its update. Those
ratios mean something only if the hand-written loop does nn's arithmetic and the
skipped update really skips it; these tests check both. No timing here.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import mnist_speed  # noqa: E402


@pytest.fixture
def batch():
    rng = np.random.default_rng(3)
    x = rng.random((mnist_speed.BATCH_SIZE, 784), dtype=np.float32)
    y = rng.integers(0, 10, mnist_speed.BATCH_SIZE)
    return x, y


def test_hand_written_steps_match_nn(batch):
    x, y = batch
    hand_written = mnist_speed.HandWrittenTrainer(x, y)
    model = mnist_speed.nn_model()
    model.set_weights(hand_written.params)
    for _ in range(3):
        loss = hand_written.step(x, y)
        assert loss == pytest.approx(model.train_on_batch(x, y), rel=1e-5)
    for ours, theirs in zip(model.get_weights(), hand_written.params):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def test_hand_written_step_changes_every_parameter(batch):
    x, y = batch
    trainer = mnist_speed.HandWrittenTrainer(x, y)
    before = [p.copy() for p in trainer.params]
    trainer.step(x, y)
    for old, new in zip(before, trainer.params):
        assert np.abs(new - old).max() > 1e-4


def test_no_update_trainer_takes_steps_but_changes_nothing(batch):
    x, y = batch
    trainer = mnist_speed.NNNoUpdateTrainer(x, y)
    trainer.epoch()
    before = [w.copy() for w in trainer.model.get_weights()]
    trainer.epoch()
    assert trainer.model.optimizer.iterations == 2
    for old, new in zip(before, trainer.model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_gemm_flops_count_every_product_but_the_pixels_gradient():
    n = mnist_speed.BATCH_SIZE
    forward = 2 * n * (784 * 256 + 256 * 128 + 128 * 10)
    input_grads = 2 * n * (256 * 128 + 128 * 10)
    assert mnist_speed.gemm_flops_per_epoch(n) == 2 * forward + input_grads
