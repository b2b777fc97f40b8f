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


def is_aligned(a):
    """True for a C-contiguous array whose data TensorFlow can share."""
    return (
        isinstance(a, np.ndarray)
        and a.flags.c_contiguous
        and a.ctypes.data % ALIGN == 0
        and a.dtype.kind in "fiub"
    )


def aligned_empty(shape, dtype):
    """An uninitialised C-contiguous array whose data is ``ALIGN``-byte aligned."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(nbytes + ALIGN, dtype=np.uint8)
    offset = (-raw.ctypes.data) % ALIGN
    return raw[offset : offset + nbytes].view(dtype).reshape(shape)


def aligned_astype(a, dtype):
    """``a`` as a C-contiguous, ``ALIGN``-byte aligned array of ``dtype``.

    ``a`` itself where it already is one; otherwise a new array, converted a
    block of rows at a time (no temporary of the whole array).
    """
    dtype = np.dtype(dtype)
    if a.dtype == dtype and is_aligned(a):
        return a
    out = aligned_empty(a.shape, dtype)
    for block in row_blocks((a.shape[0], int(np.prod(a.shape[1:], dtype=int)))):
        out[block] = a[block]
    return out
