"""SFNETransformer: supervised and self-supervised features."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

from _frames import FAST, mixed_frame, regression_data
from sfne_sklearn import SFNEBlock, SFNETransformer


def test_supervised_features_shape_and_model():
    X, y = regression_data()
    tr = SFNETransformer(output_dim=6, **FAST, random_state=0).fit(X, y)
    Z = tr.transform(X)
    assert Z.shape == (len(X), 6) and Z.dtype == np.float64
    assert isinstance(tr.model_, SFNEBlock) and tr.model_.output_dim == 6
    np.testing.assert_allclose(tr.fit_transform(X, y), Z)


def test_self_supervised_fit_without_y_reduces_reconstruction_loss():
    X, _ = regression_data()
    tr = SFNETransformer(output_dim=3, **{**FAST, "epochs": 60}, random_state=0).fit(X)
    assert tr.transform(X).shape == (len(X), 3)
    assert tr.history_["loss"][-1] < 0.5 * tr.history_["loss"][0]


def test_float32_is_preserved():
    X, y = regression_data()
    Z = SFNETransformer(output_dim=4, **FAST, random_state=0).fit_transform(X.astype(np.float32), y)
    assert Z.dtype == np.float32


def test_feature_names_and_pandas_output():
    frame, y = mixed_frame()
    tr = SFNETransformer(output_dim=5, **FAST, random_state=0).set_output(transform="pandas")
    out = tr.fit(frame, y).transform(frame)
    names = [f"sfnetransformer{i}" for i in range(5)]
    assert list(tr.get_feature_names_out()) == names
    assert isinstance(out, pd.DataFrame) and list(out.columns) == names
    assert out.index.equals(frame.index)


def test_pipeline_with_ridge_on_a_dataframe():
    frame, y = mixed_frame(n_samples=200)
    pipe = Pipeline(
        [
            ("sfne", SFNETransformer(output_dim=32, **{**FAST, "epochs": 60}, random_state=0)),
            ("ridge", Ridge()),
        ]
    )
    pipe.fit(frame, y)
    assert pipe.predict(frame).shape == (200,)
    assert pipe.score(frame, y) > 0.5


def test_invalid_output_dim():
    X, y = regression_data(n_samples=20)
    with pytest.raises(ValueError, match="output_dim"):
        SFNETransformer(output_dim=0).fit(X, y)
