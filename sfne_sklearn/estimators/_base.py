"""Shared base of the SFNE estimators: parameters, data checks, training."""

import numbers
import threading
import warnings
from abc import ABCMeta, abstractmethod
from typing import NamedTuple, Optional

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from .._arrays import aligned_astype, is_aligned
from .._splines import many_valued_columns
from ..preprocessing._columns import (
    FrameSteps,
    NumericSteps,
    check_numeric_columns,
    fit_preprocessor,
    is_dataframe,
    to_pandas,
)
from ..serving._forward import NumpyForward
from ..serving._persistence import (
    check_versions,
    in_archive,
    library_versions,
    model_from_state,
    model_to_state,
)
from ..training import require_keras
from ..training._arrays import aligned_take, compact_rows
from . import _labels
from ._incremental import trainer_to_state

# Keras, its backend and the training modules are imported by the methods
# that train: a fitted estimator predicts with NumPy alone (see
# serving._forward), so loading one to serve it never imports them.


class _TrainingData(NamedTuple):
    X: np.ndarray
    target: np.ndarray
    sample_weight: Optional[np.ndarray]
    validation: Optional[tuple]


class BaseSFNE(BaseEstimator, metaclass=ABCMeta):
    """Base class of :class:`SFNERegressor` and :class:`SFNETransformer`.

    Warning: this class should not be used directly. Use the derived classes.
    """

    # Kind of class labels the network learns (see ``_labels``); None:
    # numbers (or, for the transformer, its own input).
    _label_kind = None

    _parameter_constraints: dict = {
        "hidden_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "num_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "slow_network_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "slow_network_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "spline_knots": [
            StrOptions({"auto"}), Interval(numbers.Integral, 2, None, closed="left"), None
        ],
        "n_members": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [StrOptions({"auto"}), Interval(numbers.Real, 0, 1, closed="left")],
        "preprocessor": [StrOptions({"auto"}), HasMethods(["fit", "transform"]), None],
        # A class or a name, not an instance: scikeras builds a fresh
        # optimizer for every fit (with optimizer__learning_rate).
        "optimizer": [str, type],
        "optimizer__learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"plateau", "constant"})],
        # A keras.losses.Loss is callable; a Callback is known by its hooks.
        "loss": [str, callable],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "dtype": [StrOptions({"auto", "float32", "float64"})],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "callbacks": [list, HasMethods(["set_model", "on_epoch_end"]), None],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    @abstractmethod
    def __init__(
        self,
        *,
        hidden_dim,
        num_layers,
        slow_network_layers,
        slow_network_units,
        spline_knots,
        n_members,
        dropout,
        preprocessor,
        optimizer,
        optimizer__learning_rate,
        learning_rate_schedule,
        loss,
        epochs,
        batch_size,
        dtype,
        early_stopping,
        validation_fraction,
        n_iter_no_change,
        tol,
        callbacks,
        verbose,
        random_state,
    ):
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.slow_network_layers = slow_network_layers
        self.slow_network_units = slow_network_units
        self.spline_knots = spline_knots
        self.n_members = n_members
        self.dropout = dropout
        self.preprocessor = preprocessor
        self.optimizer = optimizer
        self.optimizer__learning_rate = optimizer__learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.dtype = dtype
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.callbacks = callbacks
        self.verbose = verbose
        self.random_state = random_state

    # ``optimizer__learning_rate`` is a parameter of its own, not a nested
    # parameter of ``optimizer``: set it directly instead of letting
    # BaseEstimator look for ``optimizer.set_params``.
    def set_params(self, **params):
        own = self._get_param_names()
        for key in [key for key in params if "__" in key and key in own]:
            setattr(self, key, params.pop(key))
        return super().set_params(**params) if params else self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # "auto" imputes missing values; other choices decide for themselves.
        tags.input_tags.allow_nan = self.preprocessor is not None
        return tags

    # ------------------------------------------------------------------ data
    def _validate_X(self, X, *, reset):
        """Check ``X`` the way scikit-learn does, keeping DataFrames whole.

        The "auto" preprocessor builds its columns on pandas: other
        dataframes (polars, pyarrow tables) are converted first.
        """
        if (
            not reset
            and (self.preprocessor is None or isinstance(self.preprocessor, str))
            and getattr(self, "feature_names_in_", None) is None
            and _passes_check_array(X, _FLOAT_DTYPES, getattr(self, "n_features_in_", None))
        ):
            # What validate_data below returns for it, without its cost
            # (about 0.1 ms, the bulk of a one-row prediction).
            return X
        if self.preprocessor == "auto":
            X = to_pandas(X)
        if (
            not reset
            and self.preprocessor == "auto"
            and hasattr(self, "feature_names_in_")
            and not is_dataframe(X)
        ):
            # The internal ColumnTransformer selects columns by name.
            raise ValueError(
                f"This {type(self).__name__} was fitted on a DataFrame; pass a "
                f"DataFrame with the columns {list(self.feature_names_in_)}, "
                f"not a {type(X).__module__.split('.')[0]}.{type(X).__name__}."
            )
        if self.preprocessor is not None and is_dataframe(X):
            # Names and count are checked; dtypes are the preprocessor's job.
            # Columns named as in fit, in order, pass those checks: skip them.
            if reset or not _has_fitted_names(self, X):
                validate_data(self, X, skip_check_array=True, reset=reset)
            if X.shape[0] < 1:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={X.shape}) while a minimum "
                    "of 1 is required."
                )
            return X
        if self.preprocessor is None or isinstance(self.preprocessor, str):
            return validate_data(
                self,
                X,
                reset=reset,
                dtype=_FLOAT_DTYPES,
                ensure_all_finite="allow-nan" if self.preprocessor == "auto" else True,
            )
        # A user transformer decides which values it accepts.
        return validate_data(self, X, reset=reset, dtype=None, ensure_all_finite=False)

    def _validate_y(self, X, y):
        y = check_array(y, ensure_2d=False, dtype="numeric", input_name="y")
        if y.ndim > 2:
            raise ValueError(f"y must be 1-D or 2-D, got an array of shape {y.shape}.")
        check_consistent_length(X, y)
        return y

    def _features(self, X, dtype):
        """Preprocessed features of an already validated ``X``, as ``dtype``.

        ``dtype``: the network's (``_dtype``) to train, the forward pass's to
        predict.
        """
        numeric_steps = getattr(self, "_numeric_steps", None)
        if numeric_steps is not None and isinstance(X, np.ndarray):
            # A validated float array: the auto pipeline's arrays, in NumPy.
            return numeric_steps(X).astype(dtype, copy=False)
        if self.preprocessor == "auto":
            check_numeric_columns(self.preprocessor_, X)
            frame_steps = getattr(self, "_frame_steps", None)
            if frame_steps is not None and is_dataframe(X):
                return _as_model_input(frame_steps(X), dtype)
        Xt = X if self.preprocessor_ is None else self.preprocessor_.transform(X)
        return _as_model_input(Xt, dtype)

    def _transform_input(self, X):
        """Validate, preprocess and run ``X`` through the fitted block."""
        # A fit ends with the forward pass set (and removes it first): with
        # it, check_is_fitted (about 20 µs) would pass; without it, it raises.
        if "_forward" not in self.__dict__:
            check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        # The forward pass computes in (and returns) the results' float type.
        return self._forward(self._features(X, self._forward.dtype))

    # -------------------------------------------------------------- training
    def _check_training_params(self):
        """Checks that need Keras itself: names of losses and optimizers."""
        keras = require_keras(f"{type(self).__name__}.fit")
        from ..training._loop import LOGIT_LOSSES

        optimizer = self.optimizer
        if isinstance(optimizer, type) and not issubclass(optimizer, keras.optimizers.Optimizer):
            raise ValueError(
                f"The 'optimizer' parameter of {type(self).__name__} must be a name or a "
                f"keras.optimizers.Optimizer subclass. Got optimizer={optimizer!r}."
            )
        checked = (
            ("loss", self._training_loss(), keras.losses.get),
            ("optimizer", self.optimizer, keras.optimizers.get),
        )
        for name, value, getter in checked:
            if isinstance(value, str) and value not in LOGIT_LOSSES:
                try:
                    getter(value)
                except ValueError as exc:
                    raise ValueError(
                        f"The '{name}' parameter of {type(self).__name__} is not a known "
                        f"Keras {name}: {name}={value!r}."
                    ) from exc

    # What a fit made of its target. The transformer's target can change
    # kind between fits (labels, numbers, none): its fits remove these too.
    _TARGET_ATTRIBUTES = ("classes_", "_label_kind", "_label_dtype", "_y_kind")

    # Attributes set by a fit; a new fit removes them all first, so that none
    # survives from an earlier fit with other settings.
    _FITTED_ATTRIBUTES = (
        "model_",
        "preprocessor_",
        "history_",
        "n_iter_",
        "best_epoch_",
        "_forward",
        "_model_state",
        "_numeric_steps",
        "_frame_steps",
        "_dtype",
        "_output_dtype",
        "_y_mean",
        "_y_scale",
        # partial_fit's training state (see _incremental).
        "_trainer",
        "_trainer_state",
        "_stream_seeds",
    )

    def _fit_network(self, X, y=None, sample_weight=None):
        """Fit the preprocessor and the network; set the fitted attributes.

        ``y`` is the (2-D) training target, or None for self-supervised
        training, where the network reconstructs its own input features.
        """
        self._validate_params()
        self._check_training_params()
        for name in self._FITTED_ATTRIBUTES:
            self.__dict__.pop(name, None)
        # Every random choice of the fit comes from these seeds: the initial
        # weights, the validation split and the shuffling.
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=3)
        data = self._prepare_data(X, y, sample_weight, split_seed=int(seeds[0]))
        model, history, stopper = self._train(
            data, init_seed=int(seeds[1]), shuffle_seed=int(seeds[2])
        )
        self._calibrate(model, data.validation)
        self._record_fit(model, history, stopper, data.validation is not None)
        return self

    def _prepare_data(self, X, y, sample_weight, *, split_seed):
        """Preprocessed features, scaled target, weights and validation rows."""
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
            if np.any(sample_weight < 0):
                raise ValueError("sample_weight must be non-negative.")
            if not np.any(sample_weight > 0):
                raise ValueError("sample_weight must contain at least one positive value.")

        Xt, owned = self._fit_features(X, sample_weight)
        target = Xt if y is None else self._training_target(y, sample_weight)
        target = np.asarray(target, dtype=self._dtype)
        if sample_weight is not None:
            # Rows of weight 0 are dropped, the others rescaled to mean 1: Keras
            # averages the weighted loss over the rows of a batch, so this
            # makes a weight of k the same as k copies of the row.
            keep = sample_weight > 0
            if not keep.all():
                reconstructs = target is Xt
                Xt, owned = aligned_take(Xt, np.flatnonzero(keep)), True
                target = Xt if reconstructs else target[keep]
            sample_weight = sample_weight[keep]
            sample_weight = (sample_weight / sample_weight.mean()).astype(self._dtype)

        validation = None
        if self._early_stopping_for(Xt.shape[0]):
            Xt, target, sample_weight, validation = self._validation_split(
                Xt, target, sample_weight, split_seed, in_place=owned
            )
        return _TrainingData(Xt, target, sample_weight, validation)

    def _fit_features(self, X, sample_weight, *, prefitted=False):
        """Fit the preprocessor on ``X`` (or take it as fitted): the network's input.

        Sets ``preprocessor_`` and the float dtype the network computes in.
        Returns the features and whether they are a new array of the fit's
        own, in which the validation split may move rows.
        """
        if self.preprocessor is None:
            self.preprocessor_, Xt = None, X
        elif prefitted:
            self.preprocessor_, Xt = self.preprocessor, self.preprocessor.transform(X)
        else:
            self.preprocessor_, Xt = fit_preprocessor(self.preprocessor, X, sample_weight)
        if self.preprocessor == "auto":
            self._set_preprocessing_steps()
        self._set_dtypes(np.asarray(Xt).dtype, Xt.shape[0])
        # The "auto" preprocessor's features are a new array of the fit's own.
        owned = self.preprocessor == "auto"
        if isinstance(Xt, np.ndarray) and Xt.ndim == 2 and Xt.dtype.kind == "f":
            # Converted into an array the training loop can share (training._arrays).
            converted = aligned_astype(Xt, self._dtype)
            owned, Xt = owned or converted is not Xt, converted
        Xt = _as_model_input(Xt, self._dtype)
        if Xt.shape[1] == 0:
            raise ValueError("The preprocessor produced no features from X.")
        return Xt, owned

    def _set_dtypes(self, features_dtype, n_samples):
        """The float types of the results and of the network (see ``dtype``).

        Results come in the float dtype of the features, as MLPRegressor's
        do: float32 stays float32, anything else is float64.
        """
        self._output_dtype = np.float32 if features_dtype == np.float32 else np.float64
        if self.dtype != "auto":
            self._dtype = np.dtype(self.dtype).type
        elif self._output_dtype == np.float64 and self._batch_size_for(n_samples) >= n_samples:
            self._dtype = np.float64  # one full batch: see ``dtype``
        else:
            self._dtype = np.float32

    def _encode_labels(self, X, y):
        """Check class labels ``y``; set ``classes_``; return them encoded.

        The network then learns the encoded target (see ``_labels``) with a
        cross-entropy on its logits.
        """
        encoded = _labels.encode_labels(y, estimator=type(self).__name__)
        check_consistent_length(X, encoded.target)
        self.classes_ = encoded.classes
        self._label_kind = encoded.kind
        self._label_dtype = encoded.label_dtype
        return encoded

    def _holds_classes(self, y):
        """Whether the network learns ``y`` as class labels (else as numbers).

        Never for the regressor; the classifier and the transformer decide.
        """
        return False

    def _training_target(self, y, sample_weight):
        """What the network learns for ``y``.

        Class labels: their encoding (see ``_encode_labels``). Numbers:
        ``y`` standardised, predictions being mapped back with ``_y_mean``
        and ``_y_scale``; weighted statistics keep a weight of k equal to k
        copies of a row.
        """
        if self._label_kind is not None:
            return y
        scaler = StandardScaler().fit(y, sample_weight=sample_weight)
        if not np.all(np.isfinite(scaler.var_)):
            # Past ~1e154 the variance overflows and StandardScaler
            # falls back to a scale of 1: the network would see raw y.
            raise ValueError(
                "y has values too large to standardise (its variance overflows "
                f"float64; max |y| = {np.max(np.abs(y)):.3g}). Rescale y, for "
                "instance divide it by a power of ten."
            )
        self._y_mean, self._y_scale = scaler.mean_, scaler.scale_
        return (y - self._y_mean) / self._y_scale

    def _training_loss(self):
        """The loss the network is compiled with: a Keras name or a Loss.

        ``"auto"``: the mean squared error for numbers, a cross-entropy on
        logits for class labels.
        """
        if not (isinstance(self.loss, str) and self.loss == "auto"):
            return self.loss
        return "mse" if self._label_kind is None else _labels.LOSSES[self._label_kind]

    def _train(self, data, *, init_seed, shuffle_seed):
        """Train a freshly initialised block on ``data``.

        Returns the trained block, the history and the early-stopping
        callback. The compiled Keras model that trains it is kept for the
        next fit of the same architecture (see ``training._loop``).
        """
        from ..training._guards import TrainingDiverged, releasing_train_graphs
        from ..training._loop import (
            CompiledModel,
            architecture_key,
            checkout,
            initial_state,
            make_loss,
            release,
            training_model,
        )
        from ..training._scikeras import fit_keras_model

        n_outputs = data.target.shape[1]
        block = self._make_block(
            data.X, self._block_output_dim(n_outputs), seed=init_seed, n_rows=data.X.shape[0]
        )
        head = self._training_head(n_outputs, block.dtype_policy, seed=init_seed)
        weights, seeds = initial_state(block, head)
        batch_size, rate = self._steps_for(data.X.shape[0])
        steps = -(-data.X.shape[0] // batch_size)
        loss_name = self._training_loss()
        loss = make_loss(loss_name, block.dtype_policy.compute_dtype)
        key = architecture_key(block, head, loss_name, self.optimizer, steps)
        compiled = None if key is None else checkout(key)
        if compiled is None:
            compiled = CompiledModel(
                training_model(block, head),
                optimizer=self.optimizer,
                loss=loss,
                steps_per_execution=steps,
            )
        trainer = compiled.model
        trained_parts = trainer.layers[1:]
        compiled.reset(weights, rate, seeds)

        stopper, guard, callbacks = self._make_callbacks(data.validation, rate)
        try:
            with releasing_train_graphs():
                history = fit_keras_model(
                    trainer,
                    data.X,
                    data.target,
                    sample_weight=data.sample_weight,
                    epochs=self.epochs,
                    batch_size=batch_size,
                    callbacks=callbacks,
                    seed=shuffle_seed,
                )
        except TrainingDiverged as diverged:
            try:
                history = self._recover(diverged, guard, stopper, data.validation is not None)
            except ValueError:
                # Diverged in its first epoch: no weights to keep, but the
                # compiled model is sound (the next fit resets it). Kept, so
                # that a search's next candidates do not trace it again.
                if key is not None:
                    release(key, compiled)
                raise
        block.set_weights(trained_parts[0].get_weights())
        if key is not None:
            release(key, compiled)
        return block, history, stopper

    def _make_callbacks(self, validation, rate):
        """The early-stopping rule, the divergence guard and the full list.

        ``rate``: the fit's initial learning rate (see :meth:`_steps_for`).
        """
        from ..training._guards import DivergenceGuard

        # First: it adds the validation loss to the logs (so that every
        # other callback sees it) and keeps no diverged epoch from them.
        guard = DivergenceGuard(validation)
        stopper = self._stopping_rule(validation is not None, snapshots=guard)
        schedule = self._schedule_callbacks(stopper, rate)
        callbacks = [guard, stopper, *schedule, *self._reporting_callbacks()]
        return stopper, guard, callbacks

    def _reporting_callbacks(self):
        """The user's ``callbacks``, then the progress report (``verbose``)."""
        import keras

        from ..training._loop import FitProgress

        user_callbacks = self.callbacks
        if isinstance(user_callbacks, keras.callbacks.Callback):
            user_callbacks = [user_callbacks]
        progress = []
        if self.verbose:
            progress = [FitProgress(self.epochs, type(self).__name__, min(int(self.verbose), 2))]
        return [*(user_callbacks or []), *progress]

    def _stopping_rule(self, early_stopping, snapshots=None):
        """Early stopping by ``tol`` and ``n_iter_no_change``, on the validation
        loss (keeping the weights of its lowest epoch) or the training loss."""
        from ..training._loop import EarlyStopping

        return EarlyStopping(
            monitor="val_loss" if early_stopping else "loss",
            min_delta=self.tol,
            patience=self.n_iter_no_change,
            restore_best_weights=early_stopping,
            snapshots=snapshots,
        )

    # Lowest learning rate of the "plateau" schedule, as a fraction of the
    # initial one: eight halvings.
    _PLATEAU_MIN_FACTOR = 1 / 256

    def _schedule_callbacks(self, stopper, rate):
        """The schedule's callbacks from ``rate``, watching what ``stopper`` watches."""
        from ..training._loop import PlateauSchedule

        if self.learning_rate_schedule == "constant":
            return []
        return [
            PlateauSchedule(
                monitor=stopper.monitor,
                factor=0.5,
                patience=max(1, self.n_iter_no_change // 4),
                min_delta=self.tol,
                min_lr=rate * self._PLATEAU_MIN_FACTOR,
            )
        ]

    def _recover(self, diverged, guard, stopper, early_stopping):
        """Keep the last finite weights of a diverged fit, or raise."""
        advice = (
            "Lower `optimizer__learning_rate`, or scale X and y (the default "
            "preprocessor='auto' standardises X)."
        )
        if not guard.history:
            raise ValueError(
                f"{type(self).__name__}: training diverged in the first epoch "
                f"(non-finite or overflowing loss: {diverged.logs}), so there are no "
                f"finite weights to keep. {advice}"
            ) from None
        # model.fit ended without on_train_end: let early stopping
        # restore its best weights as it would have.
        stopper.on_train_end()
        kept = stopper.best_epoch + 1 if early_stopping else diverged.epoch - 1
        warnings.warn(
            f"{type(self).__name__}: training diverged in epoch {diverged.epoch} "
            f"(non-finite or overflowing loss: {diverged.logs}) and was stopped; the "
            f"finite weights of epoch {kept} are kept. {advice}",
            ConvergenceWarning,
        )
        return guard.history

    def _calibrate(self, block, validation):
        """Adjust the trained ``block`` on the held-out rows (None: no early stopping).

        Nothing here; the classifier fits a temperature.
        """

    def _record_fit(self, model, history, stopper, early_stopping):
        """Set the fitted attributes and warn if training had not converged."""
        self.history_ = history
        self.n_iter_ = len(history["loss"])
        if early_stopping:
            self.best_epoch_ = int(stopper.best_epoch) + 1
        if self.n_iter_ == self.epochs and stopper.stopped_epoch == 0:
            warnings.warn(
                f"{type(self).__name__}: training stopped at epochs={self.epochs} while the "
                f"{stopper.monitor} was still improving. Increase `epochs`, or raise "
                "`tol` or lower `n_iter_no_change` to stop sooner.",
                ConvergenceWarning,
            )
        self._set_fitted_model(model)

    def _set_preprocessing_steps(self):
        """The fitted ``"auto"`` preprocessor's paths for arrays and for frames (see _features)."""
        self._numeric_steps = NumericSteps.of(self.preprocessor_)
        self._frame_steps = FrameSteps.of(self.preprocessor_)

    # Rows from which ``early_stopping="auto"`` holds out a validation set.
    _AUTO_EARLY_STOPPING_ROWS = 200

    def _early_stopping_for(self, n_samples):
        if self.early_stopping == "auto":
            return n_samples >= self._AUTO_EARLY_STOPPING_ROWS
        return self.early_stopping

    # ``n_members="auto"``: members while the training rows are few, so
    # that an epoch's rows times members stays within _AUTO_MEMBER_ROWS.
    _AUTO_MEMBERS = 8
    _AUTO_MEMBER_ROWS = 65_536

    def _members_for(self, n_samples):
        """Members of the ensemble that trains on ``n_samples`` rows (None: unknown).

        ``"auto"``: 8 up to 8,192 rows, then fewer, so that an epoch never
        passes more than 65,536 member-rows (one member from 32,769 rows);
        one where the total rows are unknown (``partial_fit``).
        """
        if self.n_members != "auto":
            return self.n_members
        if n_samples is None:
            return 1
        return max(1, min(self._AUTO_MEMBERS, self._AUTO_MEMBER_ROWS // n_samples))

    # ``dropout="auto"``: dropout while the rows an epoch trains on are few.
    _AUTO_DROPOUT = 0.2
    _AUTO_DROPOUT_ROWS = 1_000

    def _dropout_for(self, n_samples):
        """Dropout rate of a fit that trains on ``n_samples`` rows an epoch (None: unknown).

        ``"auto"``: 0.2 below 1,000 rows, none from 1,000 on or where the
        total rows are unknown (``partial_fit``), and none in one full
        batch: there a fit is exact (a weight of k is k copies of a row, see
        ``dtype``), which masks drawn per row would break.
        """
        if self.dropout != "auto":
            return self.dropout
        if n_samples is None or n_samples >= self._AUTO_DROPOUT_ROWS:
            return 0.0
        if self._batch_size_for(n_samples) >= n_samples:
            return 0.0
        return self._AUTO_DROPOUT

    # ``spline_knots="auto"``: more knots from _AUTO_KNOTS_ROWS training rows on.
    _AUTO_KNOTS = 8
    _AUTO_KNOTS_MANY_ROWS = 12
    _AUTO_KNOTS_ROWS = 400

    def _knots_for(self, n_samples):
        """Spline knots of a fit on ``n_samples`` rows (None: unknown); None: no splines.

        ``"auto"``: 8 knots below 400 training rows, 12 from 400 on; 8 where
        the total rows are unknown (``partial_fit``).
        """
        if self.spline_knots != "auto":
            return self.spline_knots
        if n_samples is None or n_samples < self._AUTO_KNOTS_ROWS:
            return self._AUTO_KNOTS
        return self._AUTO_KNOTS_MANY_ROWS

    def _batch_size_for(self, n_samples):
        """Rows per step: ``"auto"`` aims at >= 10 steps per epoch.

        Never fewer than 64 rows (so that up to 64 rows train as one full
        batch, where a weight of k is exactly k copies of a row) nor more
        than 200 (scikit-learn's MLP default). A whole fit's steps on many
        rows grow beyond that: see :meth:`_steps_for`.
        """
        if self.batch_size == "auto":
            return min(n_samples, max(64, min(200, -(-n_samples // 10))))
        return min(self.batch_size, n_samples)

    # ``batch_size="auto"`` on many rows: a step of 1% of them, at most
    # _AUTO_LARGE_BATCH (an epoch's arithmetic costs no less beyond it).
    _AUTO_LARGE_BATCH = 512

    def _steps_for(self, n_samples):
        """Rows per step and learning rate of a fit on ``n_samples`` rows.

        ``batch_size="auto"``: :meth:`_batch_size_for`'s up to 20,000 rows,
        then 1% of the rows (at most 512), where a step's cost grows with
        its rows; the learning rate grows in proportion (the linear scaling
        rule), so that ``optimizer__learning_rate`` stays the rate of a
        200-row step.
        """
        batch_size = self._batch_size_for(n_samples)
        # Keras optimizers refuse an int learning rate.
        rate = float(self.optimizer__learning_rate)
        if self.batch_size == "auto":
            large = min(self._AUTO_LARGE_BATCH, -(-n_samples // 100))
            if large > batch_size:
                return large, rate * large / batch_size
        return batch_size, rate

    def _validation_split(self, Xt, target, sample_weight, seed, *, in_place=False):
        """Training rows (in their original order) and the held-out ``validation``.

        ``in_place``: ``Xt`` is the fit's own array, and its training rows
        are moved to its front instead of copied, where TensorFlow can share
        it; the validation rows are copied first.
        """
        n_samples = Xt.shape[0]
        n_val = int(np.ceil(self.validation_fraction * n_samples))
        if n_val < 1 or n_samples - n_val < 1:
            raise ValueError(
                f"early_stopping needs at least one training and one validation sample; "
                f"got {n_samples} samples with validation_fraction={self.validation_fraction}."
            )
        indices = np.arange(n_samples)
        train, val = train_test_split(
            indices,
            test_size=n_val,
            random_state=seed,
            shuffle=True,
            stratify=self._strata(target, n_val),
        )
        train.sort()
        weights = None if sample_weight is None else sample_weight[val]
        validation = (Xt[val], target[val]) if weights is None else (Xt[val], target[val], weights)
        reconstructs = target is Xt  # self-supervised: the features are the target
        if in_place and is_aligned(Xt):
            X_train = compact_rows(Xt, train)
        else:
            # The one copy of the training rows, aligned so that TensorFlow
            # shares it instead of copying it again (see training._arrays).
            X_train = aligned_take(Xt, train)
        target_train = X_train if reconstructs else aligned_take(target, train)
        sw_train = None if sample_weight is None else aligned_take(sample_weight, train)
        return X_train, target_train, sw_train, validation

    def _strata(self, target, n_val):
        """Class of each row, to stratify the validation split by, or None."""
        if self._label_kind not in ("binary", "multiclass"):
            return None
        codes = target[:, 0].astype(int) if self._label_kind == "binary" else target.argmax(1)
        counts = np.bincount(codes, minlength=len(self.classes_))
        for label, count in zip(self.classes_.tolist(), counts):
            if count == 1:
                raise ValueError(
                    f"{type(self).__name__}: the class {label!r} has a single training "
                    "row, which a stratified validation split cannot place. Pass "
                    "early_stopping=False, or give the class more rows."
                )
        n_present = int(np.count_nonzero(counts))
        if n_val < n_present or len(codes) - n_val < n_present:
            raise ValueError(
                f"{type(self).__name__}: early stopping holds out {n_val} of {len(codes)} "
                f"rows, stratified by class, but y has {n_present} classes: both parts need "
                "a row of each. Change validation_fraction, or pass early_stopping=False."
            )
        return codes

    def _make_block(self, Xt, output_dim, seed=None, n_rows=None):
        """A fresh block for the features ``Xt`` (the training rows, or some of them).

        ``n_rows``: the rows it will train on per epoch (None: unknown).
        """
        from ..model._block import SFNEBlock

        splines = {}
        knots = self._knots_for(n_rows)
        if knots is not None:
            splines = {
                "spline_columns": many_valued_columns(Xt).tolist(),
                "spline_knots": knots,
            }
        return SFNEBlock(
            input_dim=Xt.shape[1],
            output_dim=output_dim,
            hidden_dim=self.hidden_dim,
            num_layers=self.num_layers,
            slow_network_layers=self.slow_network_layers,
            slow_network_units=self.slow_network_units,
            dtype=np.dtype(self._dtype).name,
            seed=seed,
            n_members=self._members_for(n_rows),
            dropout=self._dropout_for(n_rows),
            **splines,
        )

    def _block_output_dim(self, n_outputs):
        """Width of the block's output for a target with ``n_outputs`` columns.

        The block's outputs are the predictions (one per target column, or
        the logits); the transformer's are its features instead.
        """
        return n_outputs

    def _training_head(self, n_outputs, dtype_policy, seed=None):
        """Layer trained on top of the block and dropped afterwards, or None."""
        return None

    def _set_fitted_model(self, model):
        self.model_ = model
        # Predictions compute in the results' float type: float32 weights are
        # exact in float64, whose products do not vary with the rows' order or
        # count as float32's (about 1e-7) do.
        self._forward = NumpyForward.from_block(model, dtype=self._output_dtype)

    # ----------------------------------------------------------- persistence
    # A pickle holds the Keras model as its config and weights (inside
    # sfne_sklearn.save, as a .keras file) beside the NumPy forward pass that
    # predicts. Pickle, joblib and deepcopy so work without scikeras's global
    # patches, and unpickling to predict imports no Keras: the model is
    # rebuilt when something asks for ``model_``. The library versions are
    # recorded to warn when loading under others.
    def __getstate__(self):
        if "_model_state" in self.__dict__ and in_archive():
            self.model_  # sfne_sklearn.save stores the model as a .keras file
        state = dict(super().__getstate__())
        # partial_fit's compiled model travels as its weights and optimizer state.
        trainer_to_state(state)
        loaded = state.pop("_model_state", None)
        model = state.get("model_")
        if model is not None:
            state["model_"] = model_to_state(model)
            state["_sfne_versions"] = library_versions()
        elif loaded is not None:
            # Never rebuilt since it was loaded: its Keras side is as saved.
            state["model_"] = loaded["state"]
            state["_sfne_versions"] = {**loaded["versions"], **library_versions(model=False)}
        else:
            state["_sfne_versions"] = library_versions(model=False)
        if in_archive():
            # Rebuilt from the .keras file by load(), which needs Keras anyway.
            state.pop("_forward", None)
        return state

    # Parameters added after release 0.1.0, with the values that reproduce
    # what an estimator pickled before them did.
    _EARLIER_PARAMETERS = {
        "spline_knots": None,
        "learning_rate_schedule": "constant",
        "n_members": 1,
        "dropout": 0.0,
    }

    def __setstate__(self, state):
        state = {**self._EARLIER_PARAMETERS, **state}
        if "dtype" not in state:
            # Before ``dtype``, the network computed in the features' float type.
            state["dtype"] = "float32" if state.get("_dtype") == np.float32 else "float64"
            if "_dtype" in state:
                state["_output_dtype"] = state["_dtype"]
        versions = state.pop("_sfne_versions", None) or {}
        saved = state.pop("model_", None)
        super().__setstate__(state)
        what = f"This {type(self).__name__}"
        if isinstance(saved, dict) and "_forward" in state and not in_archive():
            check_versions(versions, what, part="rest")
            self._model_state = {"state": saved, "versions": versions, "what": what}
            return
        # Without a model (unfitted) there is no Keras side to compare.
        check_versions(versions, what, part="all" if saved is not None else "rest")
        if isinstance(saved, dict):
            # Written before the NumPy forward pass existed, or by save().
            self._set_fitted_model(model_from_state(saved))
        elif saved is not None:
            self.model_ = saved

    def __getattr__(self, name):
        # Only called for attributes not found: ``model_`` of an unpickled
        # estimator, rebuilt (once, under a lock) at its first use.
        if name == "model_" and "_model_state" in self.__dict__:
            with _REBUILD_LOCK:
                loaded = self.__dict__.pop("_model_state", None)
                if loaded is not None:
                    require_keras(f"{type(self).__name__}.model_")
                    check_versions(loaded["versions"], loaded["what"], part="model")
                    self.model_ = model_from_state(loaded["state"])
            return self.__dict__["model_"]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


_REBUILD_LOCK = threading.Lock()

_FLOAT_DTYPES = (np.float64, np.float32)


def _as_model_input(Xt, dtype):
    """Preprocessed features as a 2-D array of ``dtype``, checked."""
    if _passes_check_array(Xt, (dtype,)):
        return Xt
    return check_array(Xt, dtype=dtype, input_name="X after preprocessing")


def _passes_check_array(X, dtypes, n_features=None):
    """Whether ``check_array`` would return ``X`` itself, checked in a few µs.

    True for a 2-D ndarray of one of ``dtypes`` with at least one row,
    ``n_features`` columns (at least one where None) and only finite
    values. False does not mean invalid: the caller then validates ``X``
    the full way, which raises scikit-learn's own errors.

    Parameters
    ----------
    X : object
        The input.
    dtypes : tuple of numpy dtypes
        Dtypes that ``check_array`` keeps as they are.
    n_features : int or None, default=None
        The number of columns expected.

    Returns
    -------
    bool
    """
    if type(X) is not np.ndarray or X.ndim != 2 or X.dtype not in dtypes:
        return False
    n_samples, n_columns = X.shape
    columns_match = n_columns >= 1 if n_features is None else n_columns == n_features
    if n_samples < 1 or not columns_match:
        return False
    # A finite sum means no NaN and no infinity; one that overflows (or
    # adds infinities of both signs) sends X the full way, silently.
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.add.reduce(X, axis=None)))


def _has_fitted_names(estimator, X):
    """Whether the columns of the DataFrame ``X`` are ``feature_names_in_``, in order.

    Such a frame passes validate_data's checks of names and count.
    """
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is None:
        return False
    names = X.columns.tolist()
    # Names that are not all str are no feature names to scikit-learn.
    return names == fitted.tolist() and all(type(name) is str for name in names)
