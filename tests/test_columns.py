"""The "auto" preprocessor's numeric steps, applied in NumPy at predict time."""

import warnings

import numpy as np
import pandas as pd
import pytest

from _frames import QUICK, mixed_frame
from sfne_sklearn import SFNERegressor
from sfne_sklearn.preprocessing._columns import FrameSteps, NumericSteps, fit_preprocessor


def numeric_array(dtype):
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [
            rng.normal(size=200),
            np.exp(2 * rng.normal(size=200)),  # skewed: log-transformed
            rng.normal(size=200),
            np.full(200, np.nan),  # no observed value: dropped
        ]
    ).astype(dtype)
    X[::5, 0] = np.nan
    X[::7, 1] = np.nan
    return X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numeric_steps_equal_the_fitted_pipeline(dtype):
    X = numeric_array(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the all-NaN column
        fitted, _ = fit_preprocessor("auto", X[:150])
        expected = fitted.transform(X[150:])
    steps = NumericSteps.of(fitted)
    assert steps.log_columns.size and steps.indicator.size and len(steps.kept) == 3
    got = steps(X[150:])
    assert got.dtype == expected.dtype
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)
    # Negative values at predict time are clipped before the log, as LogSkewed does.
    negative = X[150:].copy()
    negative[:, 1] = -1.0
    np.testing.assert_allclose(steps(negative), fitted.transform(negative), atol=tolerance)


def test_dataframes_keep_the_column_transformer():
    frame = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0], "b": ["x", "y", "x", None]})
    fitted, _ = fit_preprocessor("auto", frame)
    assert NumericSteps.of(fitted) is None


def test_estimators_predict_arrays_through_the_numeric_steps():
    X = numeric_array(np.float64)[:, :3]
    y = np.nan_to_num(X[:, 0]) + np.log1p(np.nan_to_num(X[:, 1]))
    est = SFNERegressor(**QUICK, random_state=0).fit(X, y)
    assert est._numeric_steps is not None
    through_pipeline = est._forward(est.preprocessor_.transform(X))[:, 0]
    np.testing.assert_allclose(
        est.predict(X), through_pipeline * est._y_scale[0] + est._y_mean[0], rtol=1e-12
    )


@pytest.mark.parametrize("numbers", ["mixed", "float32"])
def test_frame_steps_equal_the_column_transformer(numbers):
    frame, _ = mixed_frame()
    if numbers == "float32":
        frame = frame.assign(num=frame["num"].astype(np.float32), count=np.float32(2.5),
                             ratio=frame["ratio"].astype("float32"))
    fitted, _ = fit_preprocessor("auto", frame.iloc[:100])
    steps = FrameSteps.of(fitted)
    for rows in (frame.iloc[100:], frame.iloc[100:101]):
        expected = fitted.transform(rows)
        got = steps(rows)
        assert got.dtype == expected.dtype
        # float32 numbers: float32 rounding, as NumericSteps on arrays.
        tolerance = 0 if numbers == "mixed" else 1e-6
        np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)
    infinite = frame.iloc[100:].assign(num=np.inf)
    with pytest.raises(ValueError, match="infinity"):
        fitted.transform(infinite)
    with pytest.raises(ValueError, match="infinity"):
        steps(infinite)


def test_estimators_predict_frames_through_the_frame_steps():
    frame, y = mixed_frame()
    est = SFNERegressor(**QUICK, random_state=0).fit(frame, y)
    assert est._frame_steps is not None and est._numeric_steps is None
    through_pipeline = est._forward(est.preprocessor_.transform(frame))[:, 0]
    np.testing.assert_allclose(
        est.predict(frame), through_pipeline * est._y_scale[0] + est._y_mean[0], rtol=1e-12
    )
    numbers = SFNERegressor(**QUICK, random_state=0).fit(frame[["num"]].to_numpy(), y)
    assert numbers._frame_steps is None
