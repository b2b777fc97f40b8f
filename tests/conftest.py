"""Shared pytest fixtures."""

import keras
import pytest

from _frames import TINY, mixed_frame, regression_data
from sfne_sklearn import SFNERegressor


@pytest.fixture(autouse=True)
def _fixed_seeds():
    """Seed Python, NumPy and the Keras backend before every test."""
    keras.utils.set_random_seed(0)


# Small data sets and seeded fits, shared by the modules that use them (one
# fit per module).
@pytest.fixture(scope="module")
def numpy_data():
    return regression_data(n_samples=40)


@pytest.fixture(scope="module")
def frame_data():
    return mixed_frame(n_samples=40)


@pytest.fixture(scope="module")
def numpy_model(numpy_data):
    return SFNERegressor(**TINY).fit(*numpy_data)


@pytest.fixture(scope="module")
def frame_model(frame_data):
    return SFNERegressor(**TINY).fit(*frame_data)
