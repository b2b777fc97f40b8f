"""Fit estimators in the full install for tests_serve (run: python fit_models.py DIR)."""

import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

from sfne_sklearn import SFNEClassifier, SFNERegressor, SFNETransformer

def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n = 120
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "skewed": rng.lognormal(size=n),
            "colour": pd.Series(rng.choice(["red", "green", None], size=n), dtype=object),
        }
    )
    X.loc[3, "a"] = np.nan
    y = 2 * X["a"].fillna(0) + X["skewed"]
    small = dict(hidden_dim=8, num_layers=1, slow_network_units=8, epochs=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = {
            "regressor": SFNERegressor(**small).fit(X, y),
            "classifier": SFNEClassifier(**small).fit(X, np.where(y > y.median(), "high", "low")),
            "pipeline": Pipeline(
                [("sfne", SFNETransformer(output_dim=3, **small)), ("ridge", Ridge())]
            ).fit(X, y),
        }
    expected = {}
    for name, model in models.items():
        joblib.dump(model, out / f"{name}.joblib")
        expected[name] = model.predict_proba(X) if name == "classifier" else model.predict(X)
    X.to_csv(out / "X.csv", index=False)
    np.savez(out / "expected.npz", **expected)


if __name__ == "__main__":
    main(sys.argv[1])
