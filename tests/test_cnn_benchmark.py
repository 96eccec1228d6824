"""benchmarks/cnn_speed.py compares like with like (no timing here).

Its ratio means something only if the PyTorch network is the nn network and the FLOP
count is the step's: the two compute the same function from the same weights, and the
count agrees with one derived from the model's own layer shapes.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import cnn_speed  # noqa: E402


def test_the_two_networks_compute_the_same_function_from_the_same_weights():
    torch = pytest.importorskip("torch")
    model = cnn_speed.nn_model()
    model.build()
    network = cnn_speed.torch_model(torch).double().eval()
    conv_1, conv_2, dense = (layer for layer in model.layers if layer.params)
    ours = [conv_1, conv_2]
    theirs = [module for module in network if isinstance(module, torch.nn.Conv2d)]
    with torch.no_grad():
        for layer, module in zip(ours, theirs):
            module.weight.copy_(torch.tensor(layer.params["kernel"].transpose(3, 2, 0, 1)))
            module.bias.copy_(torch.tensor(layer.params["bias"]))
        linear = network[-1]
        # nn flattens (h, w, c), PyTorch (c, h, w): permute the dense kernel's rows to match
        kernel = dense.params["kernel"].reshape(5, 5, 64, 10).transpose(2, 0, 1, 3)
        linear.weight.copy_(torch.tensor(kernel.reshape(1600, 10).T))
        linear.bias.copy_(torch.tensor(dense.params["bias"]))
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    probabilities = model.predict(x)
    with torch.no_grad():
        logits = network(torch.tensor(x.transpose(0, 3, 1, 2), dtype=torch.float64))
    np.testing.assert_allclose(probabilities, torch.softmax(logits, 1).numpy(), rtol=1e-4,
                               atol=1e-6)
    assert model.count_params() == sum(p.numel() for p in network.parameters()) == 34826


def test_the_flop_count_is_that_of_the_models_own_shapes():
    model = cnn_speed.nn_model()
    model.build()
    n, total = cnn_speed.BATCH_SIZE, 0
    for position, layer in enumerate(layer for layer in model.layers if layer.params):
        kernel = layer.params["kernel"]
        inner, outputs = int(np.prod(kernel.shape[:-1])), kernel.shape[-1]
        rows = n * int(np.prod(layer.output_shape[:-1]))  # one row per output pixel
        products = 2 if position == 0 else 3  # the pixels' gradient is never computed
        total += products * 2 * rows * inner * outputs
    assert cnn_speed.gemm_flops_per_batch() == total
