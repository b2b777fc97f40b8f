"""Property-based tests: random tables either fit and predict finitely or fail clearly.

Hypothesis draws the shape of a table (rows, column kinds, missing values,
duplicate rows, magnitudes); numpy fills it from a drawn seed, which keeps
each example cheap. On every such table, fit then predict/transform must
either return finite values of the right shape or raise one of the errors
documented in docs/reliability.md.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _frames import TINY
from sfne_sklearn import SFNERegressor, SFNETransformer


# The errors a valid table may still meet, as documented in docs/reliability.md.
DOCUMENTED_ERRORS = [
    (ValueError, "Input X contains infinity"),
    (ValueError, "produced no features"),
    (ValueError, "0 feature"),
]

COLUMN_KINDS = [
    "float",
    "float_with_inf",
    "int",
    "Int64",
    "Float64",
    "bool",
    "boolean",
    "category",
    "string",
    "object",
    "constant",
    "all_missing",
]


def make_column(kind, n_rows, rng, missing, scale):
    """One column of ``kind`` with about ``missing`` of its values missing."""
    gaps = rng.rand(n_rows) < missing
    if kind == "float":
        values = rng.normal(size=n_rows) * scale
        values[gaps] = np.nan
        return values
    if kind == "float_with_inf":
        values = rng.normal(size=n_rows) * scale
        values[rng.randint(n_rows)] = np.inf
        return values
    if kind == "int":
        return rng.randint(-5, 6, size=n_rows)
    if kind == "Int64":
        return pd.array(np.where(gaps, None, rng.randint(0, 9, size=n_rows)), dtype="Int64")
    if kind == "Float64":
        return pd.array(np.where(gaps, None, rng.uniform(size=n_rows) * scale), dtype="Float64")
    if kind == "bool":
        return rng.rand(n_rows) > 0.5
    if kind == "boolean":
        return pd.array(np.where(gaps, None, rng.rand(n_rows) > 0.5), dtype="boolean")
    if kind == "category":
        values = rng.choice(["red", "green", "blue"], size=n_rows).astype(object)
        values[gaps] = np.nan
        return pd.Categorical(values)
    if kind == "string":
        values = rng.choice(["a", "b", "c", "d"], size=n_rows).astype(object)
        values[gaps] = None
        return pd.array(values, dtype="string")
    if kind == "object":
        # Mixed Python objects, as read from messy files.
        pool = np.array(["x", "y", 1, 2.5, True, None, pd.NA], dtype=object)
        return pool[rng.randint(len(pool), size=n_rows)]
    if kind == "constant":
        return np.full(n_rows, 7.0 * scale)
    if kind == "all_missing":
        return np.full(n_rows, np.nan)
    raise AssertionError(kind)


@st.composite
def tables(draw):
    """A DataFrame with a target: random kinds, gaps, duplicates and sizes."""
    n_rows = draw(st.sampled_from([1, 2, 5, 17, 60, 250]))
    kinds = draw(st.lists(st.sampled_from(COLUMN_KINDS), min_size=1, max_size=5))
    missing = draw(st.sampled_from([0.0, 0.1, 0.5, 0.95]))
    scale = draw(st.sampled_from([1e-6, 1.0, 1e6, 1e30]))
    duplicated = draw(st.sampled_from([0.0, 0.5, 1.0]))
    rng = np.random.RandomState(draw(st.integers(0, 2**31 - 1)))
    frame = pd.DataFrame(
        {
            f"{kind}_{j}": make_column(kind, n_rows, rng, missing, scale)
            for j, kind in enumerate(kinds)
        }
    )
    # Replace a share of the rows by copies of earlier ones.
    n_copies = int(duplicated * (n_rows - 1))
    if n_copies:
        rows = np.concatenate(
            [np.arange(n_rows - n_copies), rng.randint(n_rows - n_copies, size=n_copies)]
        )
        frame = frame.iloc[rows].reset_index(drop=True)
    y = rng.normal(size=n_rows) * draw(st.sampled_from([1e-3, 1.0, 1e30]))
    if draw(st.booleans()):
        y = np.full(n_rows, y[0])
    return frame, y


def fit_and_output(estimator, frame, y):
    """Fit, then the estimator's output on the table and on its first row.

    Returns None when fit raises a documented error.
    """
    with warnings.catch_warnings():
        # Short fits and all-missing columns warn; these are not failures.
        warnings.simplefilter("ignore")
        try:
            estimator.fit(frame, y)
        except Exception as exc:
            if any(isinstance(exc, k) and re.search(t, str(exc)) for k, t in DOCUMENTED_ERRORS):
                return None
            raise
        method = estimator.predict if hasattr(estimator, "predict") else estimator.transform
        return method(frame), method(frame.iloc[:1])


PROPERTY_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check_outputs(outputs, n_rows, shape):
    if outputs is not None:
        full, one = outputs
        assert full.shape == (n_rows, *shape) and one.shape == (1, *shape)
        assert np.all(np.isfinite(full)) and np.all(np.isfinite(one))


@PROPERTY_SETTINGS
@given(tables(), st.booleans())
def test_any_table_fits_and_predicts_finitely_or_fails_clearly(table, regressor):
    frame, y = table
    if regressor:
        check_outputs(fit_and_output(SFNERegressor(**TINY), frame, y), len(frame), ())
    else:
        estimator = SFNETransformer(**TINY, output_dim=2)
        check_outputs(fit_and_output(estimator, frame, None), len(frame), (2,))


@pytest.mark.parametrize(
    "kinds",
    [
        [k for k in COLUMN_KINDS if k != "float_with_inf"],
        ["all_missing"],
        ["object", "all_missing"],
    ],
    ids=["all-finite-kinds", "gaps", "mixed"],
)
def test_fixed_tables(kinds):
    # Every column kind at least once, whatever hypothesis draws; a table of
    # nothing but missing values keeps its missing-value indicator.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({kind: make_column(kind, 8, rng, 0.25, 1.0) for kind in kinds})
    outputs = fit_and_output(SFNERegressor(**TINY), frame, rng.normal(size=8))
    check_outputs(outputs, 8, ())
    assert outputs is not None


def test_infinity_in_a_dataframe_is_refused():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"x": make_column("float_with_inf", 8, rng, 0.0, 1.0)})
    with pytest.raises(ValueError, match="Input X contains infinity"):
        SFNERegressor(**TINY).fit(frame, rng.normal(size=8))
