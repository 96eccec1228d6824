"""Numerical kernels that several layers and losses share, kept apart from the registry.

Each is a plain function of arrays; the layers and losses that use them add the
caching and the backward pass.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def sigmoid(x, out=None):
    """Numerically stable logistic function (no overflow for any finite x)."""
    exp_minus_abs = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.divide(np.where(x >= 0, 1.0, exp_minus_abs), 1.0 + exp_minus_abs, out=out)


def softmax(x, out=None):
    """Softmax along the last axis with the row maximum subtracted first."""
    out = np.subtract(x, np.max(x, axis=-1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= np.sum(out, axis=-1, keepdims=True)
    return out


def log_softmax(logits):
    """log softmax(z) = z - logsumexp(z), with the row maximum subtracted first."""
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


# --------------------------------------------------------------------------- images
# The kernels of the convolution and pooling layers. Images are channels last,
# x: (n, height, width, channels); a window is (kh, kw) and moves by strides (sh, sw).


def output_size(size, window, stride, padding):
    """Length of the output along one spatial axis (TensorFlow's rule, which Keras follows).

    'valid': floor((size - window) / stride) + 1, the windows that fit inside;
    'same':  ceil(size / stride), one window per stride, padding as needed.
    """
    if padding == "same":
        return -(-size // stride)
    return (size - window) // stride + 1


def same_padding(size, window, stride):
    """(before, after): the zeros 'same' padding adds along one axis.

    In total (out - 1) * stride + window - size (never negative), with out = ceil(size /
    stride); an odd total puts the extra one after (at the bottom or the right), as
    TensorFlow and Keras do.
    """
    total = max((output_size(size, window, stride, "same") - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def pad_images(x, padding, value=0.0):
    """x: (n, h, w, c) with ``padding = ((top, bottom), (left, right))`` rows and columns of
    ``value`` added; x itself (no copy) when there is nothing to add."""
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x
    n, h, w, c = x.shape
    padded = np.full((n, h + top + bottom, w + left + right, c), value, dtype=x.dtype)
    padded[:, top:top + h, left:left + w, :] = x
    return padded


def window_positions(window, strides, out_shape):
    """For each offset (i, j) inside the window, the slices of the rows and columns that
    offset visits over all output positions.

    ``x[:, rows, cols, :]`` is then (n, ho, wo, c): element (p, q) is the pixel at offset
    (i, j) of the window of output (p, q). Looping over these kh * kw offsets, never over
    pixels or samples, is how col2im and the pooling layers visit every window at once.
    """
    (kh, kw), (sh, sw), (ho, wo) = window, strides, out_shape
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + sh * (ho - 1) + 1, sh)
            columns = slice(j, j + sw * (wo - 1) + 1, sw)
            yield (i, j), (rows, columns)


def im2col(x, window, strides, out=None):
    """The patches of an (already padded) image batch as the rows of one matrix.

    x: (n, h, w, c)  ->  cols: (n * ho * wo, kh * kw * c), row (p, q) of image m holding
    the window whose top-left pixel is (p * sh, q * sw), flattened in (kh, kw, c) order:
    the order of a Keras kernel (kh, kw, c, f) reshaped to (kh * kw * c, f), so that a
    convolution is ``im2col(x) @ kernel.reshape(-1, f)``. The patches are read through a
    strided view (``sliding_window_view``) and copied once, into ``out`` if given (any
    array of n * ho * wo * kh * kw * c elements of x's dtype). With few channels the copy
    goes one kernel offset at a time, which measures several times faster there.
    """
    (kh, kw), (sh, sw) = window, strides
    # (n, ho, wo, c, kh, kw): every window, strided, as a view of x
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    patches = windows.transpose(0, 1, 2, 4, 5, 3)  # (n, ho, wo, kh, kw, c), still a view
    out = np.empty(patches.shape, x.dtype) if out is None else out.reshape(patches.shape)
    if x.shape[3] >= 8:  # rows of many channels: one copy of the whole view is fastest
        np.copyto(out, patches)
    else:  # a few channels: NumPy's inner loops would be kw * c long; copy offset by offset
        for i in range(kh):
            for j in range(kw):
                out[:, :, :, i, j, :] = patches[:, :, :, i, j, :]
    return out.reshape(-1, kh * kw * x.shape[3])


def col2im(cols, image_shape, window, strides):
    """The adjoint of im2col: add each patch row back onto the pixels it was copied from.

    cols: (n * ho * wo, kh * kw * c) (gradients of the patches)  ->  (n, h, w, c), with
    ``image_shape = (n, h, w, c)`` the shape of the padded image im2col read. A pixel that
    lies in several windows receives the sum of their gradients. One slice addition per
    window offset (kh * kw in all).
    """
    (kh, kw), (n, h, w, c) = window, image_shape
    out_shape = (output_size(h, kh, strides[0], "valid"), output_size(w, kw, strides[1], "valid"))
    patches = cols.reshape(n, *out_shape, kh, kw, c)
    image = np.zeros(image_shape, dtype=cols.dtype)
    for (i, j), (rows, columns) in window_positions(window, strides, out_shape):
        image[:, rows, columns, :] += patches[:, :, :, i, j, :]
    return image


def conv2d_input_grad(grad_z, kernel, image_shape, strides):
    """dL/dx of a convolution, ``col2im(grad_z @ kernel.reshape(-1, f).T)``, offset by offset.

    grad_z: (n * ho * wo, f)   kernel: (kh, kw, c, f)   returns: (n, h, w, c), the gradient
    of the padded image of ``image_shape``. For each window offset (i, j) the product
    grad_z K[i, j]^T, (n * ho * wo, c), is what the pixels at that offset of every window
    receive; it is added at the rows and columns the offset visits. The same kh * kw slice
    additions as col2im, but the (n * ho * wo, kh * kw * c) matrix of patch gradients is
    never formed: each small product is added while it is still in the cache, which
    measures faster than one large product followed by col2im.
    """
    kh, kw, channels, _ = kernel.shape
    n, h, w, _ = image_shape
    out_shape = (output_size(h, kh, strides[0], "valid"), output_size(w, kw, strides[1], "valid"))
    image = np.zeros(image_shape, dtype=grad_z.dtype)
    piece = np.empty((grad_z.shape[0], channels), dtype=grad_z.dtype)
    for (i, j), (rows, columns) in window_positions((kh, kw), strides, out_shape):
        np.matmul(grad_z, kernel[i, j].T, out=piece)  # (n*ho*wo, f) @ (f, c)
        image[:, rows, columns, :] += piece.reshape(n, *out_shape, channels)
    return image


def conv2d_reference(x, kernel, strides=(1, 1)):
    """A 2-D convolution from its definition, one output pixel at a time (slow; for tests).

    y[m, p, q, k] = sum over i, j, c of x[m, p * sh + i, q * sw + j, c] * kernel[i, j, c, k]
    x: (n, h, w, c) already padded   kernel: (kh, kw, c, f)   y: (n, ho, wo, f)
    (a cross-correlation, as in every deep-learning library: the kernel is not flipped).
    """
    n, h, w, _ = x.shape
    kh, kw, _, filters = kernel.shape
    (sh, sw) = strides
    ho, wo = output_size(h, kh, sh, "valid"), output_size(w, kw, sw, "valid")
    y = np.zeros((n, ho, wo, filters), dtype=np.result_type(x, kernel))
    for p in range(ho):
        for q in range(wo):
            patch = x[:, p * sh:p * sh + kh, q * sw:q * sw + kw, :]  # (n, kh, kw, c)
            y[:, p, q, :] = np.tensordot(patch, kernel, axes=3)
    return y
