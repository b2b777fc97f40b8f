"""SFNEClassifier: the SFNEBlock as a scikit-learn classifier."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
)

from . import _labels
from ._base import BaseSFNE
from ._dask import is_dask_collection, lazy_on_dask
from ._incremental import partial_fit_network, started
from ._out_of_core import fit_out_of_core


class SFNEClassifier(ClassifierMixin, BaseSFNE):
    """Slow-Fast Neural Engine classifier for tabular data.

    Fits an :class:`~sfne_sklearn.SFNEBlock` whose outputs are the logits of
    the classes, trained with cross-entropy through scikeras: one sigmoid
    output for two classes, a softmax over the classes for more, and one
    sigmoid output per label for a multilabel (2-D 0/1) ``y``. DataFrames
    are turned into features as in :class:`SFNERegressor`.

    Parameters
    ----------
    hidden_dim : int, default=64
        Width of the block's hidden representation.
    num_layers : int, default=2
        Number of residual hidden dense layers of the block.
    slow_network_layers : int, default=3
        Number of layers of the slow network that generates hyper-kernels.
    slow_network_units : int, default=128
        Width of the slow network's layers.
    spline_knots : "auto", int or None, default="auto"
        Knots of the cubic B-spline encoding of each feature with more than
        two values; see :class:`SFNERegressor`. ``"auto"``: 8 knots below
        400 training rows, 12 from 400 on. None: the features alone.
    n_members : "auto" or int, default="auto"
        Members of an ensemble that shares the block's weights (TabM-mini,
        Gorishniy et al., 2024): each member scales the block's inputs by
        its own trained vector and has its own output projection; the
        logits are the mean of the members'. Each member learns from its own
        loss. Rows go through the shared layers once per member: a fit costs
        up to ``n_members`` times the arithmetic, but no more steps.
        ``"auto"``: 8 members up to 8,192 training rows, then fewer, so that
        an epoch passes at most 65,536 rows times members (one member from
        32,769 rows on; one in ``partial_fit``, which does not know the
        total rows).
    dropout : float or "auto", default=0.0
        Dropout rate on the block's residual branches while training; see
        :class:`SFNERegressor` (``"auto"`` as there). None by default: on
        the classification sets, cross-validated on 360-row folds, dropout
        0.2 lowered the log loss on two sets of five and raised it on three.
    preprocessor : "auto", transformer or None, default="auto"
        How ``X`` becomes numeric features; see :class:`SFNERegressor`.
    optimizer : str or keras optimizer class, default="adam"
        Keras optimizer, by name or class; a fresh one is made for each fit.
    optimizer__learning_rate : float, default=3e-3
        Learning rate given to ``optimizer``; with ``batch_size="auto"``,
        that of a 200-row step (see ``batch_size``).
    learning_rate_schedule : {"plateau", "constant"}, default="plateau"
        As for :class:`SFNERegressor`.
    loss : "auto" or keras loss, default="auto"
        ``"auto"``: sigmoid cross-entropy for two classes and for multilabel
        targets, softmax cross-entropy for more classes. A Keras loss given
        instead receives the network's logits (``from_logits=True``) and the
        targets as a 0/1 column (binary) or one-hot rows (multiclass).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``. A dict
        maps labels to weights (missing labels weigh 1). ``"balanced"``
        weighs each class by ``n_samples / (n_classes * n_samples_in_class)``,
        the counts taken with ``sample_weight``. Not for multilabel ``y``.
    epochs : int, default=200
        Maximum number of passes over the training data.
    batch_size : int or "auto", default="auto"
        Rows per gradient step; see :class:`SFNERegressor`.
    dtype : {"auto", "float32", "float64"}, default="auto"
        Float type the network trains and predicts in; see
        :class:`SFNERegressor`.
    early_stopping : "auto" or bool, default="auto"
        True: hold out ``validation_fraction`` of the rows, stratified by
        class and seeded by ``random_state``, stop when the validation
        cross-entropy has not improved by ``tol`` for ``n_iter_no_change``
        epochs, and restore the best weights; with ``loss="auto"`` the
        logits are then divided by the one temperature that minimises the
        held-out rows' cross-entropy (``temperature_``; the predicted classes
        and the ranking of the rows do not change). False: stop when the
        training loss stalls. ``"auto"``: True from 200 training rows on.
    validation_fraction : float, default=0.1
        Share of the rows held out when early stopping is on.
    n_iter_no_change : int, default=20
        Epochs without improvement before stopping.
    tol : float, default=1e-4
        Smallest loss decrease that counts as an improvement.
    callbacks : list of keras callbacks, default=None
        Extra Keras callbacks, run after the built-in stopping rule.
        A fit on dask collections calls their fit and epoch hooks only
        (each partition's batches train inside one Keras ``fit``).
    verbose : int, default=0
        0: silent. 1: one progress bar for the whole fit. 2: one line per
        epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split.
        Pass an int for reproducible fits.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted; for multilabel ``y``, the label indices.
    model_ : SFNEBlock
        The trained Keras model; its outputs are the logits.
    preprocessor_ : transformer or None
        The fitted preprocessor.
    history_ : dict of list
        Per-epoch ``loss`` (and ``val_loss`` when early stopping is on, and
        ``learning_rate`` under the ``"plateau"`` schedule).
    n_iter_ : int
        Number of epochs run.
    best_epoch_ : int
        Epoch (1-based) whose weights were kept; only when early stopping
        was on.
    temperature_ : float
        The temperature the trained logits were divided by (folded into the
        block's output projection); 1.0 without early stopping, with a
        ``loss`` of your own, or when trained by :meth:`partial_fit` alone.
    n_outputs_ : int
        Number of logits: 1 for two classes, else one per class or label.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    Notes
    -----
    Labels that were not in ``y`` at fit time are never predicted: the
    network has an output for the classes it was trained on only.

    See Also
    --------
    SFNERegressor : The same block as a regressor.
    sklearn.neural_network.MLPClassifier : A plain multi-layer perceptron.

    Examples
    --------
    >>> import numpy as np
    >>> from sfne_sklearn import SFNEClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(100, 3))
    >>> y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    >>> clf = SFNEClassifier(epochs=20, random_state=0).fit(X, y)
    >>> clf.classes_.tolist()
    ['no', 'yes']
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _FITTED_ATTRIBUTES = (*BaseSFNE._FITTED_ATTRIBUTES, "temperature_")

    _parameter_constraints: dict = {
        **BaseSFNE._parameter_constraints,
        "loss": [StrOptions({"auto"}), callable],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        *,
        hidden_dim=64,
        num_layers=2,
        slow_network_layers=3,
        slow_network_units=128,
        spline_knots="auto",
        n_members="auto",
        dropout=0.0,
        preprocessor="auto",
        optimizer="adam",
        optimizer__learning_rate=3e-3,
        learning_rate_schedule="plateau",
        loss="auto",
        class_weight=None,
        epochs=200,
        batch_size="auto",
        dtype="auto",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=20,
        tol=1e-4,
        callbacks=None,
        verbose=0,
        random_state=None,
    ):
        super().__init__(
            hidden_dim=hidden_dim,
            num_layers=num_layers,
            slow_network_layers=slow_network_layers,
            slow_network_units=slow_network_units,
            spline_knots=spline_knots,
            n_members=n_members,
            dropout=dropout,
            preprocessor=preprocessor,
            optimizer=optimizer,
            optimizer__learning_rate=optimizer__learning_rate,
            learning_rate_schedule=learning_rate_schedule,
            loss=loss,
            epochs=epochs,
            batch_size=batch_size,
            dtype=dtype,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            callbacks=callbacks,
            verbose=verbose,
            random_state=random_state,
        )
        self.class_weight = class_weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and the class labels ``y``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels (ints, strings, bools, pandas categoricals or
            nullable dtypes), or a 0/1 indicator matrix for multilabel
            classification.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of k counts as k copies of a row.

        Returns
        -------
        self : SFNEClassifier
            The fitted estimator.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        if is_dask_collection(X):
            # Out of core: statistics by dask reductions, then partitions streamed.
            return fit_out_of_core(self, X, y, sample_weight)
        self._validate_params()
        X = self._validate_X(X, reset=True)
        encoded = self._encode_labels(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        name = type(self).__name__
        sample_weight = _labels.class_weights(
            self.class_weight, encoded, sample_weight, estimator=name
        )
        if sample_weight is not None and encoded.codes is not None:
            weighted = np.unique(encoded.codes[sample_weight > 0])
            if len(weighted) == 1:
                raise ValueError(
                    f"{name} needs at least 2 classes with a positive sample_weight; only "
                    f"one class has one: {encoded.classes.tolist()[weighted[0]]!r}."
                )
        self.n_outputs_ = encoded.target.shape[1]
        return self._fit_network(X, encoded.target, sample_weight)

    def _holds_classes(self, y):
        return True

    def _calibrate(self, block, validation):
        self.temperature_ = 1.0
        if validation is not None and isinstance(self.loss, str) and self.loss == "auto":
            # Early stopping chose the epoch by these rows' cross-entropy;
            # one temperature fitted on them corrects the logits' scale
            # (3-fold CV on the benchmark sets' training rows: lower log
            # loss on 4 of 5, docs/benchmarks.md).
            from ..training._loop import block_outputs

            X_val, target_val, *weights = validation
            logits = block_outputs(block, X_val)
            self.temperature_ = _labels.fit_temperature(
                logits, target_val, self._label_kind, *weights
            )
            projection = block.output_projection
            projection.set_weights([w / self.temperature_ for w in projection.get_weights()])

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train one pass over the chunk ``X``, ``y``, continuing earlier calls.

        scikit-learn's incremental-learning convention, as
        :meth:`SFNERegressor.partial_fit`: the first call on an unfitted
        classifier fits the preprocessor on its chunk (or uses a
        ``preprocessor`` already fitted) and must be told every class;
        later calls keep the weights and the optimizer's state. One seeded
        epoch per call, no early stopping. Binary and multiclass labels
        only (multilabel targets need :meth:`fit`).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            One chunk of training data, with the same columns every call.
        y : array-like of shape (n_samples,)
            Class labels of the chunk.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole data set. Required on the first call
            (a chunk may lack some classes); later calls may omit it, or
            must pass the same classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, times ``class_weight`` (a dict; "balanced"
            needs the whole data set, so :meth:`fit`).

        Returns
        -------
        self : SFNEClassifier
            The classifier; ``n_iter_`` counts the passes.
        """
        name = type(self).__name__
        first = not started(self)
        if first:
            self._validate_params()
            if classes is None:
                raise ValueError(
                    f"{name}.partial_fit needs classes= on its first call: every class "
                    "of the data set, since a chunk may lack some."
                )
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} differ from the classes of the "
                f"earlier calls, {self.classes_.tolist()}; pass the same classes, or none."
            )
        if isinstance(self.class_weight, str):
            raise ValueError(
                f"class_weight={self.class_weight!r} needs the class counts of the whole "
                "data set, which partial_fit does not see; pass a dict of weights."
            )
        X = self._validate_X(X, reset=first)
        encoded = _labels.encode_with_classes(
            y, self.classes_ if classes is None else classes, estimator=name
        )
        if first:
            self.classes_ = encoded.classes
            self._label_kind = encoded.kind
            self._label_dtype = encoded.label_dtype
            self.n_outputs_ = encoded.target.shape[1]
            self.temperature_ = 1.0
        elif self._label_kind not in ("binary", "multiclass"):
            raise ValueError(
                f"This {name} was fitted on a multilabel y; partial_fit takes class labels."
            )
        check_consistent_length(X, encoded.target)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        sample_weight = _labels.class_weights(
            self.class_weight, encoded, sample_weight, estimator=name
        )
        return partial_fit_network(self, X, encoded.target, sample_weight)

    @lazy_on_dask
    def decision_function(self, X):
        """The network's logits for ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Samples, with the same columns as in fit.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_outputs_)
            For two classes, the logit of ``classes_[1]`` (positive: that
            class is predicted); otherwise one logit per class or label.
        """
        logits = self._transform_input(X)
        return logits[:, 0] if self._label_kind == "binary" else logits

    @lazy_on_dask
    def predict_proba(self, X):
        """Class probabilities of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Samples, with the same columns as in fit.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; for multilabel
            ``y``, the probability of each label.
        """
        return _labels.probabilities(self._transform_input(X), self._label_kind)

    @lazy_on_dask
    def predict_log_proba(self, X):
        """Logarithms of :meth:`predict_proba`, computed without underflow.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Samples, with the same columns as in fit.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        return _labels.log_probabilities(self._transform_input(X), self._label_kind)

    @lazy_on_dask
    def predict(self, X):
        """Predict class labels for ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Samples, with the same columns as in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            The most probable class of each row, as a label of ``classes_``;
            for multilabel ``y``, a 0/1 matrix (probability above 1/2).
        """
        check_is_fitted(self)
        return _labels.labels(
            self._transform_input(X), self._label_kind, self.classes_, self._label_dtype
        )
