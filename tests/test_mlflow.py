"""MLflow's sklearn flavour saves, logs and serves the estimators.

MLflow 3 stores scikit-learn models with skops and refuses types it does
not trust; ``sfne_sklearn.TRUSTED_TYPES`` is the list to pass.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

import sfne_sklearn
from _frames import TINY, mixed_frame
from sfne_sklearn import SFNEClassifier, SFNETransformer

mlflow = pytest.importorskip("mlflow")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]


@pytest.fixture(scope="module")
def models():
    frame, y = mixed_frame(n_samples=60)
    pipe = Pipeline([("sfne", SFNETransformer(**TINY, output_dim=4)), ("ridge", Ridge())])
    clf = SFNEClassifier(**TINY)
    return frame, pipe.fit(frame, y), clf.fit(frame, np.where(y > 2, "high", "low"))


def test_default_format_needs_the_trusted_types(models, tmp_path):
    frame, pipe, _ = models
    with pytest.raises(mlflow.exceptions.MlflowException, match="untrusted types"):
        mlflow.sklearn.save_model(pipe, tmp_path / "refused")
    mlflow.sklearn.save_model(pipe, tmp_path / "saved", skops_trusted_types=sfne_sklearn.TRUSTED_TYPES)
    loaded = mlflow.sklearn.load_model(str(tmp_path / "saved"))
    np.testing.assert_array_equal(loaded.predict(frame), pipe.predict(frame))


def test_logged_models_serve_through_pyfunc_in_a_fresh_process(models, tmp_path, monkeypatch):
    frame, pipe, clf = models
    # MLflow puts logged artifacts under ./mlruns: keep them out of the checkout.
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        with mlflow.start_run():
            logged = mlflow.sklearn.log_model(
                pipe, name="pipe", skops_trusted_types=sfne_sklearn.TRUSTED_TYPES
            )
        uri = logged.model_uri
    finally:
        mlflow.set_tracking_uri(None)
    mlflow.sklearn.save_model(clf, tmp_path / "clf", skops_trusted_types=sfne_sklearn.TRUSTED_TYPES)
    frame.to_pickle(tmp_path / "frame.pkl")
    np.save(tmp_path / "pipe.npy", pipe.predict(frame))
    np.save(tmp_path / "clf.npy", clf.predict(frame))
    script = textwrap.dedent(
        f"""
        import mlflow, numpy as np, pandas as pd
        d = {str(tmp_path)!r}
        mlflow.set_tracking_uri("sqlite:///" + d + "/mlflow.db")
        frame = pd.read_pickle(d + "/frame.pkl")
        pipe = mlflow.pyfunc.load_model({uri!r})
        np.testing.assert_array_equal(pipe.predict(frame), np.load(d + "/pipe.npy"))
        clf = mlflow.pyfunc.load_model(d + "/clf")
        np.testing.assert_array_equal(clf.predict(frame), np.load(d + "/clf.npy", allow_pickle=True))
        print("served ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "served ok" in done.stdout
