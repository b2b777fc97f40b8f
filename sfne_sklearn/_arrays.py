"""Array helpers shared by the preprocessing, the block's encodings and training."""

import numpy as np

# TensorFlow's kernels need a tensor's buffer to start on this boundary to
# share it (see training._arrays).
ALIGN = 64

# Elements per block of columns (or rows): a few MB of float64 temporaries.
_BLOCK_ELEMENTS = 1 << 22


def column_blocks(shape):
    """Slices over the columns of an array of ``shape``, a few columns at a time.

    Per-column statistics computed one block at a time need temporaries the
    size of the block, not several more copies of the whole array.
    """
    n_rows, n_columns = shape
    step = max(1, _BLOCK_ELEMENTS // max(n_rows, 1))
    return [slice(start, start + step) for start in range(0, n_columns, step)]


def row_blocks(shape):
    """Slices over the rows of an array of ``shape``, a few MB of it at a time.

    For statistics that combine over rows (``partial_fit``): each block's
    temporaries are the size of the block.
    """
    n_rows, n_columns = shape
    step = max(1, _BLOCK_ELEMENTS // max(n_columns, 1))
    return [slice(start, min(start + step, n_rows)) for start in range(0, max(n_rows, 1), step)]


def aligned_empty(shape, dtype):
    """An uninitialised C-contiguous array whose data is ``ALIGN``-byte aligned."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(nbytes + ALIGN, dtype=np.uint8)
    offset = (-raw.ctypes.data) % ALIGN
    return raw[offset : offset + nbytes].view(dtype).reshape(shape)
