"""The SFNEBlock Keras model."""

import os
import shutil
import tempfile

import keras
import numpy as np
from keras import ops

from .._validation import check_positive_int, check_rate
from ..layers import HyperZZWOperator, MemberHeads, MemberScaling, SlowNetwork, SplineEncoding


@keras.saving.register_keras_serializable(package="sfne_sklearn")
class SFNEBlock(keras.Model):
    """Slow-Fast Neural Engine block for tabular features.

    A tabular adaptation of the Terminator block of "HyperZ.Z.W Operator
    Connects Slow-Fast Networks for Full Context Interaction" (arXiv
    2401.17948). The eight steps of the architecture flow:

    1. **Input processing**: ``Dense(hidden_dim)`` maps the features to ``Z``
       (with ``spline_columns``, the features and cubic B-spline encodings of
       those columns, see :class:`~sfne_sklearn.layers.SplineEncoding`).
    2. **Hidden layers**: ``num_layers`` residual ``Dense(hidden_dim, relu)``.
    3. **Slow network**: a coordinate MLP (:class:`~sfne_sklearn.layers.SlowNetwork`)
       generates a global hyper-kernel (``hidden_dim`` taps) and a local one
       (``local_kernel_size`` taps) from the kernel coordinates alone.
    4. **HyperZZWOperator**: each hyper-kernel is convolved with the
       (layer-normalised) activations of the sample, giving context-dependent
       weights that then multiply the activations.
    5. **Global convolution**: the operator with the circular, full-length
       kernel: every hidden unit sees every other one.
    6. **Local convolution**: the operator with the short kernel.
    7. **Combination**: ``Dense(hidden_dim)`` over both branches, added back
       to ``Z`` (residual).
    8. **Output projection**: ``Dense(output_dim)``.

    With ``n_members`` above 1 the block is an ensemble that shares these
    weights (TabM-mini, Gorishniy et al., 2024): each member scales the
    inputs of step 1 by its own trained vector (random signs at first) and
    projects with its own step 8; the block's output is the members' mean.
    ``block(x, members=True)`` gives each member's, which an ensemble trains
    on (each member's loss, averaged).

    The parameter count grows linearly with ``input_dim`` (only step 1 sees
    the raw features), and with ``len(spline_columns)``.

    Parameters
    ----------
    input_dim : int
        Number of input features (after ``preprocessing_model``, if given).
    output_dim : int, default=None
        Number of output features. Defaults to ``input_dim``.
    hidden_dim : int, default=64
        Width of the hidden representation ``Z``.
    num_layers : int, default=2
        Number of residual hidden dense layers.
    slow_network_layers : int, default=3
        Number of hidden layers of the slow network.
    slow_network_units : int, default=128
        Width of the slow network's hidden layers.
    preprocessing_model : keras.Model, default=None
        Optional model applied to the inputs first, for instance the one made
        by :meth:`sfne_sklearn.DataAnalyzer.create_preprocessing_model`, which
        maps a dict of raw columns to ``(batch, input_dim)`` features. It is
        saved with the block.
    name : str, default=None
        Model name.
    local_kernel_size : int, default=3
        Odd number of taps of the local convolution.
    seed : int, default=None
        Seeds the initial weights (each layer gets its own seed derived from
        it), without reading or changing any global random state. None:
        Keras's default, unseeded initialisation.
    spline_columns : sequence of int, default=None
        Input columns (numeric features, say) whose cubic B-spline encoding
        step 1 sees beside them. None: the features alone, as in the spec.
    spline_knots : int, default=8
        Knots per encoded column, spaced evenly over ``spline_range``.
    spline_range : (float, float), default=(-3.0, 3.0)
        Knot range of the encoded columns (standardised features: three
        standard deviations either side); each end may also be a sequence,
        one value per encoded column. Beyond it the encoding is linear.
    n_members : int, default=1
        Members of the ensemble sharing the block's weights (see above); 1:
        the block of the spec. Each row goes through the shared layers once
        per member.
    dropout : float, default=0.0
        Dropout rate on the residual branches (the outputs of the hidden
        layers of step 2 and of the combination of step 7) while training;
        seeded from ``seed``. 0: none, the block of the spec.
    **kwargs
        Other :class:`keras.Model` arguments, such as ``dtype="float64"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sfne_sklearn import SFNEBlock
    >>> model = SFNEBlock(input_dim=16, output_dim=8)
    >>> tuple(model(np.zeros((4, 16), dtype="float32")).shape)
    (4, 8)
    """

    def __init__(
        self,
        input_dim,
        output_dim=None,
        hidden_dim=64,
        num_layers=2,
        slow_network_layers=3,
        slow_network_units=128,
        preprocessing_model=None,
        name=None,
        local_kernel_size=3,
        seed=None,
        spline_columns=None,
        spline_knots=8,
        spline_range=(-3.0, 3.0),
        n_members=1,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.seed = seed
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.output_dim = check_positive_int(
            self.input_dim if output_dim is None else output_dim, "output_dim"
        )
        self.hidden_dim = check_positive_int(hidden_dim, "hidden_dim")
        self.num_layers = check_positive_int(num_layers, "num_layers")
        self.slow_network_layers = check_positive_int(slow_network_layers, "slow_network_layers")
        self.slow_network_units = check_positive_int(slow_network_units, "slow_network_units")
        self.n_members = check_positive_int(n_members, "n_members")
        self.dropout = check_rate(dropout, "dropout")
        if preprocessing_model is not None and not isinstance(preprocessing_model, keras.Model):
            raise TypeError(
                "`preprocessing_model` must be a keras.Model or None. "
                f"Received: preprocessing_model={preprocessing_model!r}"
            )
        self.preprocessing_model = preprocessing_model

        policy = self.dtype_policy
        # Plain lists and floats, as the config's JSON gives them back.
        low, high = (np.asarray(end, dtype=float).tolist() for end in spline_range)
        self.spline_range, self.spline_knots = [low, high], spline_knots
        self.spline_columns, self.splines = None, None
        if spline_columns is not None and len(spline_columns):
            self.splines = SplineEncoding(
                spline_columns, spline_knots, low, high, name="splines", dtype=policy
            )
            self.spline_columns = self.splines.columns
        seeds = _seeds(seed)
        self.input_projection = keras.layers.Dense(
            self.hidden_dim,
            kernel_initializer=_glorot(next(seeds)),
            name="input_projection",
            dtype=policy,
        )
        self.hidden_layers = [
            keras.layers.Dense(
                self.hidden_dim,
                activation="relu",
                kernel_initializer=_glorot(next(seeds)),
                name=f"hidden_{i}",
                dtype=policy,
            )
            for i in range(self.num_layers)
        ]
        self.slow_network = SlowNetwork(
            num_layers=self.slow_network_layers,
            units=self.slow_network_units,
            kernel_channels=2,  # one global and one local hyper-kernel
            seed=next(seeds),
            name="slow_network",
            dtype=policy,
        )
        self.norm = keras.layers.LayerNormalization(name="norm", dtype=policy)
        self.global_conv = HyperZZWOperator(kernel_size=None, name="global_conv", dtype=policy)
        self.local_conv = HyperZZWOperator(
            kernel_size=local_kernel_size, name="local_conv", dtype=policy
        )
        self.local_kernel_size = self.local_conv.kernel_size
        self.combine = keras.layers.Dense(
            self.hidden_dim, kernel_initializer=_glorot(next(seeds)), name="combine", dtype=policy
        )
        self.output_norm = keras.layers.LayerNormalization(name="output_norm", dtype=policy)
        output_seed = next(seeds)
        self.member_scaling = None
        if self.n_members == 1:
            self.output_projection = keras.layers.Dense(
                self.output_dim,
                kernel_initializer=_glorot(output_seed),
                name="output_projection",
                dtype=policy,
            )
        else:
            self.member_scaling = MemberScaling(
                self.n_members, seed=next(seeds), name="member_scaling", dtype=policy
            )
            self.output_projection = MemberHeads(
                self.n_members, self.output_dim, seed=output_seed, name="output_projection",
                dtype=policy,
            )
        # Seeded after every weight, so that a block without dropout draws
        # the same initial weights as before it existed.
        self.branch_dropout = None
        if self.dropout > 0:
            self.branch_dropout = keras.layers.Dropout(
                self.dropout, seed=next(seeds), name="branch_dropout", dtype=policy
            )
        # The kernel coordinates are fixed: relative offsets of the global
        # taps (0..H-1) then of the local taps (-r..r), scaled by H.
        radius = self.local_kernel_size // 2
        offsets = np.concatenate([np.arange(self.hidden_dim), np.arange(-radius, radius + 1)])
        self._coordinates = (offsets / self.hidden_dim)[:, None]
        # Built now so that weights exist before the first call: a fresh block
        # can `load_weights` straight away, as in the spec.
        self.build((None, self.input_dim))

    def build(self, input_shape=None):
        hidden = (None, self.hidden_dim)
        width = self.input_dim
        if self.splines is not None:
            self.splines.build((None, self.input_dim))
            width += self.splines.n_outputs
        if self.member_scaling is not None:
            self.member_scaling.build((None, width))
        self.input_projection.build((None, width))
        for layer in self.hidden_layers:
            layer.build(hidden)
        self.slow_network.build(self._coordinates.shape)
        self.norm.build(hidden)
        self.global_conv.build([hidden, (self.hidden_dim,)])
        self.local_conv.build([hidden, (self.local_kernel_size,)])
        self.combine.build((None, 2 * self.hidden_dim))
        self.output_norm.build(hidden)
        self.output_projection.build(hidden)
        self.built = True

    def _features(self, inputs):
        if self.preprocessing_model is not None:
            inputs = self.preprocessing_model(inputs)
        elif isinstance(inputs, dict):
            raise ValueError(
                "SFNEBlock received a dict of inputs but has no `preprocessing_model` "
                "to turn it into features. Pass an array of shape (batch, input_dim)."
            )
        n_features = inputs.shape[-1]
        if n_features is not None and n_features != self.input_dim:
            raise ValueError(
                f"SFNEBlock '{self.name}' expects {self.input_dim} input features "
                f"(input_dim={self.input_dim}), but received {n_features} features "
                f"(input shape {tuple(inputs.shape)})."
            )
        return inputs

    def hyper_weights(self):
        """Steps 3-4 without the data: the slow network's convolution matrices.

        Returns the global and the local ``(hidden_dim, hidden_dim)``
        matrices made from the hyper-kernels. They depend on the weights
        only, so a fitted model can compute them once and reuse them for
        every prediction (see :meth:`fast_forward`).
        """
        # Step 3: the slow network makes both hyper-kernels from coordinates.
        kernels = self.slow_network(ops.convert_to_tensor(self._coordinates, self.compute_dtype))
        global_kernel = kernels[: self.hidden_dim, 0]
        local_kernel = kernels[self.hidden_dim :, 1]
        return (
            self.global_conv.kernel_matrix(global_kernel),
            self.local_conv.kernel_matrix(local_kernel),
        )

    def fast_forward(self, inputs, global_weights, local_weights, members=False, training=False):
        """The data path of the block, given :meth:`hyper_weights`.

        ``members``: with ``n_members`` above 1, return each member's
        outputs, ``(batch, n_members, output_dim)``, instead of their mean.
        ``training``: apply ``dropout``.
        """

        def branch(outputs):
            if self.branch_dropout is None or not training:
                return outputs
            return self.branch_dropout(outputs, training=True)

        x = ops.cast(self._features(inputs), self.compute_dtype)
        if self.splines is not None:
            x = self.splines(x)
        if self.member_scaling is not None:
            x = self.member_scaling(x)  # the members' rows, one after another
        # Steps 1-2: fast network, input projection and residual hidden layers.
        z = self.input_projection(x)
        for layer in self.hidden_layers:
            z = z + branch(layer(z))
        # Steps 4-6: HyperZ.Z.W with the global and the local hyper-kernel.
        zn = self.norm(z)
        global_features = self.global_conv([zn, global_weights])
        local_features = self.local_conv([zn, local_weights])
        # Step 7: combine both branches, residual onto Z.
        z = z + branch(self.combine(ops.concatenate([global_features, local_features], axis=-1)))
        # Step 8: project to output_dim, from normalised features so that
        # outlying rows cannot produce outputs far off the training range.
        outputs = self.output_projection(self.output_norm(z))
        if self.member_scaling is None or members:
            return outputs
        return ops.mean(outputs, axis=1)

    def call(self, inputs, training=None, members=False):
        return self.fast_forward(
            inputs, *self.hyper_weights(), members=members, training=bool(training)
        )

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict):
            batch = next(iter(input_shape.values()))[0]
        else:
            batch = input_shape[0]
        return (batch, self.output_dim)

    def compute_output_spec(self, inputs, training=None, members=False):
        shape = self.compute_output_shape(keras.tree.map_structure(lambda x: x.shape, inputs))
        if members and self.n_members > 1:
            shape = (shape[0], self.n_members, self.output_dim)
        return keras.KerasTensor(shape, dtype=self.compute_dtype)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.saving.serialize_keras_object(self.dtype_policy),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "slow_network_layers": self.slow_network_layers,
            "slow_network_units": self.slow_network_units,
            "local_kernel_size": self.local_kernel_size,
            "seed": self.seed,
            "spline_columns": self.spline_columns,
            "spline_knots": self.spline_knots,
            "spline_range": self.spline_range,
            "n_members": self.n_members,
            "dropout": self.dropout,
            "preprocessing_model": (
                None
                if self.preprocessing_model is None
                else keras.saving.serialize_keras_object(self.preprocessing_model)
            ),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("preprocessing_model") is not None:
            config["preprocessing_model"] = keras.saving.deserialize_keras_object(
                config["preprocessing_model"]
            )
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.saving.deserialize_keras_object(config["dtype"])
        return cls(**config)

    # Keras 3 only writes weight files named ``*.weights.h5``; the spec (and
    # Keras 2 habit) uses plain ``*.h5``. Those names go through a temporary
    # ``.weights.h5`` file so that both spellings work with the same format.
    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        if not _is_plain_h5(filepath) or max_shard_size is not None:
            return super().save_weights(filepath, overwrite=overwrite, max_shard_size=max_shard_size)
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(f"{filepath} exists and overwrite=False.")
        with tempfile.TemporaryDirectory() as tmp:
            staged = os.path.join(tmp, "model.weights.h5")
            super().save_weights(staged)
            shutil.move(staged, os.fspath(filepath))

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        if not _is_plain_h5(filepath):
            return super().load_weights(filepath, skip_mismatch=skip_mismatch, **kwargs)
        with tempfile.TemporaryDirectory() as tmp:
            staged = os.path.join(tmp, "model.weights.h5")
            # A copy, not a link: links are not allowed everywhere (Windows
            # without developer mode, some network file systems).
            shutil.copyfile(filepath, staged)
            return super().load_weights(staged, skip_mismatch=skip_mismatch, **kwargs)


def _seeds(seed):
    """One seed per layer, derived from ``seed`` (None: unseeded)."""
    if seed is None:
        while True:
            yield None
    rng = np.random.default_rng(seed)
    while True:
        yield int(rng.integers(1, 2**31 - 1))


def _glorot(seed):
    # Keras's default kernel initialiser, seeded explicitly when asked.
    return keras.initializers.GlorotUniform(seed=seed)


def _is_plain_h5(filepath):
    path = os.fspath(filepath)
    return path.endswith((".h5", ".hdf5")) and not path.endswith(".weights.h5")
