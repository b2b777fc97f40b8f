"""Training rows handed to TensorFlow without a copy.

``tf.constant`` copies a NumPy array into TensorFlow's memory: the rows of
a fit would then be held twice for the whole fit. An array whose data
starts on a 64-byte boundary (what TensorFlow's kernels require of a
tensor's buffer) and is C-contiguous is shared instead, through DLPack.
:func:`aligned_take` builds such arrays where a fit selects its training
rows anyway (the validation split), so that gather is the only copy.
"""

import numpy as np

_ALIGN = 64


def aligned_empty(shape, dtype):
    """An uninitialised C-contiguous array whose data is 64-byte aligned."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(nbytes + _ALIGN, dtype=np.uint8)
    offset = (-raw.ctypes.data) % _ALIGN
    return raw[offset : offset + nbytes].view(dtype).reshape(shape)


def aligned_take(a, rows):
    """``a[rows]`` (rows: an index array) in a 64-byte aligned array."""
    out = aligned_empty((len(rows),) + a.shape[1:], a.dtype)
    # mode="clip": "raise" would gather into a buffer first (a second copy).
    np.take(a, rows, axis=0, out=out, mode="clip")
    return out


def as_tensor(a):
    """``a`` as a TensorFlow tensor, sharing its memory where TensorFlow can."""
    import tensorflow as tf

    if (
        isinstance(a, np.ndarray)
        and a.size
        and a.flags.c_contiguous
        and a.ctypes.data % _ALIGN == 0
        and a.dtype.kind in "fiub"
    ):
        return tf.experimental.dlpack.from_dlpack(a.__dlpack__())
    return tf.constant(a)
