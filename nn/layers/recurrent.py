"""Recurrent layers: SimpleRNN, LSTM and GRU, with Keras' weights, gate order and defaults.

A recurrent layer reads a sequence ``x`` of shape (n, T, d) one time step at a time,
carrying a state from step to step, and returns the last output (n, units) or, with
``return_sequences=True``, every output (n, T, units).  The same weights serve every
step (parameter sharing), so the backward pass (backpropagation through time, BPTT)
adds up their gradients over the steps::

    p_t = x_t W + b                    every t at once: one matrix product (a row gather
                                       when x is one-hot)
    state_t = step(p_t + h_{t-1} U, state_{t-1})       a loop over t = 1 .. T

Each layer keeps, per time step, exactly what its backward pass needs (listed in its
docstring) in arrays allocated once and reused while the batch shape stays the same.
Its backward pass first computes, for all steps at once, the local derivatives that do
not depend on the incoming gradient, then runs the loop in reverse time, one matrix
product per step, storing dL/dz_t for every step; the weight gradients are then one
matrix product each over all steps: dU = sum_t h_{t-1}^T dz_t, dW = sum_t x_t^T dz_t
(for a one-hot x, row v of dW is the sum of the rows of dz whose input is character v).

The weights are laid out as Keras lays them out, so weights saved by Keras load
unchanged with ``set_weights``: ``kernel`` (d, k units), ``recurrent_kernel``
(units, k units), ``bias`` (k units,) (GRU: (2, 3 units)), with k gate blocks side by
side in Keras' order (LSTM: i, f, c, o; GRU: z, r, h).
"""
import re

import numpy as np

from .. import activations, initializers, registry, regularizers
from ..checks import check_positive_int
from ..ops import sigmoid
from .layer import Layer, _default_name


def _tanh_derivative(output, out):
    """tanh'(z) from y = tanh(z): 1 - y^2."""
    np.multiply(output, output, out=out)
    return np.subtract(1, out, out=out)


def _sigmoid_derivative(output, out):
    """sigmoid'(z) from y = sigmoid(z): y (1 - y)."""
    np.subtract(1, output, out=out)
    return np.multiply(out, output, out=out)


def _relu_derivative(output, out):
    """relu'(z) from y = max(z, 0): 1 where y > 0, else 0."""
    return np.greater(output, 0, out=out, casting="unsafe")


def _linear_derivative(output, out):
    out[...] = 1
    return out


# The activations a SimpleRNN can apply in place, each with its derivative written in
# terms of its output y, which the backward pass has cached: (f(z, out), f'(z) from y).
_ACTIVATIONS = {
    "tanh": (lambda z, out: np.tanh(z, out=out), _tanh_derivative),
    "sigmoid": (lambda z, out: sigmoid(z, out=out), _sigmoid_derivative),
    "relu": (lambda z, out: np.maximum(z, 0, out=out), _relu_derivative),
    "linear": (lambda z, out: z, _linear_derivative),
}


def _activation_name(activation, argument, allowed):
    """The name of ``activation`` (a name, an nn activation layer or None), checked."""
    layer = activations.get(activation)
    name = "linear" if layer is None else type(layer).__dict__.get("alias")
    if name not in allowed:
        raise ValueError(f"{argument} must be one of {', '.join(map(repr, allowed))} here. "
                         f"Received: {argument}={activation!r}")
    return name


def keras_name(layer, kwargs):
    """``kwargs`` with Keras' default name (simple_rnn, simple_rnn_1, ...) unless one is given."""
    if kwargs.get("name") is None:
        snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2",
                       re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", type(layer).__name__))
        kwargs = {**kwargs, "name": _default_name(snake.lower())}
    return kwargs


