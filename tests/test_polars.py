"""polars frames give what the equivalent pandas frame gives."""

import numpy as np
import pandas as pd
import pytest

from _frames import QUICK, mixed_frame
from sfne_sklearn import SFNEClassifier, SFNERegressor, SFNETransformer

pl = pytest.importorskip("polars")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

QUICK = {**QUICK, "random_state": 0}


@pytest.fixture(scope="module")
def frames():
    frame, y = mixed_frame(n_samples=80)
    polars_frame = pl.from_pandas(frame).with_columns(
        # An Enum column too: polars's fixed-category type.
        pl.Series("size", np.array(["S", "M", "L"])[np.arange(80) % 3], dtype=pl.Enum(["S", "M", "L"]))
    )
    frame["size"] = pd.Categorical(np.array(["S", "M", "L"])[np.arange(80) % 3], ["S", "M", "L"])
    return frame, polars_frame, y


def test_polars_schema_covers_every_column_kind(frames):
    _, polars_frame, _ = frames
    kinds = {dtype.__class__.__name__ for dtype in polars_frame.schema.values()}
    assert {"Float64", "Int64", "Categorical", "Enum", "String", "Boolean"} <= kinds
    assert polars_frame.null_count().sum_horizontal().item() > 0


@pytest.mark.parametrize("make", [SFNERegressor, SFNEClassifier], ids=["regressor", "classifier"])
def test_polars_and_pandas_frames_give_the_same_predictions(frames, make):
    frame, polars_frame, y = frames
    if make is SFNEClassifier:
        y = np.where(y > np.median(y), "high", "low")
    on_pandas = make(**QUICK).fit(frame, y)
    on_polars = make(**QUICK).fit(polars_frame, y)
    assert list(on_polars.feature_names_in_) == list(frame.columns)
    method = "predict_proba" if make is SFNEClassifier else "predict"
    expected = getattr(on_pandas, method)(frame)
    np.testing.assert_allclose(getattr(on_polars, method)(polars_frame), expected, rtol=1e-12)
    # Either kind of frame at predict time, whichever the model was fitted on.
    np.testing.assert_allclose(getattr(on_pandas, method)(polars_frame), expected, rtol=1e-12)
    np.testing.assert_allclose(getattr(on_polars, method)(frame), expected, rtol=1e-12)


def test_transformer_outputs_polars_when_asked(frames):
    frame, polars_frame, y = frames
    sfne = SFNETransformer(**QUICK, output_dim=4).set_output(transform="polars")
    out = sfne.fit_transform(polars_frame, y)
    assert isinstance(out, pl.DataFrame)
    assert out.columns == [f"sfnetransformer{i}" for i in range(4)]
    np.testing.assert_allclose(
        out.to_numpy(), SFNETransformer(**QUICK, output_dim=4).fit(frame, y).transform(frame)
    )


def test_errors_name_the_type_that_was_passed(frames):
    _, polars_frame, y = frames
    reg = SFNERegressor(**QUICK).fit(polars_frame, y)
    with pytest.raises(ValueError, match=r"fitted on a DataFrame.*not a numpy.ndarray"):
        reg.predict(polars_frame.select(pl.col(pl.Float64)).to_numpy())
    with pytest.raises(ValueError, match="missing"):
        reg.predict(polars_frame.drop("num"))


def test_missing_pyarrow_is_named(frames, monkeypatch):
    _, polars_frame, y = frames

    def no_pyarrow(*args, **kwargs):
        raise ImportError("Missing optional dependency 'pyarrow'.")

    monkeypatch.setattr(pd.DataFrame, "from_arrow", no_pyarrow, raising=False)
    monkeypatch.setattr(pd.api.interchange, "from_dataframe", no_pyarrow)
    with pytest.raises(ImportError, match=r"pyarrow to read a polars.DataFrame"):
        SFNERegressor(**QUICK).fit(polars_frame, y)
