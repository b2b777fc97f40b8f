"""SFNERegressor: the SFNEBlock as a scikit-learn regressor."""

from sklearn.base import RegressorMixin

from ._base import BaseSFNE
from ._dask import is_dask_collection, lazy_on_dask
from ._incremental import partial_fit_network, started
from ._out_of_core import fit_out_of_core


class SFNERegressor(RegressorMixin, BaseSFNE):
    """Slow-Fast Neural Engine regressor for tabular data.

    Fits an :class:`~sfne_sklearn.SFNEBlock` whose output projection is the
    regression head, trained through scikeras. DataFrames with numeric,
    categorical, string, boolean and nullable columns, and missing values,
    are turned into features by an internal ColumnTransformer. The target is
    standardised for training and predictions are returned on its scale.

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
        Knots of a cubic B-spline encoding of each feature (after the
        preprocessor) that takes more than two values, spaced evenly over
        three standard deviations either side of 0 and linear beyond: the
        block sees these beside the feature, so it can bend and threshold
        it the way trees do. Meant for standardised features, as
        ``preprocessor="auto"`` makes them. ``"auto"``: 8 knots below 400
        training rows (those left after early stopping's validation split),
        12 from 400 on (8 in ``partial_fit``, which does not know the total
        rows): finer splines over-fit where rows are few.
        None: the features alone.
    n_members : "auto" or int, default="auto"
        Members of an ensemble that shares the block's weights (TabM-mini,
        Gorishniy et al., 2024): each member scales the block's inputs by
        its own trained vector and has its own output projection; the
        prediction is the mean of the members' outputs. Each member learns
        from its own loss. Rows go through the shared layers once per member:
        a fit costs up to ``n_members`` times the arithmetic, but no more
        steps. ``"auto"``: 8 members up to 8,192 training rows, then fewer,
        so that an epoch passes at most 65,536 rows times members (one
        member from 32,769 rows on; one in ``partial_fit``, which does not
        know the total rows).
    dropout : "auto" or float, default="auto"
        Dropout rate on the block's residual branches (its hidden layers'
        and its combination's outputs) while training; predictions use the
        whole network. ``"auto"``: 0.2 below 1,000 training rows (those left
        after early stopping's validation split), none from 1,000 on (none
        in ``partial_fit``, which does not know the total rows): in
        cross-validation it helped where rows are few and cost accuracy on
        larger tables. None either where the rows train as one full batch
        (up to 64 with ``batch_size="auto"``), where a ``sample_weight`` of
        k equals k copies of a row exactly (see ``dtype``): a copy would
        draw a mask of its own.
    preprocessor : "auto", transformer or None, default="auto"
        How ``X`` becomes numeric features. ``"auto"``: on a DataFrame, a
        ColumnTransformer built from the column dtypes (numbers imputed with
        the mean plus missing indicators, then standardised; categorical,
        string, boolean and object columns one-hot encoded with missing
        values as a category and unknown categories ignored at predict
        time); on an array, the numeric part alone. A scikit-learn
        transformer: cloned and fitted on ``X``. ``None``: ``X`` must be
        numeric and finite and is used as is.
    optimizer : str or keras optimizer class, default="adam"
        Keras optimizer, by name or class; a fresh one is made for each fit.
    optimizer__learning_rate : float, default=3e-3
        Learning rate given to ``optimizer``; with ``batch_size="auto"``,
        that of a 200-row step (see ``batch_size``).
    learning_rate_schedule : {"plateau", "constant"}, default="plateau"
        ``"plateau"``: halve the learning rate whenever the loss that early
        stopping watches (the validation loss, else the training loss) has
        not improved by ``tol`` for ``max(1, n_iter_no_change // 4)`` epochs,
        down to 1/256 of ``optimizer__learning_rate``; training then ends
        sooner, having fine-tuned at the lower rates. ``"constant"``: keep
        ``optimizer__learning_rate`` throughout. A fit on dask collections
        follows it epoch by epoch; ``partial_fit`` (one pass a call) keeps
        the rate constant.
    loss : str or keras loss, default="mse"
        Keras loss, computed on the standardised target.
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
        Float type the network trains and predicts in. ``"auto"``: float32
        (Keras's own default; on CPU an epoch costs about half of float64's),
        except for a fit that trains on float64 (or integer) features in one
        full batch (at most 64 rows with ``batch_size="auto"``): there
        float64 keeps a ``sample_weight`` of k exactly equal to k copies of a
        row, which float32 rounding would blur to about 1e-6. Float32
        features always train in float32.
    early_stopping : "auto" or bool, default="auto"
        True: hold out ``validation_fraction`` of the rows (shuffled, seeded
        by ``random_state``), stop when the validation loss has not improved
        by ``tol`` for ``n_iter_no_change`` epochs, and restore the best
        weights. False: stop when the training loss stalls the same way, as
        :class:`~sklearn.neural_network.MLPRegressor` does. ``"auto"``: True
        from 200 training rows on, where a validation set is worth its rows.
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
        0: silent. 1: one progress bar for the whole fit (epochs, current
        ``loss`` and ``val_loss``, time left). 2: one line per epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split.
        Pass an int for reproducible fits.

    Attributes
    ----------
    model_ : SFNEBlock
        The trained Keras model.
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
    n_outputs_ : int
        Number of targets.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SFNETransformer : The same block as a feature extractor.
    sklearn.neural_network.MLPRegressor : A plain multi-layer perceptron.

    Examples
    --------
    >>> import numpy as np
    >>> from sfne_sklearn import SFNERegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(100, 3))
    >>> y = X[:, 0] - 2 * X[:, 1]
    >>> reg = SFNERegressor(epochs=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    def __init__(
        self,
        *,
        hidden_dim=64,
        num_layers=2,
        slow_network_layers=3,
        slow_network_units=128,
        spline_knots="auto",
        n_members="auto",
        dropout="auto",
        preprocessor="auto",
        optimizer="adam",
        optimizer__learning_rate=3e-3,
        learning_rate_schedule="plateau",
        loss="mse",
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and ``y``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of k counts as k copies of a row.

        Returns
        -------
        self : SFNERegressor
            The fitted estimator.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        if is_dask_collection(X):
            # Out of core: statistics by dask reductions, then partitions streamed.
            return fit_out_of_core(self, X, y, sample_weight)
        X = self._validate_X(X, reset=True)
        y = self._validate_y(X, y)
        self._y_ndim = y.ndim
        y2d = y.reshape(-1, 1) if y.ndim == 1 else y
        self.n_outputs_ = y2d.shape[1]
        return self._fit_network(X, y2d, sample_weight)

    def partial_fit(self, X, y, sample_weight=None):
        """Train one pass over the chunk ``X``, ``y``, continuing earlier calls.

        scikit-learn's incremental-learning convention: a loop over chunks
        (or ``dask_ml.wrappers.Incremental``) trains one network on more
        rows than fit in memory. The first call on an unfitted estimator
        fits the preprocessor and the target's standardisation on its
        chunk (a ``preprocessor`` that is already fitted is used as it is);
        later calls reuse them, and keep the weights and the optimizer's
        state. After :meth:`fit`, training continues from the fitted
        network. There is no validation split or early stopping: each call
        is one epoch over its chunk, shuffled with a seed from
        ``random_state`` and the call's number.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            One chunk of training data, with the same columns every call.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values of the chunk.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; rescaled to mean 1 within the chunk.

        Returns
        -------
        self : SFNERegressor
            The estimator; ``n_iter_`` counts the passes (and the epochs
            of a preceding :meth:`fit`), ``history_["loss"]`` has each
            pass's training loss.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        first = not started(self)
        if first:
            self._validate_params()
        X = self._validate_X(X, reset=first)
        y = self._validate_y(X, y)
        y2d = y.reshape(-1, 1) if y.ndim == 1 else y
        if first:
            self._y_ndim = y.ndim
            self.n_outputs_ = y2d.shape[1]
        elif y2d.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2d.shape[1]} output(s) but {type(self).__name__} was trained on "
                f"{self.n_outputs_}; pass the same target columns in every partial_fit."
            )
        return partial_fit_network(self, X, y2d, sample_weight)

    @lazy_on_dask
    def predict(self, X):
        """Predict targets for ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Samples, with the same columns as in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions on the scale of the training target, with the shape
            of the training target.
        """
        y_pred = self._transform_input(X) * self._y_scale + self._y_mean
        return y_pred.ravel() if self._y_ndim == 1 else y_pred
