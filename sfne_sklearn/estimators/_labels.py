"""Class labels: from ``y`` to network targets, and from logits back.

The network always outputs logits, one per column of the target it learns:

- binary: one logit, the class ``classes[1]`` against ``classes[0]``
  (sigmoid cross-entropy);
- multiclass: one logit per class (softmax cross-entropy);
- multilabel (a 2-D 0/1 ``y``): one logit per label (sigmoid cross-entropy
  per label, averaged).
"""

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array

#: The loss each kind of target is trained with, on logits; see
#: ``_training.make_loss``.
LOSSES = {
    "binary": "sigmoid_cross_entropy",
    "multiclass": "softmax_cross_entropy",
    "multilabel-indicator": "sigmoid_cross_entropy",
}


class EncodedLabels(NamedTuple):
    classes: np.ndarray
    kind: str
    target: np.ndarray  # float, (n_samples, n_outputs)
    codes: np.ndarray  # class index per row (None for multilabel)
    label_dtype: np.dtype


def _label_array(y):
    """``y`` as a NumPy array of labels, keeping the labels' own type.

    pandas nullable and categorical columns become the plain NumPy values
    they hold (``Int64`` -> int64, ``boolean`` -> bool, a categorical ->
    its categories' values), so that ``predict`` returns the same kind of
    labels; missing labels are an error.
    """
    if isinstance(y, (pd.Series, pd.DataFrame)):
        if y.isna().to_numpy().any():
            raise ValueError("y contains missing labels (NaN, None or pd.NA); drop those rows.")
        if isinstance(y, pd.Series):
            dtype = y.dtype
            if isinstance(dtype, pd.CategoricalDtype):
                return np.asarray(y.astype(dtype.categories.dtype).to_numpy())
            numpy_dtype = getattr(dtype, "numpy_dtype", None)
            return y.to_numpy(dtype=numpy_dtype)
        return check_array(y, ensure_2d=False, dtype=None, input_name="y")
    return check_array(y, ensure_2d=False, dtype=None, input_name="y")


