"""Array helpers shared by the preprocessing and the block's encodings."""

# Elements per block of columns: a few MB of float64 temporaries.
_BLOCK_ELEMENTS = 1 << 22


def column_blocks(shape):
    """Slices over the columns of an array of ``shape``, a few columns at a time.

    Per-column statistics computed one block at a time need temporaries the
    size of the block, not several more copies of the whole array.
    """
    n_rows, n_columns = shape
    step = max(1, _BLOCK_ELEMENTS // max(n_rows, 1))
    return [slice(start, start + step) for start in range(0, n_columns, step)]
