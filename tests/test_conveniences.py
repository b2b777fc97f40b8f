"""What a new user meets first: progress output, reprs, warnings, import noise."""

import os
import re
import subprocess
import sys
import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

from _frames import FAST, QUICK, regression_data
from sfne_sklearn import SFNERegressor, SFNETransformer



@pytest.mark.parametrize("Estimator", [SFNERegressor, SFNETransformer])
def test_verbose_0_is_silent(Estimator, capfd):
    X, y = regression_data(n_samples=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Estimator(**QUICK, verbose=0, random_state=0).fit(X, y)
        if hasattr(est, "predict"):
            est.predict(X)
        else:
            est.transform(X)
    out, err = capfd.readouterr()
    assert out == ""
    assert "Epoch" not in err


def test_verbose_1_shows_one_progress_bar_for_the_whole_fit(capfd):
    X, y = regression_data(n_samples=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        SFNERegressor(**QUICK, batch_size=20, verbose=1, random_state=0).fit(X, y)
    out, _ = capfd.readouterr()
    # One bar over the epochs (not Keras's bar of steps in each epoch).
    assert "Epoch 1/" not in out and "step" not in out
    assert "SFNERegressor: training for at most 5 epochs" in out
    assert "5/5" in out and "epoch" in out and "loss:" in out
    assert "SFNERegressor: stopped after 5 epochs" in out


def test_verbose_2_prints_one_line_per_epoch(capfd):
    X, y = regression_data(n_samples=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        SFNERegressor(**QUICK, early_stopping=True, verbose=2, random_state=0).fit(X, y)
    out, _ = capfd.readouterr()
    # verbose=2 gives one line per epoch, with the training and validation loss.
    epoch_lines = [
        line for line in out.splitlines() if re.match(r"Epoch \d+/5 - loss: \S+ - val_loss: \S+$", line)
    ]
    assert len(epoch_lines) == 5


@pytest.mark.parametrize("Estimator", [SFNERegressor, SFNETransformer])
def test_html_repr_shows_the_parameters(Estimator):
    est = Estimator(hidden_dim=48, epochs=7, early_stopping=True)
    html = est._repr_html_()
    assert Estimator.__name__ in html
    for name, value in (("hidden_dim", "48"), ("epochs", "7"), ("early_stopping", "True")):
        assert name in html
        assert value in html
    # The plain repr lists the changed parameters only, as scikit-learn's do.
    assert repr(est) == f"{Estimator.__name__}(early_stopping=True, epochs=7, hidden_dim=48)"


def test_convergence_warning_when_stopped_at_epochs_while_improving():
    X, y = regression_data(n_samples=60)
    with pytest.warns(ConvergenceWarning, match="epochs=5 while the loss was still improving"):
        est = SFNERegressor(**QUICK, random_state=0).fit(X, y)
    assert est.n_iter_ == 5


def test_convergence_warning_names_the_validation_loss_with_early_stopping():
    X, y = regression_data(n_samples=60)
    with pytest.warns(ConvergenceWarning, match="val_loss was still improving"):
        SFNETransformer(**QUICK, early_stopping=True, random_state=0).fit(X, y)


def test_no_convergence_warning_when_training_stopped_by_itself():
    X, y = regression_data(n_samples=60)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        # Any improvement under tol=10 counts as none: stops after 2 epochs.
        est = SFNERegressor(**FAST, tol=10.0, n_iter_no_change=1, random_state=0).fit(X, y)
    assert est.n_iter_ < FAST["epochs"]


# TensorFlow >= 2.20 logs a few notices through absl before absl's logging is
# initialised (the oneDNN and CUDA-driver notices); those ignore
# TF_CPP_MIN_LOG_LEVEL and cannot be silenced from Python before import.
_ABSL_PREINIT_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} [\d:.]+ +\d+ (port|cudart_stub|cuda_platform|cuda_executor)\.cc:\d+\] .*)$"
)


def _import_in_fresh_process():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [sys.executable, "-c", "import sfne_sklearn"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def fresh_import():
    return _import_in_fresh_process()


@pytest.mark.slow
def test_import_silences_tensorflow_info_and_warnings(fresh_import):
    """With TF_CPP_MIN_LOG_LEVEL unset, importing sfne_sklearn sets it to 3."""
    assert fresh_import.returncode == 0, fresh_import.stderr[-3000:]
    assert fresh_import.stdout == ""
    # Everything TensorFlow logs once its logging is set up is filtered
    # (without the default, e.g. the cpu_feature_guard notice appears).
    others = [
        line for line in fresh_import.stderr.splitlines() if not _ABSL_PREINIT_NOISE.match(line)
    ]
    assert others == [], fresh_import.stderr[-3000:]


@pytest.mark.slow
def test_import_prints_nothing(fresh_import):
    if fresh_import.stderr and all(
        _ABSL_PREINIT_NOISE.match(line) for line in fresh_import.stderr.splitlines()
    ):
        pytest.xfail(
            "TensorFlow's pre-initialisation absl notices reach stderr whatever "
            "TF_CPP_MIN_LOG_LEVEL says (tensorflow/tensorflow#102212)"
        )
    assert fresh_import.stdout == ""
    assert fresh_import.stderr == ""


@pytest.mark.slow
def test_fit_and_predict_print_no_error_lines():
    """No E-level TensorFlow lines in a normal run (cuInit on GPU-less machines)."""
    script = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "import numpy as np, sfne_sklearn\n"
        "X = np.random.RandomState(0).normal(size=(60, 3))\n"
        "for est in (sfne_sklearn.SFNERegressor(epochs=2), sfne_sklearn.SFNEClassifier(epochs=2)):\n"
        "    est.fit(X, X[:, 0] > 0).predict(X[:1])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == ""
    errors = [line for line in done.stderr.splitlines() if re.match(r"^[EF]\d{4} ", line)]
    assert errors == [], done.stderr[-3000:]
    # What is left are TensorFlow's pre-initialisation notices, at import.
    others = [line for line in done.stderr.splitlines() if not _ABSL_PREINIT_NOISE.match(line)]
    assert others == [], done.stderr[-3000:]
