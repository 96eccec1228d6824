"""Weight regularizers: penalties on a layer's parameters, added to the loss.

A regularizer turns a parameter array ``w`` into a number ``R(w)`` that training adds
to the data loss, and gives the gradient ``dR/dw`` that is added to the parameter's
gradient after the backward pass (``Model.train_step``)::

    loss = data loss + sum over regularized parameters of R(w)
    grad[w] = d(data loss)/dw + dR/dw

====================  =========================================  ==================
L1(l1=0.01)           R(w) = l1 sum_i abs(w_i)                   dR/dw = l1 sign(w)
L2(l2=0.01)           R(w) = l2 sum_i w_i^2                      dR/dw = 2 l2 w
L1L2(l1=0.0, l2=0.0)  R(w) = l1 sum_i abs(w_i) + l2 sum_i w_i^2  the sum of the two
====================  =========================================  ==================

These are Keras' formulas and defaults (note: no 1/2 in front of the L2 sum).  A layer
takes one as ``Dense(64, kernel_regularizer=nn.regularizers.l2(1e-4))`` or by name
(``'l1'``, ``'l2'``, ``'l1_l2'``); the lowercase names ``l1``, ``l2`` and ``l1_l2`` are the
classes themselves, as in Keras.  Every regularizer registers itself (``nn.registry``),
so a model that uses one saves and loads.

**Weight decay.** An L2 penalty and weight decay are two spellings of one idea, and they
coincide only for plain gradient descent.  ``SGD(weight_decay=wd)`` adds ``wd * w`` to each
gradient: exactly the gradient of ``L2(l2=wd / 2)``, momentum or not, except that the
penalty is not part of the reported loss.  ``AdamW(weight_decay=wd)`` instead shrinks
every parameter directly, ``w <- (1 - lr wd) w``, *decoupled* from the gradient: Adam
divides the gradient of an L2 penalty by its running root mean square like every other
gradient, so the penalty's strength would vary per parameter, which AdamW avoids
(chapter 6).
"""
import math

import numpy as np

from . import registry


def _check_factor(name, value):
    """``value`` as a float, or a ValueError unless it is a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"The regularization factor {name} must be a finite number >= 0. "
                         f"Received: {name}={value!r}")
    return float(value)


class Regularizer(registry.Serializable, family="regularizer"):
    """Base class: ``regularizer(w)`` is the penalty R(w), ``gradient(w)`` is dR/dw.

    A subclass implements both and ``get_config``; ``name`` is the string that selects it.
    """

    name = None

    def __call__(self, weights):
        raise NotImplementedError

    def gradient(self, weights):
        raise NotImplementedError

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class L1(Regularizer):
    """The L1 penalty ``R(w) = l1 * sum_i abs(w_i)``; its gradient is ``l1 * sign(w)``.

    At ``w_i = 0`` the penalty has a kink; the gradient used there is 0 (a subgradient).
    Its constant pull towards zero, whatever the size of ``w_i``, drives many weights to
    exactly (or nearly) zero: L1 makes weights sparse.  Default: l1=0.01, as in Keras.
    """

    name = "l1"

    def __init__(self, l1=0.01):
        self.l1 = _check_factor("l1", 0.01 if l1 is None else l1)

    def __call__(self, weights):
        return self.l1 * float(np.sum(np.abs(weights)))

    def gradient(self, weights):
        return self.l1 * np.sign(weights)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """The L2 penalty ``R(w) = l2 * sum_i w_i^2``; its gradient is ``2 * l2 * w``.

    Keras' form, without the 1/2 that textbooks often put in front: ``L2(l2)`` pulls as
    ``SGD(weight_decay=2 * l2)`` would.  Default: l2=0.01, as in Keras.
    """

    name = "l2"

    def __init__(self, l2=0.01):
        self.l2 = _check_factor("l2", 0.01 if l2 is None else l2)

    def __call__(self, weights):
        flat = np.ravel(weights)
        return self.l2 * float(flat @ flat)

    def gradient(self, weights):
        return (2 * self.l2) * weights

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """Both penalties, ``R(w) = l1 * sum_i abs(w_i) + l2 * sum_i w_i^2`` (the "elastic net").

    Defaults: l1=0.0, l2=0.0, Keras 3's (so ``L1L2(l2=0.1)`` has no L1 part).
    """

    name = "l1_l2"
    aliases = ("l1l2",)  # the key Keras 3's registry derives from the class name

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check_factor("l1", 0.0 if l1 is None else l1)
        self.l2 = _check_factor("l2", 0.0 if l2 is None else l2)

    def __call__(self, weights):
        return L1(self.l1)(weights) + L2(self.l2)(weights)

    def gradient(self, weights):
        return L1(self.l1).gradient(weights) + L2(self.l2).gradient(weights)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


# Keras exports each class under a lowercase name too: keras.regularizers.l2(1e-4).
l1, l2, l1_l2 = L1, L2, L1L2


def get(identifier):
    """Resolve a regularizer: None (no penalty), a name ('l1', 'l2', 'l1_l2'), an instance,
    or a saved ``{'class_name', 'config'}`` dict."""
    if identifier is None:
        return None
    return registry.get(identifier, "regularizer", Regularizer)


def serialize(regularizer):
    """What a layer's config stores for a regularizer: its ``serialize`` dict, or None."""
    return None if regularizer is None else registry.serialize(regularizer)
