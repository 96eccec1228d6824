"""Gradient checking: compare a backward pass with centred finite differences.

For f(x) with upstream gradient g, the analytic gradient backward(g) must match::

    df/dx_i ~ (sum(g * f(x + h e_i)) - sum(g * f(x - h e_i))) / (2 h)

whose truncation error is O(h^2) while the rounding error of f grows like
``eps |f| / h``; ``h = 1e-5`` balances the two in float64 (``eps ~ 1e-16``).  Run
checks in float64: in float32 (``eps ~ 1e-7``) the rounding error swamps the comparison.
"""
import numpy as np


def rel_error(analytic, numeric, floor=1e-8):
    """The worst elementwise relative error, ``max_i |a_i - n_i| / max(|a_i| + |n_i|, floor)``."""
    analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    return float(np.max(np.abs(analytic - numeric)
                        / np.maximum(np.abs(analytic) + np.abs(numeric), floor)))


def numerical_gradient(f, x, grad_output=None, h=1e-5):
    """d sum(grad_output * f()) / dx by centred differences, perturbing ``x`` in place.

    ``f`` takes no arguments and reads ``x`` (an input or a parameter array);
    each element is restored after use.  ``grad_output=None`` means f is a scalar.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        plus = f()
        x[index] = original - h
        minus = f()
        x[index] = original
        if grad_output is None:
            grad[index] = (plus - minus) / (2 * h)
        else:
            grad[index] = np.sum(grad_output * (plus - minus)) / (2 * h)
    return grad


def check_layer(layer, x, rng=None, h=1e-5, training=False):
    """Relative errors of ``layer.backward`` for its input and each parameter.

    A random upstream gradient g turns the layer into the scalar sum(g * y).
    Returns ``{'input': err, 'kernel': err, ...}``.  Build the layer in float64.
    ``training`` is the mode of every forward pass: True checks the gradient of what
    training computes (a batch normalization's batch statistics, a random layer's draw,
    the same draw each time).
    """
    rng = np.random.default_rng(rng)
    x = np.array(x, dtype=np.float64)
    layer.ensure_built(x)
    replay = _replay_randomness([layer])

    def forward():
        replay()
        return layer.forward(x, training=training).copy()

    output = forward()
    grad_output = rng.standard_normal(output.shape)
    grad_input = layer.backward(grad_output.copy())
    analytic = {key: grad.copy() for key, grad in layer.grads.items()}
    errors = {"input": rel_error(grad_input, numerical_gradient(forward, x, grad_output, h))}
    for key, param in layer.params.items():
        errors[key] = rel_error(analytic[key], numerical_gradient(forward, param, grad_output, h))
    return errors


def check_model(model, x, y, h=1e-5, sample_weight=None):
    """Relative errors of a compiled model's gradients, ``{'dense_0/kernel': err, ...}``.

    The loss is the one training uses (fused with the output activation when
    possible), in training mode, plus the layers' weight penalties, as ``train_step``
    computes it.  Layers that draw random numbers (Dropout) draw the same ones for
    every evaluation, so the analytic and the numerical gradient are of one function
    with one fixed mask.  Build the model in float64 (``Sequential(..., dtype='float64')``).
    """
    x, y = model._prepare(x, y)
    replay = _replay_randomness(model.layers)
    replay()
    model.compute_gradients(x, y, sample_weight)
    model.regularization_penalty(add_gradients=True)

    def loss():
        replay()
        outputs = model.forward_to_loss(x, training=True)
        return (model.training_loss.forward(y, outputs, sample_weight)
                + model.regularization_penalty())

    errors = {}
    for layer in model.layers:
        for key, param in layer.params.items():
            analytic = layer.grads[key].copy()
            errors[f"{layer.name}/{key}"] = rel_error(analytic,
                                                      numerical_gradient(loss, param, None, h))
    return errors


def _replay_randomness(layers):
    """A function that puts every random layer's generator back to its state now."""
    generators = {id(layer.rng): layer.rng for layer in layers if layer.uses_randomness}
    states = {key: generator.bit_generator.state for key, generator in generators.items()}

    def replay():
        for key, generator in generators.items():
            generator.bit_generator.state = states[key]

    return replay