def _one_hot_ids(x):
    """The index of the 1 in each row of ``x`` (last axis), if every row is one-hot, else None.

    Then x W is a row gather, W[ids], with the same values as the matrix product (each
    output is 1 * W[id, j] plus exact zeros) at a fraction of the cost.  The test: exactly
    one nonzero per row on average and every row summing to 1 means one nonzero per row,
    equal to 1.  Both sums, and the ids, are matrix-vector products.
    """
    rows = x.reshape(-1, x.shape[-1])
    if rows.size == 0 or np.count_nonzero(rows != 0) != len(rows):  # (bool: fast)
        return None
    if not np.all(rows @ np.ones(rows.shape[1], rows.dtype) == 1):
        return None
    return (rows @ np.arange(rows.shape[1], dtype=rows.dtype)).astype(np.intp).reshape(
        x.shape[:-1])


class Recurrent(Layer):
    """Base class of SimpleRNN, LSTM and GRU: arguments, weights, the input projection.

    A subclass sets ``gates`` (the number k of weight blocks) and implements ``_steps``
    (the forward loop over time) and ``_backward_steps`` (the reverse loop); this class
    turns x into the projections p_t = x_t W + b and dL/dp back into dW, db and dx.

    Arguments not listed in a subclass are Keras': ``return_sequences`` (every step's
    output instead of the last), ``go_backwards`` (read the sequence from its end, and
    return the outputs in that order, as Keras does), ``unroll`` (accepted and ignored:
    it changes how Keras compiles the loop, not the result), ``kernel_regularizer``,
    ``recurrent_regularizer`` and ``bias_regularizer`` (``nn.regularizers``: a penalty on
    that weight, added to the loss by the model).  ``return_state``,
    ``stateful``, ``dropout`` and ``recurrent_dropout`` are not implemented and refused.
    """

    #: The number of blocks of ``units`` columns in the kernels (1, 4 or 3).
    gates = 1

    def __init__(self, units, use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 return_sequences=False, go_backwards=False, return_state=False,
                 stateful=False, unroll=False, dropout=0.0, recurrent_dropout=0.0, **kwargs):
        super().__init__(**keras_name(self, kwargs))
        name = type(self).__name__
        self.units = check_positive_int("units", units)
        for argument, value in (("return_state", return_state), ("stateful", stateful)):
            if value:
                raise ValueError(f"{name}({argument}=True) is not implemented in nn: a layer of "
                                 f"a Sequential model has one output. Received: {argument}="
                                 f"{value!r}")
        for argument, value in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if value:
                raise ValueError(f"{name}({argument}=...) is not implemented in nn; put a "
                                 f"Dropout layer before or after the {name} instead. Received: "
                                 f"{argument}={value!r}")
        self.use_bias = bool(use_bias)
        self.return_sequences = bool(return_sequences)
        self.go_backwards = bool(go_backwards)
        self.unroll = bool(unroll)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.inputs = None  # x as the loop read it, (T n, d) time-major: dW = sum_t x_t^T dz_t
        self.input_ids = None  # ... or, for a one-hot x, the index of each row's 1, (T n,)
        self.buffers = {}  # per-step caches and scratch arrays, reused while shapes stay

    def build(self, input_shape, rng=None, dtype=None):
        if len(input_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} layer '{self.name}' expects inputs of shape (batch, "
                f"time, features); received samples of shape {tuple(input_shape)}. A sequence "
                "of integer ids needs an Embedding layer first.")
        super().build(input_shape, rng, dtype)
        width = self.gates * self.units
        self.add_param("kernel",
                       self.kernel_initializer((input_shape[1], width), self.rng, self.dtype),
                       regularizer=self.kernel_regularizer)
        self.add_param("recurrent_kernel", self.recurrent_initializer((self.units, width),
                                                                      self.rng, self.dtype),
                       regularizer=self.recurrent_regularizer)
        if self.use_bias:
            self.add_param("bias", self._initial_bias(), regularizer=self.bias_regularizer)

    def _initial_bias(self):
        return self.bias_initializer((self.gates * self.units,), self.rng, self.dtype)

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (input_shape[0], self.units)
        return (self.units,)

    # ------------------------------------------------------------------ forward
    def forward(self, x, training=False):
        self.ensure_built(x)
        if self.go_backwards:
            x = x[:, ::-1]
        hidden = self._steps(self._project(x))  # (T + 1, n, units): h_0 .. h_T
        if self.return_sequences:
            return hidden[1:].transpose(1, 0, 2).copy()  # (n, T, units), our own array
        return hidden[-1].copy()

    def _project(self, x):
        """p_t = x_t W + b for every step, time-major (T, n, k units), in the 'gates' buffer."""
        steps, batch = x.shape[1], x.shape[0]
        projected = self._buffer("gates", (steps, batch, self.gates * self.units))
        kernel, bias = self._projection_weights()
        ids = _one_hot_ids(x)
        if ids is None:  # one (T n, d) @ (d, k units) product, rows in time-major order
            inputs = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(steps * batch, -1)
            np.matmul(inputs, kernel, out=projected.reshape(steps * batch, -1))
            if bias is not None:
                projected += bias
            self.inputs, self.input_ids = inputs, None
        else:  # x one-hot: x_t W + b = (W + b)[ids_t], a row gather
            table = kernel if bias is None else kernel + bias
            np.take(table, ids.T, axis=0, out=projected, mode="clip")
            self.inputs, self.input_ids = None, ids.T.reshape(-1)
        return projected

    def _projection_weights(self):
        """W and b of the input projection (b None without a bias)."""
        return self.params["kernel"], (self.params["bias"] if self.use_bias else None)

    def _buffer(self, name, shape):
        """The reusable array ``name`` of this shape (allocated on first use or a new shape)."""
        array = self.buffers.get(name)
        if array is None or array.shape != shape or array.dtype != self.dtype:
            array = self.buffers[name] = np.empty(shape, self.dtype)
        return array

    # ----------------------------------------------------------------- backward
    def backward(self, grad_output):
        steps = self.buffers["hidden"].shape[0] - 1
        if self.return_sequences:  # dL/dh_t from the output at every step, time-major view
            grad_hidden, grad_last = grad_output.transpose(1, 0, 2), None
        else:  # only h_T is an output
            grad_hidden, grad_last = None, grad_output
        grad_projected = self._backward_steps(grad_hidden, grad_last, steps)  # (T, n, k units)
        return self._backward_projection(grad_projected)

    def _backward_projection(self, grad_projected):
        """From dL/dp_t (T, n, k units): dW = sum_t x_t^T dp_t, db = sum dp_t, and dx."""
        steps, batch, width = grad_projected.shape
        flat = grad_projected.reshape(steps * batch, width)
        kernel = self.params["kernel"]
        grad_kernel = self.grads["kernel"]
        if self.input_ids is not None:  # x one-hot: row v of x^T dp is the sum of the rows
            ids = self.input_ids        # of dp whose id is v (a third of the time of x^T dp
            grad_kernel[...] = 0        # as a matrix product with 62 ids and 5,120 rows)
            for v in np.flatnonzero(np.bincount(ids, minlength=len(kernel))):
                flat.compress(ids == v, axis=0).sum(axis=0, out=grad_kernel[v])
        else:
            np.matmul(self.inputs.T, flat, out=grad_kernel)
        if self.use_bias:  # db = sum of the rows of dp: for a one-hot x, of the rows of dW
            rows = flat if self.input_ids is None else grad_kernel
            self._input_bias_grad()[...] = rows.sum(axis=0)
        if not self.needs_input_grad:
            return None
        grad_input = (flat @ kernel.T).reshape(steps, batch, -1).transpose(1, 0, 2)
        return grad_input[:, ::-1] if self.go_backwards else grad_input

    def _input_bias_grad(self):
        return self.grads["bias"]

    def _start_backward(self, grad_last, batch):
        """dL/dh_T to start the reverse loop: the output's gradient, or zeros for a sequence
        (whose steps each add their own)."""
        grad_h = self._buffer("grad_h", (batch, self.units))
        if grad_last is None:
            grad_h[...] = 0
        else:
            grad_h[...] = grad_last
        return grad_h

    # ------------------------------------------------------------------ config
    def get_config(self):
        config_ = {
            **super().get_config(),
            "units": self.units,
            "use_bias": self.use_bias,
            "kernel_initializer": registry.serialize(self.kernel_initializer),
            "recurrent_initializer": registry.serialize(self.recurrent_initializer),
            "bias_initializer": registry.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "return_sequences": self.return_sequences,
            "go_backwards": self.go_backwards,
        }
        if self.unroll:
            config_["unroll"] = True
        return config_