def encode_labels(y, *, estimator):
    """Check classification labels ``y`` and turn them into network targets.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_labels)
        Class labels, or a 0/1 indicator matrix (multilabel).
    estimator : str
        Name used in error messages.
    """
    y = _label_array(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change "
            "the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y.ravel()
    if y.ndim > 2:
        raise ValueError(f"y must be 1-D or 2-D, got an array of shape {y.shape}.")
    check_classification_targets(y)
    kind = type_of_target(y, input_name="y")
    if kind == "multilabel-indicator":
        target = np.asarray(y, dtype=np.float64)
        return EncodedLabels(np.arange(y.shape[1]), kind, target, None, y.dtype)
    if kind not in ("binary", "multiclass"):
        raise ValueError(
            f"{estimator} supports binary, multiclass and multilabel (2-D 0/1) targets; "
            f"got a {kind} y."
        )
    classes, codes = np.unique(y, return_inverse=True)
    codes = codes.ravel()
    if len(classes) < 2:
        raise ValueError(
            f"{estimator} needs at least 2 classes in y; y has one class: "
            f"{classes.tolist()[0]!r}."
        )
    if len(classes) == 2:
        kind = "binary"
        target = codes.astype(np.float64).reshape(-1, 1)
    else:
        kind = "multiclass"
        target = np.eye(len(classes))[codes]
    return EncodedLabels(classes, kind, target, codes, y.dtype)


def encode_with_classes(y, classes, *, estimator):
    """Encode a chunk of labels ``y`` against ``classes`` known in advance.

    For ``partial_fit``: a chunk may lack some of the classes, so they are
    given (sorted, as ``np.unique`` sorts them) instead of read from ``y``.
    Binary and multiclass targets only.
    """
    y = _label_array(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"{estimator}.partial_fit takes 1-D class labels; got y of shape {y.shape}. "
            "Fit multilabel targets with fit()."
        )
    classes = np.unique(np.asarray(classes))
    if len(classes) < 2:
        raise ValueError(
            f"{estimator}.partial_fit needs at least 2 classes; got classes={classes.tolist()}."
        )
    codes = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
    unknown = classes[codes] != y
    if np.any(unknown):
        raise ValueError(
            f"y holds labels that are not in classes: {np.unique(y[unknown]).tolist()[:5]}; "
            f"classes={classes.tolist()}. Pass every label in classes on the first "
            "partial_fit call."
        )
    if len(classes) == 2:
        kind, target = "binary", codes.astype(np.float64).reshape(-1, 1)
    else:
        kind, target = "multiclass", np.eye(len(classes))[codes]
    return EncodedLabels(classes, kind, target, codes, y.dtype)


def class_weights(class_weight, encoded, sample_weight, *, estimator):
    """Row weights for ``class_weight``, times ``sample_weight``.

    ``"balanced"`` weighs each class by ``total / (n_classes * class total)``
    where the totals are weighted by ``sample_weight``, so that a weight of
    k still counts as k copies of a row.
    """
    if class_weight is None:
        return sample_weight
    if encoded.kind == "multilabel-indicator":
        raise ValueError(
            f"{estimator} does not support class_weight with a multilabel y; pass "
            "sample_weight instead."
        )
    n_classes = len(encoded.classes)
    rows = np.ones(len(encoded.codes)) if sample_weight is None else sample_weight
    if isinstance(class_weight, str):  # "balanced"
        totals = np.bincount(encoded.codes, weights=rows, minlength=n_classes)
        with np.errstate(divide="ignore"):
            per_class = np.where(totals > 0, rows.sum() / (n_classes * totals), 0.0)
    else:
        known = set(encoded.classes.tolist())
        unknown = [label for label in class_weight if label not in known]
        if unknown:
            raise ValueError(
                f"class_weight has labels that are not classes of y: {unknown}; the "
                f"classes are {encoded.classes.tolist()}."
            )
        per_class = np.array([float(class_weight.get(c, 1.0)) for c in encoded.classes.tolist()])
        if np.any(per_class < 0) or not np.all(np.isfinite(per_class)):
            raise ValueError(f"class_weight must be finite and non-negative; got {class_weight}.")
    return rows * per_class[encoded.codes]


def probabilities(logits, kind):
    """Class probabilities from the network's logits."""
    if kind == "binary":
        z = logits[:, 0]
        return np.column_stack([expit(-z), expit(z)])
    if kind == "multiclass":
        return softmax(logits, axis=1)
    return expit(logits)


def log_probabilities(logits, kind):
    """Logarithms of :func:`probabilities`, computed without underflow."""
    if kind == "binary":
        z = logits[:, 0]
        return np.column_stack([log_expit(-z), log_expit(z)])
    if kind == "multiclass":
        return log_softmax(logits, axis=1)
    return log_expit(logits)


def labels(logits, kind, classes, label_dtype):
    """Predicted labels: the most probable class, or each label above 1/2."""
    if kind == "binary":
        return classes[(logits[:, 0] > 0).astype(int)]
    if kind == "multiclass":
        return classes[np.argmax(logits, axis=1)]
    return (logits > 0).astype(label_dtype)


def cross_entropy(logits, target, kind, sample_weight=None):
    """Mean cross-entropy of ``logits`` against the network's ``target``.

    ``target`` as the network learns it: a 0/1 column (binary), one-hot rows
    (multiclass) or a 0/1 matrix (multilabel, the labels' losses averaged).
    """
    log_p = log_softmax(logits, axis=1) if kind == "multiclass" else None
    if log_p is not None:
        losses = -np.sum(target * log_p, axis=1)
    else:
        losses = -np.mean(target * log_expit(logits) + (1 - target) * log_expit(-logits), axis=1)
    return float(np.average(losses, weights=sample_weight))


def fit_temperature(logits, target, kind, sample_weight=None):
    """The temperature T that minimises the cross-entropy of ``logits / T``.

    Temperature scaling (Guo et al., 2017, "On Calibration of Modern Neural
    Networks"): one number, so the ranking of the rows and the predicted
    classes stay as they are. Searched over T in [1, 20]: it only softens.
    On rows that are all classified right the loss keeps falling as T
    shrinks, and a few held-out rows often are (a sharpened model then
    met a test error of penguins with a log loss of 0.6).
    """
    from scipy.optimize import minimize_scalar

    def loss(log_t):
        return cross_entropy(logits / np.exp(log_t), target, kind, sample_weight)

    result = minimize_scalar(loss, bounds=(0.0, np.log(20.0)), method="bounded",
                             options={"xatol": 1e-4})
    # The search stops near a bound, not on it: T = 1 unless a larger T does better.
    return float(np.exp(result.x)) if result.fun < loss(0.0) else 1.0
