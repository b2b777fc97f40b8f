"""SFNETransformer: the SFNEBlock as a scikit-learn feature extractor."""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseSFNE
from ._dask import is_dask_collection, lazy_on_dask
from ._incremental import partial_fit_network, started
from ._out_of_core import fit_out_of_core


class SFNETransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseSFNE):
    """Slow-Fast Neural Engine features for tabular data.

    Learns an :class:`~sfne_sklearn.SFNEBlock` whose ``output_dim`` outputs
    are the new features. With ``y``, a linear head on top of them is
    trained to predict ``y`` (supervised features); without ``y``, the head
    reconstructs the preprocessed input (self-supervised, an autoencoder).
    The head is dropped: ``transform`` returns the block's outputs.

    Parameters
    ----------
    output_dim : int, default=32
        Number of features produced by ``transform``.
    hidden_dim : int, default=64
        Width of the block's hidden representation.
    num_layers : int, default=2
        Number of residual hidden dense layers of the block.
    slow_network_layers : int, default=3
        Number of layers of the slow network that generates hyper-kernels.
    slow_network_units : int, default=128
        Width of the slow network's layers.
    spline_knots : int, "auto" or None, default=8
        Knots of the cubic B-spline encoding of each feature with more than
        two values; see :class:`SFNERegressor` (``"auto"`` as there). None:
        the features alone.
    n_members : int or "auto", default=1
        Members of an ensemble that shares the block's weights (see
        :class:`SFNERegressor`): each member scales the block's inputs by
        its own trained vector and has its own output projection, and the
        features are the mean of the members' outputs. Under the training
        head that mean is what is trained, so the members are not trained
        apart; ``"auto"`` is 1.
    dropout : float or "auto", default=0.0
        Dropout rate on the block's residual branches while training; see
        :class:`SFNERegressor` (``"auto"`` as there).
    preprocessor : "auto", transformer or None, default="auto"
        How ``X`` becomes numeric features; see :class:`SFNERegressor`.
    optimizer : str or keras optimizer class, default="adam"
        Keras optimizer, by name or class; a fresh one is made for each fit.
    optimizer__learning_rate : float, default=3e-3
        Learning rate given to ``optimizer``; with ``batch_size="auto"``,
        that of a 200-row step (see ``batch_size``).
    learning_rate_schedule : {"plateau", "constant"}, default="plateau"
        As for :class:`SFNERegressor`.
    loss : str or keras loss, default="auto"
        Keras loss of the head. ``"auto"``: the mean squared error, or for
        class labels a cross-entropy on the head's logits (sigmoid for two
        classes and for multilabel ``y``, softmax for more classes).
    target_type : {"auto", "continuous", "classes"}, default="auto"
        What a ``y`` given to ``fit`` is. ``"continuous"``: numbers, which
        the head regresses (standardised). ``"classes"``: class labels, or a
        2-D 0/1 multilabel matrix, which the head classifies. ``"auto"``:
        classes when ``y`` holds strings, booleans, objects or a pandas
        categorical, numbers otherwise; integer class codes need
        ``"classes"``.
    epochs : int, default=200
        Maximum number of passes over the training data.
    batch_size : int or "auto", default="auto"
        Rows per gradient step. ``"auto"`` aims at ten steps per epoch
        within 64 to 200 rows: ``min(n_samples, max(64, min(200,
        ceil(n_samples / 10))))``; from 20,000 training rows on, 1% of them
        (at most 512), with ``optimizer__learning_rate`` scaled by the same
        factor over 200 rows (the linear scaling rule: each row then moves
        the weights as in a 200-row step). ``partial_fit`` and streamed
        fits keep the 200-row rule.
    dtype : {"auto", "float32", "float64"}, default="auto"
        Float type the network trains in; see :class:`SFNERegressor`.
        ``transform`` returns the features' float type (float32 for float32
        input without preprocessing, float64 otherwise).
    early_stopping : "auto" or bool, default="auto"
        Stop on a held-out validation loss; see :class:`SFNERegressor`.
    validation_fraction : float, default=0.1
        Share of the rows held out when early stopping is on.
    n_iter_no_change : int, default=20
        Epochs without improvement before stopping.
    tol : float, default=1e-4
        Smallest loss decrease that counts as an improvement.
    callbacks : list of keras callbacks, default=None
        Extra Keras callbacks.
        A fit on dask collections calls their fit and epoch hooks only
        (each partition's batches train inside one Keras ``fit``).
    verbose : int, default=0
        0: silent. 1: one progress bar for the whole fit. 2: one line per
        epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and the validation split.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels of ``y``; only when the features were trained on
        class labels.
    model_ : SFNEBlock
        The trained block (without the training head).
    preprocessor_ : transformer or None
        The fitted preprocessor.
    history_ : dict of list
        Per-epoch losses (and ``learning_rate`` under the ``"plateau"``
        schedule).
    n_iter_ : int
        Number of epochs run.
    best_epoch_ : int
        Epoch (1-based) whose weights were kept; only with early stopping.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SFNERegressor : The same block as a regressor.

    Examples
    --------
    >>> import numpy as np
    >>> from sfne_sklearn import SFNETransformer
    >>> X = np.random.RandomState(0).normal(size=(50, 4))
    >>> SFNETransformer(output_dim=8, epochs=5, random_state=0).fit_transform(X).shape
    (50, 8)
    """

    # Under the training head the members' mean is trained, not each
    # member: n_members="auto" keeps one.
    _AUTO_MEMBERS = 1

    _parameter_constraints: dict = {
        **BaseSFNE._parameter_constraints,
        "output_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "target_type": [StrOptions({"auto", "continuous", "classes"})],
    }

    def __init__(
        self,
        *,
        output_dim=32,
        hidden_dim=64,
        num_layers=2,
        slow_network_layers=3,
        slow_network_units=128,
        spline_knots=8,
        n_members=1,
        dropout=0.0,
        preprocessor="auto",
        optimizer="adam",
        optimizer__learning_rate=3e-3,
        learning_rate_schedule="plateau",
        loss="auto",
        target_type="auto",
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
        self.output_dim = output_dim
        self.target_type = target_type

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.target_tags.required = False
        return tags

    def fit(self, X, y=None, sample_weight=None):
        """Learn the features.

        Parameters
        ----------
        X : array-like, DataFrame, dask DataFrame or dask Array of shape (n_samples, n_features)
            Training data. A dask collection trains out of core, one
            partition in memory at a time, as :meth:`SFNERegressor.fit` does.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Target the features should predict: numbers, or class labels
            (see ``target_type``); a dask Series or Array with a dask ``X``.
            None: the features are learnt by reconstructing the preprocessed
            ``X``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (in memory only).

        Returns
        -------
        self : SFNETransformer
            The fitted transformer.
        """
        if is_dask_collection(X):
            return fit_out_of_core(self, X, y, sample_weight)
        self._validate_params()
        X = self._validate_X(X, reset=True)
        for name in self._TARGET_ATTRIBUTES:
            self.__dict__.pop(name, None)
        if y is not None and self._holds_classes(y):
            y = self._encode_labels(X, y).target
        elif y is not None:
            y = self._validate_y(X, y)
            y = y.reshape(-1, 1) if y.ndim == 1 else y
        return self._fit_network(X, y, sample_weight)

    def partial_fit(self, X, y=None, sample_weight=None):
        """Train one pass over the chunk ``X``, continuing earlier calls.

        As :meth:`SFNERegressor.partial_fit`: the first call on an unfitted
        transformer fits the preprocessor on its chunk (or uses a
        ``preprocessor`` already fitted), later calls keep the weights and
        the optimizer's state, one seeded epoch per call, no early stopping.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            One chunk of training data, with the same columns every call.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Numeric target of the chunk, or None to learn the features by
            reconstructing the preprocessed ``X``. Class labels need
            :meth:`fit` (the classes are not known from one chunk).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        self : SFNETransformer
            The transformer; ``n_iter_`` counts the passes.
        """
        first = not started(self)
        if first:
            self._validate_params()
        X = self._validate_X(X, reset=first)
        if y is not None and self._holds_classes(y):
            raise ValueError(
                f"{type(self).__name__}.partial_fit takes a numeric y or None; got class "
                "labels. Fit on them with fit(), or pass target_type='continuous' for "
                "numbers."
            )
        if "classes_" in self.__dict__ and not first:
            raise ValueError(
                f"{type(self).__name__} was fitted on class labels; partial_fit cannot "
                "continue it. Call fit() again, or start partial_fit on a fresh transformer."
            )
        if first:
            self._y_kind = None if y is None else "numbers"
        elif "_y_kind" in self.__dict__ and (y is None) != (self._y_kind is None):
            raise ValueError(
                f"{type(self).__name__}.partial_fit: the first call was "
                f"{'with' if self._y_kind else 'without'} a target y; pass "
                f"{'y' if self._y_kind else 'y=None'} in every call, as in the first."
            )
        if y is not None:
            y = self._validate_y(X, y)
            y = y.reshape(-1, 1) if y.ndim == 1 else y
        return partial_fit_network(self, X, y, sample_weight)

    def _holds_classes(self, y):
        if self.target_type != "auto":
            return self.target_type == "classes"
        dtype = getattr(y, "dtype", None)
        if dtype is None:
            dtype = np.asarray(y).dtype
        if isinstance(dtype, pd.CategoricalDtype):
            return True
        if isinstance(dtype, pd.api.extensions.ExtensionDtype):
            return dtype.kind in "bOSU" or isinstance(dtype, pd.StringDtype)
        return np.dtype(dtype).kind in "bOSU"

    @lazy_on_dask
    def transform(self, X):
        """Compute the learnt features of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Samples, with the same columns as in fit.

        Returns
        -------
        X_new : ndarray of shape (n_samples, output_dim)
            The block's outputs, in the float dtype the network computes in.
        """
        return self._transform_input(X)

    def __setstate__(self, state):
        # Transformers pickled before ``target_type`` existed took every y
        # as numbers: keep that on a refit.
        state = {"target_type": "continuous", **state}
        super().__setstate__(state)

    @property
    def _n_features_out(self):
        return self.output_dim

    def _block_output_dim(self, n_outputs):
        return self.output_dim

    def _training_head(self, n_outputs, dtype_policy, seed=None):
        import keras

        return keras.layers.Dense(
            n_outputs,
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
            name="head",
            dtype=dtype_policy,
        )
