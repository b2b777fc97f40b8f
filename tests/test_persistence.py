"""pickle, deepcopy and joblib round trips of fitted estimators."""

import copy
import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

from _frames import FAST, mixed_frame, regression_data
from sfne_sklearn import SFNEClassifier, SFNERegressor, SFNETransformer


def test_pickle_and_deepcopy_predict_the_same():
    X, y = regression_data()
    est = SFNERegressor(**FAST, random_state=0).fit(X, y)
    expected = est.predict(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).predict(X), expected)
    np.testing.assert_array_equal(copy.deepcopy(est).predict(X), expected)
    # Pickling leaves the original usable.
    np.testing.assert_array_equal(est.predict(X), expected)


def test_joblib_pipeline_round_trip_in_a_fresh_process(tmp_path):
    frame, y = mixed_frame()
    pipe = Pipeline(
        [("sfne", SFNETransformer(output_dim=8, **FAST, random_state=0)), ("ridge", Ridge())]
    ).fit(frame, y)
    reg = SFNERegressor(**FAST, random_state=0).fit(frame, y)
    clf = SFNEClassifier(**FAST, random_state=0).fit(frame, np.where(y > 2, "high", "low"))
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    joblib.dump(reg, tmp_path / "reg.joblib")
    joblib.dump(clf, tmp_path / "clf.joblib")
    frame.to_pickle(tmp_path / "frame.pkl")
    np.save(tmp_path / "expected_pipe.npy", pipe.predict(frame))
    np.save(tmp_path / "expected_reg.npy", reg.predict(frame))
    np.save(tmp_path / "expected_clf.npy", clf.predict_proba(frame))
    script = textwrap.dedent(
        """
        import sys, joblib, numpy as np, pandas as pd
        d = sys.argv[1]
        frame = pd.read_pickle(d + "/frame.pkl")
        for name in ("pipe", "reg", "clf"):
            model = joblib.load(d + f"/{name}.joblib")
            out = model.predict_proba(frame) if name == "clf" else model.predict(frame)
            np.testing.assert_array_equal(out, np.load(d + f"/expected_{name}.npy"))
        print("round trip ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "round trip ok" in done.stdout
