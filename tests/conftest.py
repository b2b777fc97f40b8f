"""Shared pytest fixtures."""

import keras
import pytest


@pytest.fixture(autouse=True)
def _fixed_seeds():
    """Seed Python, NumPy and the Keras backend before every test."""
    keras.utils.set_random_seed(0)
