"""Many fits in one process keep memory bounded (docs/reliability.md).

benchmarks/memory_fits.py runs the full 100-fit measurement.
"""

import gc
import pickle
import sys

import keras
import numpy as np
import pytest

from _frames import FAST, regression_data
from sfne_sklearn import SFNERegressor

TINY = {**FAST, "hidden_dim": 4, "slow_network_units": 4, "epochs": 2, "random_state": 0}

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*still improving:sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm"),
]


def rss_mb():
    """Resident memory of this process now, in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 1e6


def gradient_registry():
    """TensorFlow's global gradient registry, where each fit used to leave its graph."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the leak and its fix are TensorFlow's")
    from tensorflow.python.framework import ops

    return ops._gradient_registry._registry


def test_fits_in_a_row_keep_memory_bounded():
    X, y = regression_data(n_samples=60)
    registry = gradient_registry()
    first = SFNERegressor(**TINY).fit(X, y)
    expected = first.predict(X)
    entries, memory = [], []
    for seed in range(12):
        SFNERegressor(**{**TINY, "random_state": seed}).fit(X, y).predict(X)
        gc.collect()
        entries.append(len(registry))
        memory.append(rss_mb())
    # Each fit used to leave its traced train steps in the registry, about
    # 18 MB a fit even for this tiny model: 140 MB over the last 8 fits.
    # Now the registry stays put and RSS moves by allocator noise (~20 MB).
    assert entries[-1] == entries[1]
    assert memory[-1] - memory[3] < 60, memory
    # Releasing the finished fits' graphs leaves the live models alone.
    np.testing.assert_array_equal(first.predict(X), expected)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(first)).predict(X), expected)
