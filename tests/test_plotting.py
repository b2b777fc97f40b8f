"""sfne_sklearn.plotting, drawn with matplotlib's Agg backend."""

import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from _frames import FAST, regression_data  # noqa: E402
from sfne_sklearn import SFNEBlock, SFNEClassifier, SFNERegressor  # noqa: E402
from sfne_sklearn.plotting import plot_history  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labels(ax):
    return [line.get_label() for line in ax.get_lines()]


def test_plots_a_history_dict_on_a_new_axes():
    history = {"loss": [1.0, 0.5, 0.25], "val_loss": [1.2, 0.7, 0.6]}
    ax = plot_history(history)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert _labels(ax) == ["loss", "val_loss"]
    x, y = ax.get_lines()[0].get_data()
    np.testing.assert_array_equal(x, [1, 2, 3])  # epochs count from 1
    np.testing.assert_array_equal(y, history["loss"])
    assert ax.get_xlabel() == "epoch"
    assert ax.get_title() == ""


def test_draws_on_the_given_axes_and_selects_keys():
    fig, (left, right) = plt.subplots(1, 2)
    ax = plot_history({"loss": [3, 2], "val_loss": [4, 3]}, ax=right, keys=["val_loss"])
    assert ax is right
    assert _labels(right) == ["val_loss"]
    assert left.get_lines() == []


def test_fitted_estimator_with_early_stopping_marks_the_best_epoch():
    X, y = regression_data(n_samples=60)
    params = {**FAST, "epochs": 100, "n_iter_no_change": 3}
    est = SFNERegressor(**params, early_stopping=True, random_state=0).fit(X, y)
    ax = plot_history(est, log_scale=True, title="my model")
    assert _labels(ax) == ["loss", "val_loss", f"best epoch ({est.best_epoch_})"]
    assert ax.get_lines()[2].get_xdata()[0] == est.best_epoch_
    assert len(ax.get_lines()[0].get_xdata()) == est.n_iter_
    assert ax.get_yscale() == "log"
    assert ax.get_title() == "my model"
    assert ax.get_ylabel() == "loss (on the standardised target)"
    # The learning rate of the schedule is recorded, and plotted on request only.
    assert "learning_rate" in est.history_
    assert _labels(plot_history(est, keys="learning_rate"))[0] == "learning_rate"


def test_classifier_loss_is_labelled_cross_entropy():
    X, y = regression_data(n_samples=60)
    clf = SFNEClassifier(**{**FAST, "epochs": 3}, random_state=0).fit(X, y > 0)
    assert plot_history(clf).get_ylabel() == "loss (cross-entropy)"
    assert plot_history({"loss": [1.0]}).get_ylabel() == "loss"


def test_keras_history_of_the_block():
    X = np.random.RandomState(0).normal(size=(32, 4)).astype("float32")
    block = SFNEBlock(input_dim=4, output_dim=1, hidden_dim=8, slow_network_units=8)
    block.compile(optimizer="adam", loss="mse")
    history = block.fit(X, X[:, :1], epochs=2, verbose=0)
    ax = plot_history(history)
    assert _labels(ax) == ["loss"]
    assert len(ax.get_lines()[0].get_xdata()) == 2


def test_figure_saves_as_png(tmp_path):
    ax = plot_history({"loss": [1.0, 0.5]})
    path = tmp_path / "curve.png"
    ax.figure.savefig(path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_unfitted_estimator_raises_not_fitted():
    with pytest.raises(NotFittedError, match="fit it first"):
        plot_history(SFNERegressor())


def test_unknown_object_raises_type_error():
    with pytest.raises(TypeError, match="fitted SFNERegressor or SFNETransformer"):
        plot_history([1.0, 0.5])


def test_unknown_key_and_empty_history_raise_value_error():
    with pytest.raises(ValueError, match="no metric 'val_loss'"):
        plot_history({"loss": [1.0]}, keys=["val_loss"])
    with pytest.raises(ValueError, match="empty"):
        plot_history({"loss": []})


def test_missing_matplotlib_names_the_plot_extra(monkeypatch):
    # A None entry in sys.modules makes the import fail as if not installed.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"sfne-sklearn\[plot\]"):
        plot_history({"loss": [1.0]})


def test_module_imports_without_matplotlib():
    # Keras itself imports matplotlib when it is installed, so block it.
    import subprocess

    code = (
        "import sys; sys.modules['matplotlib'] = None; sys.modules['matplotlib.pyplot'] = None; "
        "import sfne_sklearn.plotting; print('imported')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "imported"
