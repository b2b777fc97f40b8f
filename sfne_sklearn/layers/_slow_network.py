"""The slow network: an implicit MLP from kernel coordinates to hyper-kernels."""

import math

import keras
import numpy as np
from keras import ops

from .._validation import check_positive_int


@keras.saving.register_keras_serializable(package="sfne_sklearn")
class SlowNetwork(keras.layers.Layer):
    """Coordinate-based MLP that generates hyper-kernels.

    This is the "slow" network of the HyperZ.Z.W paper (arXiv 2401.17948): it
    does not look at the data. It maps the coordinate of each kernel tap (a
    relative offset, scaled to about ``[-1, 1]``) through random-free Fourier
    features and ``num_layers`` dense layers to ``kernel_channels`` values, so
    a whole kernel of any length is one implicit function of position whose
    parameter count does not depend on the kernel length.

    Args:
        num_layers: Number of hidden dense layers. Positive int.
        units: Width of each hidden layer. Positive int.
        kernel_channels: Number of kernels generated per coordinate (one
            output channel per kernel). Positive int.
        num_frequencies: Number of octaves ``2**k * pi`` in the Fourier
            encoding of the coordinates. Positive int.
        seed: Seeds the initial weights (None: Keras's unseeded default).
        **kwargs: Base layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        ``(n_coordinates, 1)``: the coordinates of the kernel taps.

    Output shape:
        ``(n_coordinates, kernel_channels)``: the hyper-kernel values.

    Example:
        >>> import numpy as np
        >>> net = SlowNetwork(num_layers=2, units=16, kernel_channels=2)
        >>> coords = np.linspace(-1, 1, 9, dtype="float32")[:, None]
        >>> tuple(net(coords).shape)
        (9, 2)
    """

    def __init__(
        self,
        num_layers=3,
        units=128,
        kernel_channels=1,
        num_frequencies=8,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.seed = seed
        self.num_layers = check_positive_int(num_layers, "num_layers")
        self.units = check_positive_int(units, "units")
        self.kernel_channels = check_positive_int(kernel_channels, "kernel_channels")
        self.num_frequencies = check_positive_int(num_frequencies, "num_frequencies")
        # One seed per layer, derived from ``seed``.
        seeds = [None] * (self.num_layers + 1)
        if seed is not None:
            seeds = np.random.default_rng(seed).integers(1, 2**31 - 1, self.num_layers + 1)
        self.hidden_layers = [
            keras.layers.Dense(
                self.units,
                activation="gelu",
                kernel_initializer=keras.initializers.GlorotUniform(
                    seed=None if seeds[i] is None else int(seeds[i])
                ),
                name=f"slow_dense_{i}",
                dtype=self.dtype_policy,
            )
            for i in range(self.num_layers)
        ]
        # Small initial kernels keep the quadratic HyperZ.Z.W term gentle at the
        # start of training; the fast path then learns how much to use it.
        self.kernel_head = keras.layers.Dense(
            self.kernel_channels,
            kernel_initializer=keras.initializers.VarianceScaling(
                0.1, seed=None if seeds[-1] is None else int(seeds[-1])
            ),
            name="hyper_kernel",
            dtype=self.dtype_policy,
        )

    def build(self, input_shape):
        features = 2 * self.num_frequencies + 1
        shape = (input_shape[0], features)
        for layer in self.hidden_layers:
            layer.build(shape)
            shape = (input_shape[0], self.units)
        self.kernel_head.build(shape)

    def _encode(self, coordinates):
        # Fourier features let a small MLP represent kernels that vary quickly
        # from one tap to the next (spectral bias of plain coordinate MLPs).
        octaves = math.pi * 2.0 ** np.arange(self.num_frequencies)
        angles = coordinates * ops.convert_to_tensor(octaves, coordinates.dtype)
        return ops.concatenate([coordinates, ops.sin(angles), ops.cos(angles)], axis=-1)

    def call(self, coordinates):
        h = self._encode(ops.cast(coordinates, self.compute_dtype))
        for layer in self.hidden_layers:
            h = layer(h)
        return self.kernel_head(h)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.kernel_channels)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_layers=self.num_layers,
            units=self.units,
            kernel_channels=self.kernel_channels,
            num_frequencies=self.num_frequencies,
            seed=self.seed,
        )
        return config
