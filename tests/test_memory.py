"""Many fits in one process keep memory bounded (docs/reliability.md).

benchmarks/memory_fits.py runs the full 100-fit measurement.
"""

import gc
import warnings
import pickle
import sys

import keras
import numpy as np
import pytest

from _frames import TINY, regression_data
from sfne_sklearn import SFNERegressor
from sfne_sklearn.training._guards import gradient_registry


pytestmark = [
    pytest.mark.filterwarnings("ignore:.*still improving:sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm"),
]


def rss_mb():
    """Resident memory of this process now, in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 1e6


def registry_or_skip():
    """TensorFlow's global gradient registry, where each fit used to leave its graph."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the leak and its fix are TensorFlow's")
    registry = gradient_registry()
    if registry is None:
        pytest.skip("this TensorFlow's gradient registry is not the tested one (see the warning)")
    return registry


# Keras's own optimizers register the leaking gradient in each trace; the
# default "adam" on TensorFlow (FlatAdam) does not (see the last test).
LEAKING = {**TINY, "optimizer": "adamw"}


def test_fits_in_a_row_keep_memory_bounded():
    X, y = regression_data(n_samples=60)
    registry = registry_or_skip()
    first = SFNERegressor(**LEAKING).fit(X, y)
    expected = first.predict(X)
    entries, memory = [], []
    for seed in range(12):
        # A new architecture each time: a fit of a known one reuses its
        # traced train step, and only new traces leaked.
        params = {**LEAKING, "hidden_dim": 5 + seed, "random_state": seed}
        SFNERegressor(**params).fit(X, y).predict(X)
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


def test_registry_outside_the_tested_releases_is_left_alone_with_a_warning(monkeypatch):
    """And then each new architecture's trace stays registered: the leak."""
    from sfne_sklearn.training import _guards

    registry = registry_or_skip()
    X, y = regression_data(n_samples=30)
    monkeypatch.setattr(_guards, "_TESTED_TENSORFLOW", ((0, 1), (0, 2)))
    monkeypatch.setattr(_guards, "_warned", False)
    before = len(registry)
    with pytest.warns(RuntimeWarning, match=r"outside the tested releases.*tensorflow#97697"):
        SFNERegressor(**{**LEAKING, "hidden_dim": 31}).fit(X, y)
    assert len(registry) > before
    # Once per process.
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        SFNERegressor(**{**LEAKING, "hidden_dim": 32}).fit(X, y)
    # The default optimizer's trace registers nothing, released or not.
    before = len(registry)
    SFNERegressor(**{**TINY, "hidden_dim": 33}).fit(X, y)
    assert len(registry) == before


def test_unexpected_registry_layout_is_left_alone_with_a_warning(monkeypatch):
    from tensorflow.python.framework import ops

    from sfne_sklearn.training import _guards

    registry_or_skip()
    monkeypatch.setattr(ops._gradient_registry, "_registry", list(ops._gradient_registry._registry))
    monkeypatch.setattr(_guards, "_warned", False)
    with pytest.warns(RuntimeWarning, match="not laid out as expected"):
        assert gradient_registry() is None