class SimpleRNN(Recurrent):
    """A fully connected recurrent layer: the state is the previous output, fed back.

    ::

        forward:  h_t = f(z_t),  z_t = x_t W + b + h_{t-1} U,  h_0 = 0,  f = tanh by default
                  x: (n, T, d)   W ('kernel'): (d, units)   U ('recurrent_kernel'):
                  (units, units)   b ('bias'): (units,)   y: h_T (n, units), or every h_t
                  (n, T, units) with return_sequences=True
        backward: g_t = dL/dh_t, from the output at t (if returned) plus, for t < T, the
                  path through h_{t+1}:   g_{t-1} += dz_t U^T,   dz_t = g_t * f'(z_t)
                  dU = sum_t h_{t-1}^T dz_t   dW = sum_t x_t^T dz_t   db = sum_t sum_n dz_t
                  dx_t = dz_t W^T
        cached:   h_0 .. h_T (f'(z_t) is computed from h_t), and x
    """

    gates = 1

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, **kwargs)
        self.activation = _activation_name(activation, "activation", tuple(_ACTIVATIONS))

    def _steps(self, projected):
        """h_t = f(p_t + h_{t-1} U) for t = 1 .. T; returns h_0 .. h_T (the cache)."""
        steps, batch, _ = projected.shape
        hidden = self._buffer("hidden", (steps + 1, batch, self.units))
        activate = _ACTIVATIONS[self.activation][0]
        recurrent_kernel = self.params["recurrent_kernel"]
        hidden[0] = 0
        for t in range(steps):
            z = np.matmul(hidden[t], recurrent_kernel, out=hidden[t + 1])
            z += projected[t]
            activate(z, out=z)
        return hidden

    def _backward_steps(self, grad_hidden, grad_last, steps):
        """The reverse loop: dz_t for every step (T, n, units); fills dU."""
        hidden = self.buffers["hidden"]
        batch = hidden.shape[1]
        slopes = self._buffer("slopes", (steps, batch, self.units))  # f'(z_t), all t at once
        _ACTIVATIONS[self.activation][1](hidden[1:], out=slopes)
        grad_z = self._buffer("grad_z", (steps, batch, self.units))
        grad_h = self._start_backward(grad_last, batch)
        recurrent_kernel = self.params["recurrent_kernel"]
        for t in reversed(range(steps)):
            if grad_hidden is not None:
                grad_h += grad_hidden[t]
            np.multiply(grad_h, slopes[t], out=grad_z[t])  # dz_t = g_t * f'(z_t)
            np.matmul(grad_z[t], recurrent_kernel.T, out=grad_h)  # h_{t-1}'s share via z_t
        np.matmul(hidden[:-1].reshape(-1, self.units).T, grad_z.reshape(-1, self.units),
                  out=self.grads["recurrent_kernel"])
        return grad_z

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


