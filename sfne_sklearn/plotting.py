"""Plots of fitted SFNE estimators.

matplotlib is optional: it is imported when a plot is drawn, and installed
with the ``plot`` extra (``pip install "sfne-sklearn[plot]"``).
"""

from collections.abc import Mapping

import numpy as np
from sklearn.exceptions import NotFittedError

__all__ = ["plot_history"]


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "sfne_sklearn.plotting needs matplotlib, which is not installed. "
            'Install it with the plot extra: pip install "sfne-sklearn[plot]" '
            "(or pip install matplotlib)."
        ) from exc
    return plt


def _loss_label(obj):
    """What the estimator's loss measures, for the y axis."""
    if getattr(obj, "_label_kind", None) is not None:
        return "loss (cross-entropy)"
    if getattr(obj, "_y_scale", None) is not None:
        return "loss (on the standardised target)"
    return "loss"


def _as_history(estimator_or_history):
    """Return ``(history dict, best epoch or None, label)`` of the argument."""
    obj = estimator_or_history
    if isinstance(obj, Mapping):
        return dict(obj), None, None
    if hasattr(obj, "history_"):  # a fitted SFNERegressor / SFNETransformer
        return dict(obj.history_), getattr(obj, "best_epoch_", None), type(obj).__name__
    history = getattr(obj, "history", None)
    if isinstance(history, Mapping):  # keras.callbacks.History, from Model.fit
        return dict(history), None, None
    if hasattr(obj, "fit") and hasattr(obj, "get_params"):
        raise NotFittedError(
            f"This {type(obj).__name__} instance has no training history: fit it first, "
            "or pass the SFNE step of a pipeline (pipeline[-1] or named_steps[...])."
        )
    raise TypeError(
        "plot_history expects a fitted SFNERegressor or SFNETransformer, the History "
        "returned by keras.Model.fit, or a dict mapping metric names to per-epoch "
        f"values. Received: {type(obj).__name__}."
    )


def plot_history(estimator_or_history, ax=None, *, keys=None, log_scale=False, title=None):
    """Plot the per-epoch training curves of a fitted estimator.

    Draws one line per recorded metric (``loss``, and ``val_loss`` when the
    estimator was fitted with ``early_stopping=True``) against the epoch
    number, and marks the epoch whose weights were kept (``best_epoch_``)
    when there is one.

    Parameters
    ----------
    estimator_or_history : estimator, keras History or dict
        A fitted :class:`~sfne_sklearn.SFNERegressor` or
        :class:`~sfne_sklearn.SFNETransformer` (its ``history_`` is plotted),
        the ``History`` object returned by ``keras.Model.fit`` (for an
        :class:`~sfne_sklearn.SFNEBlock` trained in Keras), or a dict mapping
        metric names to lists of per-epoch values.
    ax : matplotlib Axes, default=None
        Axes to draw on. ``None`` draws on a new figure.
    keys : list of str, default=None
        Metrics to plot, in order. ``None`` plots every metric of the
        history but the learning rate (a schedule's ``learning_rate``, on
        another scale than the losses).
    log_scale : bool, default=False
        Use a logarithmic y axis, which shows the late, small improvements.
    title : str, default=None
        Title of the axes. ``None`` uses the estimator's class name, if any.

    Returns
    -------
    ax : matplotlib Axes
        The axes the curves were drawn on.

    Raises
    ------
    ImportError
        If matplotlib is not installed (install the ``plot`` extra).
    sklearn.exceptions.NotFittedError
        If an estimator is passed before it was fitted.
    ValueError
        If ``keys`` names a metric that the history does not have, or the
        history is empty.

    Notes
    -----
    The estimators train on a standardised target, so the regressor's
    ``loss`` is in units of the target's variance: a mean squared error of
    0.1 means the network explains about 90% of the training variance. The
    y axis says so ("on the standardised target"); a classifier's loss is
    its cross-entropy.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sfne_sklearn.plotting import plot_history
    >>> ax = plot_history({"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.6, 0.5]})
    >>> [line.get_label() for line in ax.get_lines()]
    ['loss', 'val_loss']
    """
    history, best_epoch, label = _as_history(estimator_or_history)
    if keys is None:
        keys = [key for key in history if not key.startswith("learning_rate")]
    else:
        keys = [keys] if isinstance(keys, str) else list(keys)
        missing = [key for key in keys if key not in history]
        if missing:
            raise ValueError(
                f"The history has no metric {missing[0]!r}. Available: {sorted(history)}."
            )
    if not keys or not any(len(history[key]) for key in keys):
        raise ValueError("The history is empty: there is nothing to plot.")

    plt = _import_pyplot()
    if ax is None:
        _, ax = plt.subplots()
    for key in keys:
        values = np.asarray(history[key], dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, label=key)
    if best_epoch is not None:
        ax.axvline(
            best_epoch, color="grey", linestyle="--", linewidth=1, label=f"best epoch ({best_epoch})"
        )
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(_loss_label(estimator_or_history))
    if title is not None or label is not None:
        ax.set_title(title if title is not None else f"{label} training history")
    ax.legend()
    return ax
