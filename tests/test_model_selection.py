"""GridSearchCV over SFNE parameters, serial and in worker processes."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from _frames import FAST, regression_data
from sfne_sklearn import SFNERegressor


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_grid_search_over_hidden_dim(n_jobs):
    X, y = regression_data(n_samples=90)
    params = {**FAST, "epochs": 10}
    search = GridSearchCV(
        SFNERegressor(**params, random_state=0), {"hidden_dim": [8, 16]}, cv=2, n_jobs=n_jobs
    )
    search.fit(X, y)
    assert search.best_params_["hidden_dim"] in (8, 16)
    assert set(search.cv_results_["param_hidden_dim"]) == {8, 16}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.model_.hidden_dim == search.best_params_["hidden_dim"]


def test_grid_search_inside_a_pipeline():
    X, y = regression_data(n_samples=90)
    pipe = Pipeline([("scale", StandardScaler()), ("sfne", SFNERegressor(**FAST, random_state=0))])
    grid = {"sfne__hidden_dim": [8, 12], "sfne__optimizer__learning_rate": [1e-3, 1e-2]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_.named_steps["sfne"]
    assert best.optimizer__learning_rate == search.best_params_["sfne__optimizer__learning_rate"]
