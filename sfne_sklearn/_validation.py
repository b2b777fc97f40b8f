"""Small argument checks shared by the Keras layers and the model."""

import numbers


def check_positive_int(value, name):
    """Return ``value`` as an int if it is a positive integer, else raise.

    Booleans are refused even though ``bool`` subclasses ``int``: ``True`` as
    a layer width is always a mistake.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value <= 0
    ):
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_rate(value, name):
    """Return ``value`` as a float if it lies in ``[0, 1)``, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a float in [0, 1). Received: {name}={value!r}")
    return float(value)
