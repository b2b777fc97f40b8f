"""Dask collections as data: lazy predictions, partial_fit, out-of-core fits.

Runs on dask's synchronous scheduler, in this process (no cluster).
"""

import numpy as np
import pandas as pd
import pytest

from _frames import QUICK, TINY, mixed_frame, regression_data
from sfne_sklearn import SFNEClassifier, SFNERegressor, SFNETransformer

dd = pytest.importorskip("dask.dataframe")
da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def counted_frame(frame, npartitions, calls):
    """``frame`` as a dask DataFrame whose partitions record when they are read."""
    bounds = np.linspace(0, len(frame), npartitions + 1).astype(int)

    def load(i):
        calls.append(i)
        return frame.iloc[bounds[i] : bounds[i + 1]]

    return dd.from_map(load, list(range(npartitions)), meta=frame.iloc[:0], divisions=None)


def test_predict_on_a_dask_frame_is_lazy_and_equals_in_memory(frame_data, frame_model):
    X, _ = frame_data
    calls = []
    ddf = counted_frame(X, 3, calls)
    lazy = frame_model.predict(ddf)
    assert calls == []  # nothing read until asked
    assert type(lazy).__module__.startswith("dask")
    assert lazy.npartitions == 3
    result = lazy.compute()
    assert sorted(calls) == [0, 1, 2]
    assert isinstance(result, pd.Series)
    pd.testing.assert_index_equal(result.index, X.index)
    np.testing.assert_allclose(result.to_numpy(), frame_model.predict(X), rtol=1e-12)


def test_predict_on_a_dask_array_keeps_row_chunks(numpy_data, numpy_model):
    X, _ = numpy_data
    lazy = numpy_model.predict(da.from_array(X, chunks=(15, 2)))
    assert lazy.chunks == ((15, 15, 10),)
    np.testing.assert_allclose(lazy.compute(), numpy_model.predict(X), rtol=1e-12)


def test_classifier_and_transformer_methods_on_dask():
    X, y = regression_data(n_samples=60)
    labels = np.where(y > 0, "up", "down")
    clf = SFNEClassifier(**TINY).fit(X, labels)
    dX = da.from_array(X, chunks=(25, 4))
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        expected = getattr(clf, method)(X)
        got = getattr(clf, method)(dX)
        assert got.dtype == expected.dtype, method
        np.testing.assert_array_equal(got.compute(), expected)
    frame = pd.DataFrame(X, columns=list("abcd"))
    proba = clf.fit(frame, labels).predict_proba(dd.from_pandas(frame, npartitions=2))
    assert list(proba.columns) == [0, 1]
    np.testing.assert_allclose(proba.compute().to_numpy(), clf.predict_proba(frame))

    tr = SFNETransformer(**{**TINY, "output_dim": 3}).fit(X, y)
    np.testing.assert_allclose(tr.transform(dX).compute(), tr.transform(X))


def test_dask_inputs_are_checked():
    X, y = regression_data(n_samples=40)
    reg = SFNERegressor(**TINY)
    with pytest.raises(Exception, match="not fitted"):
        reg.predict(da.from_array(X))
    reg.fit(X, y)
    with pytest.raises(ValueError, match="2-D dask Array.*ndim=1"):
        reg.predict(da.from_array(X[:, 0]))
    with pytest.raises(ValueError, match="features"):
        reg.predict(da.from_array(X[:, :3])).compute()
