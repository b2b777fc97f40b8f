"""Training rows handed to TensorFlow without a copy.

``tf.constant`` copies a NumPy array into TensorFlow's memory: the rows of
a fit would then be held twice for the whole fit. An array whose data
starts on a 64-byte boundary (what TensorFlow's kernels require of a
tensor's buffer) and is C-contiguous is shared instead, through DLPack.
:func:`aligned_take` builds such arrays where a fit selects its training
rows anyway (the validation split), so that gather is the only copy; where
the fit's features are its own aligned array (``preprocessor="auto"``),
:func:`compact_rows` moves the training rows to its front instead.
"""

import numpy as np

from .._arrays import aligned_empty, is_aligned, row_blocks


def aligned_take(a, rows):
    """``a[rows]`` (rows: an index array) in a 64-byte aligned array."""
    out = aligned_empty((len(rows),) + a.shape[1:], a.dtype)
    # mode="clip": "raise" would gather into a buffer first (a second copy).
    np.take(a, rows, axis=0, out=out, mode="clip")
    return out


def compact_rows(a, rows):
    """``a[rows]`` for increasing ``rows``, moved to the front of ``a`` in place.

    Returns a view of ``a``: the training rows without a second copy of
    them. Every row moves towards the start (``rows[i] >= i``), so a block
    of rows is gathered before any later write can reach it.
    """
    rows = np.asarray(rows)
    if np.any(np.diff(rows) <= 0):
        raise ValueError("compact_rows needs strictly increasing rows.")
    for block in row_blocks((len(rows), int(np.prod(a.shape[1:], dtype=int)))):
        a[block] = a[rows[block]]
    return a[: len(rows)]


def as_tensor(a):
    """``a`` as a TensorFlow tensor, sharing its memory where TensorFlow can."""
    import tensorflow as tf

    if a.size and is_aligned(a):
        return tf.experimental.dlpack.from_dlpack(a.__dlpack__())
    return tf.constant(a)
