"""Small data sets shared by the estimator tests."""

import numpy as np
import pandas as pd

# Estimator settings for tests: FAST learns small problems well, QUICK fits
# just enough to check behaviour, TINY is the smallest seeded fit.
FAST = dict(hidden_dim=16, slow_network_units=16, slow_network_layers=2, num_layers=1, epochs=30)
QUICK = {**FAST, "epochs": 5}
TINY = {**FAST, "hidden_dim": 4, "slow_network_units": 4, "epochs": 2, "random_state": 0}
# A small SFNEBlock configuration, for the Keras-side tests.
SMALL_BLOCK = dict(hidden_dim=8, num_layers=1, slow_network_layers=2, slow_network_units=8)


def regression_data(n_samples=120, n_features=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    y = 2.0 * X[:, 0] - X[:, 1] + 0.5 * X[:, 2] ** 2 + 0.05 * rng.normal(size=n_samples)
    return X, y


def mixed_frame(n_samples=150, seed=0):
    """A DataFrame with every column kind the preprocessor handles, with gaps."""
    rng = np.random.RandomState(seed)
    num = rng.normal(size=n_samples)
    count = rng.randint(0, 5, size=n_samples)
    colour = rng.choice(["red", "green", "blue"], size=n_samples)
    frame = pd.DataFrame(
        {
            "num": num,
            "count": pd.array(count, dtype="Int64"),
            "ratio": pd.array(rng.uniform(size=n_samples), dtype="Float64"),
            "colour": pd.Categorical(colour),
            "label": pd.array(rng.choice(["a", "b"], size=n_samples), dtype="string"),
            "text": rng.choice(["x", "y", "z"], size=n_samples).astype(object),
            "flag": rng.rand(n_samples) > 0.5,
            "maybe": pd.array(rng.rand(n_samples) > 0.5, dtype="boolean"),
        }
    )
    frame.loc[::7, "num"] = np.nan
    frame.loc[::5, "count"] = pd.NA
    frame.loc[::6, "ratio"] = pd.NA
    frame.loc[::9, "colour"] = np.nan
    frame.loc[::4, "label"] = pd.NA
    frame.loc[::8, "text"] = None
    frame.loc[::3, "maybe"] = pd.NA
    y = (
        2.0 * np.nan_to_num(num)
        + count
        + (colour == "red") * 3.0
        + 0.1 * rng.normal(size=n_samples)
    )
    return frame, y