class LSTM(Recurrent):
    """Long short-term memory (Hochreiter and Schmidhuber, 1997), Keras' gate order i, f, c, o.

    ::

        forward:  z_t = x_t W + b + h_{t-1} U            (n, 4 units): blocks i, f, c, o
                  i = sigmoid(z_i)  f = sigmoid(z_f)  g = tanh(z_c)  o = sigmoid(z_o)
                  c_t = f * c_{t-1} + i * g              the cell state: an additive path
                  h_t = o * tanh(c_t)                    h_0 = c_0 = 0
                  x: (n, T, d)   W ('kernel'): (d, 4 units)   U ('recurrent_kernel'):
                  (units, 4 units)   b ('bias'): (4 units,)   y: h_T, or every h_t
        backward: with g_t = dL/dh_t and e_t = dL/dc_t (both carried back from t + 1):
                  e_t += g_t * o * (1 - tanh(c_t)^2)
                  dz_i = e_t g i (1 - i)     dz_f = e_t c_{t-1} f (1 - f)
                  dz_c = e_t i (1 - g^2)     dz_o = g_t tanh(c_t) o (1 - o)
                  e_{t-1} = e_t * f          g_{t-1} += dz_t U^T
                  dU = sum_t h_{t-1}^T dz_t   dW = sum_t x_t^T dz_t   db = sum_t sum_n dz_t
        cached:   the gates i, f, g, o (T, n, 4 units), f * c_{t-1} and i * g (the two
                  terms of c_t), tanh(c_t), h_0 .. h_T, and x

    ``unit_forget_bias=True`` (Keras' default) starts the forget gate's bias at 1, so
    that f is about 0.73 at first and the cell state is kept rather than forgotten.
    """

    gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        _activation_name(activation, "activation", ("tanh",))
        _activation_name(recurrent_activation, "recurrent_activation", ("sigmoid",))
        self.unit_forget_bias = bool(unit_forget_bias)
        # All four gate activations as one tanh: sigmoid(z) = (1 + tanh(z / 2)) / 2 on the
        # i, f, o columns and tanh(z) on the c columns, so a = tanh(s z) * s + shift with
        # s = 1/2 (i, f, o) or 1 (c).  s z comes from the weights times s (exact: a power
        # of two), so each step's z needs no pass of its own.
        self._scale = np.repeat([0.5, 0.5, 1.0, 0.5], self.units)
        self._shift = np.repeat([0.5, 0.5, 0.0, 0.5], self.units)

    def _initial_bias(self):
        if not self.unit_forget_bias:
            return super()._initial_bias()
        units = self.units
        return np.concatenate([self.bias_initializer((units,), self.rng, self.dtype),
                               np.ones(units, self.dtype),
                               self.bias_initializer((2 * units,), self.rng, self.dtype)])

    def _projection_weights(self):
        kernel, bias = super()._projection_weights()
        scale = self._scale.astype(self.dtype)
        return kernel * scale, (None if bias is None else bias * scale)

    def _steps(self, projected):
        """The loop over time; the gates are activated in place in ``projected`` (= s p_t)."""
        steps, batch, _ = projected.shape
        units = self.units
        kept = self._buffer("kept", (steps, batch, units))            # f * c_{t-1}
        written = self._buffer("written", (steps, batch, units))      # i * g
        tanh_cells = self._buffer("tanh_cells", (steps, batch, units))
        hidden = self._buffer("hidden", (steps + 1, batch, units))
        cell = self._buffer("cell", (batch, units))                   # c_t, overwritten
        product = self._buffer("scratch", (batch, 4 * units))
        scale, shift = self._scale.astype(self.dtype), self._shift.astype(self.dtype)
        recurrent_kernel = self.params["recurrent_kernel"] * scale    # s U
        hidden[0] = cell[...] = 0
        for t in range(steps):
            gates = projected[t]                                       # s p_t
            gates += np.matmul(hidden[t], recurrent_kernel, out=product)   # s z_t
            np.tanh(gates, out=gates)
            gates *= scale
            gates += shift                                             # i, f, g, o
            i, f, g, o = (gates[:, k * units:(k + 1) * units] for k in range(4))
            np.multiply(f, cell, out=kept[t])
            np.add(kept[t], np.multiply(i, g, out=written[t]), out=cell)    # c_t
            np.multiply(o, np.tanh(cell, out=tanh_cells[t]), out=hidden[t + 1])
        return hidden

    def _backward_steps(self, grad_hidden, grad_last, steps):
        """The reverse loop: dz_t for every step (T, n, 4 units); fills dU."""
        gates, kept, written, tanh_cells, hidden = (self.buffers[key] for key in (
            "gates", "kept", "written", "tanh_cells", "hidden"))
        batch, units = hidden.shape[1], self.units
        i, f, g, o = (gates[:, :, k * units:(k + 1) * units] for k in range(4))
        # The local derivatives that do not depend on the incoming gradient, all steps at
        # once, each in two passes from what the forward pass kept:
        # (contiguous blocks: a pass that writes a strided view takes twice as long)
        to_i, to_f, to_g = self._buffer("to_cell", (3, steps, batch, units))  # dc_t/dz_i,_f,_c
        np.subtract(written, np.multiply(written, i, out=to_i), out=to_i)  # g i (1 - i)
        np.subtract(kept, np.multiply(kept, f, out=to_f), out=to_f)        # c_{t-1} f (1 - f)
        np.subtract(i, np.multiply(written, g, out=to_g), out=to_g)        # i (1 - g^2)
        h = hidden[1:]
        to_output = self._buffer("to_output", (steps, batch, units))   # dh_t/dz_o
        np.subtract(h, np.multiply(h, o, out=to_output), out=to_output)    # tanh(c) o (1 - o)
        cell_to_h = self._buffer("cell_to_h", (steps, batch, units))   # dh_t/dc_t
        np.subtract(o, np.multiply(h, tanh_cells, out=cell_to_h), out=cell_to_h)  # o (1-tanh^2)

        grad_z = self._buffer("grad_z", gates.shape)           # dL/dz_t, (T, n, 4 units)
        grad_h = self._start_backward(grad_last, batch)        # g_t = dL/dh_t
        grad_c = self._buffer("grad_c", (batch, units))        # e_t = dL/dc_t
        grad_c[...] = 0
        product = self._buffer("scratch", (batch, 4 * units))[:, :units]
        recurrent_kernel = self.params["recurrent_kernel"]
        for t in reversed(range(steps)):
            if grad_hidden is not None:
                grad_h += grad_hidden[t]
            grad_c += np.multiply(grad_h, cell_to_h[t], out=product)          # e_t
            dz = grad_z[t]
            np.multiply(grad_h, to_output[t], out=dz[:, 3 * units:])          # dz_o
            for k, to_gate in enumerate((to_i, to_f, to_g)):                  # dz_i, _f, _c
                np.multiply(grad_c, to_gate[t], out=dz[:, k * units:(k + 1) * units])
            grad_c *= f[t]                                                    # e_{t-1}
            np.matmul(dz, recurrent_kernel.T, out=grad_h)                     # g_{t-1}
        np.matmul(hidden[:-1].reshape(-1, units).T, grad_z.reshape(-1, 4 * units),
                  out=self.grads["recurrent_kernel"])
        return grad_z

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRU(Recurrent):
    """Gated recurrent unit (Cho et al., 2014) as Keras 3 computes it by default:
    gate order z, r, h, and the reset gate applied after the matrix product
    (``reset_after=True``), with separate input and recurrent biases.

    ::

        forward:  p_t = x_t W + b_in                       (n, 3 units): blocks z, r, h
                  m_t = h_{t-1} U + b_rec                  (n, 3 units)
                  z = sigmoid(p_z + m_z)   r = sigmoid(p_r + m_r)
                  q = tanh(p_h + r * m_h)                  the candidate state
                  h_t = z * h_{t-1} + (1 - z) * q          h_0 = 0
                  W ('kernel'): (d, 3 units)   U ('recurrent_kernel'): (units, 3 units)
                  'bias': (2, 3 units), rows b_in and b_rec (Keras' layout)
        backward: with g_t = dL/dh_t:
                  dq = g_t (1 - z) (1 - q^2)               dL/d(p_h + r m_h)
                  dz = g_t (h_{t-1} - q) z (1 - z)         dr = dq m_h r (1 - r)
                  dp_t = (dz, dr, dq)     dm_t = (dz, dr, dq * r)
                  g_{t-1} += g_t z + dm_t U^T
                  dU = sum_t h_{t-1}^T dm_t   dW = sum_t x_t^T dp_t
                  db_in = sum dp_t   db_rec = sum dm_t
        cached:   z and r (T, n, 2 units), m_h, q, h_0 .. h_T, and x
    """

    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        _activation_name(activation, "activation", ("tanh",))
        _activation_name(recurrent_activation, "recurrent_activation", ("sigmoid",))
        if reset_after is not True:
            raise ValueError("GRU(reset_after=False) is not implemented in nn: only Keras 3's "
                             f"default, reset_after=True. Received: reset_after={reset_after!r}")
        self.reset_after = True

    def _initial_bias(self):
        return self.bias_initializer((2, 3 * self.units), self.rng, self.dtype)

    def _projection_weights(self):
        return self.params["kernel"], (self.params["bias"][0] if self.use_bias else None)

    def _input_bias_grad(self):
        return self.grads["bias"][0]

    def _steps(self, projected):
        """The loop over time; z and r are activated in place in ``projected``."""
        steps, batch, _ = projected.shape
        units = self.units
        hidden = self._buffer("hidden", (steps + 1, batch, units))
        candidates = self._buffer("candidates", (steps, batch, units))      # q_t
        recurrent_h = self._buffer("recurrent_h", (steps, batch, units))    # m_h at t
        product = self._buffer("scratch", (batch, 3 * units))
        recurrent_kernel = self.params["recurrent_kernel"]
        recurrent_bias = self.params["bias"][1] if self.use_bias else None
        hidden[0] = 0
        for t in range(steps):
            m = np.matmul(hidden[t], recurrent_kernel, out=product)         # h_{t-1} U
            if recurrent_bias is not None:
                m += recurrent_bias
            gates = projected[t, :, :2 * units]
            gates += m[:, :2 * units]
            sigmoid(gates, out=gates)                                       # z, r
            z, r = gates[:, :units], gates[:, units:]
            recurrent_h[t] = m[:, 2 * units:]
            q = np.multiply(r, recurrent_h[t], out=candidates[t])
            q += projected[t, :, 2 * units:]
            np.tanh(q, out=q)
            h = np.subtract(hidden[t], q, out=hidden[t + 1])                # h_{t-1} - q
            h *= z
            h += q                                                          # q + z (h_{t-1} - q)
        return hidden

    def _backward_steps(self, grad_hidden, grad_last, steps):
        """The reverse loop: dp_t for every step (T, n, 3 units); fills dU and db_rec."""
        gates, candidates, recurrent_h, hidden = (self.buffers[key] for key in (
            "gates", "candidates", "recurrent_h", "hidden"))
        batch, units = hidden.shape[1], self.units
        z, r = gates[:, :, :units], gates[:, :, units:2 * units]
        # Local derivatives, all steps at once.
        to_z = _sigmoid_derivative(z, out=self._buffer("to_z", candidates.shape))
        to_z *= np.subtract(hidden[:-1], candidates, out=self._buffer("to_q", candidates.shape))
        to_q = _tanh_derivative(candidates, out=self.buffers["to_q"])
        to_q *= np.subtract(1, z, out=self._buffer("to_r", candidates.shape))  # (1-z)(1-q^2)
        to_r = _sigmoid_derivative(r, out=self.buffers["to_r"])
        to_r *= recurrent_h                                                     # m_h r (1 - r)

        grad_p = self._buffer("grad_p", gates.shape)        # dL/dp_t (T, n, 3 units)
        grad_m = self._buffer("grad_m", gates.shape)        # dL/dm_t
        grad_h = self._start_backward(grad_last, batch)
        product = self._buffer("scratch", (batch, 3 * units))[:, :units]
        recurrent_kernel = self.params["recurrent_kernel"]
        for t in reversed(range(steps)):
            if grad_hidden is not None:
                grad_h += grad_hidden[t]
            dp, dm = grad_p[t], grad_m[t]
            np.multiply(grad_h, to_z[t], out=dp[:, :units])                   # dz
            dq = np.multiply(grad_h, to_q[t], out=dp[:, 2 * units:])          # dq
            np.multiply(dq, to_r[t], out=dp[:, units:2 * units])              # dr
            dm[:, :2 * units] = dp[:, :2 * units]
            np.multiply(dq, r[t], out=dm[:, 2 * units:])                      # dq * r
            np.multiply(grad_h, z[t], out=product)                            # g_t z
            np.matmul(dm, recurrent_kernel.T, out=grad_h)
            grad_h += product                                                 # g_{t-1}
        flat_m = grad_m.reshape(-1, 3 * units)
        np.matmul(hidden[:-1].reshape(-1, units).T, flat_m, out=self.grads["recurrent_kernel"])
        if self.use_bias:
            self.grads["bias"][1] = flat_m.sum(axis=0)
        return grad_p

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}
