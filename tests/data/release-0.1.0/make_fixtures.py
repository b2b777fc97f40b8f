"""Write fitted estimators with the current release, for load tests of later ones.

Run with 0.1.0 installed: python make_fixtures.py DIR
"""

import sys

import joblib
import numpy as np
import pandas as pd

import sfne_sklearn
from sfne_sklearn import SFNEClassifier, SFNERegressor, SFNETransformer


def main(out):
    rng = np.random.default_rng(0)
    n = 60
    X = pd.DataFrame({
        "a": rng.normal(size=n),
        "skewed": rng.lognormal(size=n),
        "colour": pd.Series(rng.choice(["red", "green", None], size=n), dtype=object),
    })
    X.loc[3, "a"] = np.nan
    y = 2 * X["a"].fillna(0) + X["skewed"]
    labels = np.where(y > y.median(), "high", "low")
    small = dict(hidden_dim=8, num_layers=1, slow_network_units=8, epochs=3, random_state=0)
    models = {
        "regressor": SFNERegressor(**small).fit(X, y),
        "classifier": SFNEClassifier(**small).fit(X, labels),
        "transformer": SFNETransformer(output_dim=3, **small).fit(X, y),
    }
    expected = {}
    for name, est in models.items():
        joblib.dump(est, f"{out}/{name}.joblib")
        sfne_sklearn.save(est, f"{out}/{name}.sfne")
        if name == "transformer":
            expected[name] = est.transform(X)
        elif name == "classifier":
            expected[name] = est.predict_proba(X)
        else:
            expected[name] = est.predict(X)
    X.to_pickle(f"{out}/X.pkl")  # pandas' pickle: the frame with its dtypes
    np.savez(f"{out}/expected.npz", **expected)
    print(sfne_sklearn.__version__, {k: v.shape for k, v in expected.items()})


if __name__ == "__main__":
    main(sys.argv[1])
