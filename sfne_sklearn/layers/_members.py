"""An ensemble of members sharing one network (TabM-mini, Gorishniy et al., 2024).

Each member sees the inputs scaled by its own vector (random signs at first,
then trained) and has its own output projection; every layer in between is
shared. Rows go through the shared layers once per member, so the members
cost arithmetic, not steps, tracing or Python calls.
"""

import keras
import numpy as np
from keras import ops

from .._validation import check_positive_int


@keras.saving.register_keras_serializable(package="sfne_sklearn")
class MemberScaling(keras.layers.Layer):
    """Scale the inputs by each member's vector, the members stacked along the rows.

    Args:
        n_members: Number of members, at least 2.
        seed: Seeds the members' initial random signs. None: unseeded.
        **kwargs: Base layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        ``(batch, width)``.

    Output shape:
        ``(n_members * batch, width)``: member 0's rows, then member 1's...

    Example:
        >>> import numpy as np
        >>> layer = MemberScaling(n_members=3, seed=0)
        >>> tuple(layer(np.ones((2, 5), dtype="float32")).shape)
        (6, 5)
    """

    def __init__(self, n_members, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.n_members = check_positive_int(n_members, "n_members")
        self.seed = seed

    def build(self, input_shape):
        signs = np.random.default_rng(self.seed).choice([-1.0, 1.0], (self.n_members, input_shape[-1]))
        self.scales = self.add_weight(
            shape=signs.shape, initializer=keras.initializers.Constant(signs), name="scales"
        )

    def call(self, inputs):
        scaled = ops.expand_dims(inputs, 0) * ops.expand_dims(self.scales, 1)
        return ops.reshape(scaled, (-1, ops.shape(inputs)[-1]))

    def compute_output_shape(self, input_shape):
        batch = None if input_shape[0] is None else self.n_members * input_shape[0]
        return (batch, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "n_members": self.n_members, "seed": self.seed}


@keras.saving.register_keras_serializable(package="sfne_sklearn")
class MemberHeads(keras.layers.Layer):
    """One dense output projection per member.

    Args:
        n_members: Number of members.
        units: Outputs of each member.
        seed: Seeds the kernels (each member's as a Glorot-uniform
            ``Dense(units)`` kernel would be). None: unseeded.
        **kwargs: Base layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        ``(n_members * batch, width)``, as :class:`MemberScaling` stacks them.

    Output shape:
        ``(batch, n_members, units)``.

    Example:
        >>> import numpy as np
        >>> layer = MemberHeads(n_members=3, units=2, seed=0)
        >>> tuple(layer(np.ones((6, 5), dtype="float32")).shape)
        (2, 3, 2)
    """

    def __init__(self, n_members, units, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.n_members = check_positive_int(n_members, "n_members")
        self.units = check_positive_int(units, "units")
        self.seed = seed

    def build(self, input_shape):
        width = input_shape[-1]
        seeds = np.random.default_rng(self.seed).integers(1, 2**31 - 1, self.n_members)

        def glorot(shape, dtype=None):
            # Keras's Glorot on a 3-D shape would count the members in its
            # fans: initialise each member as its own Dense kernel instead.
            return ops.stack([
                keras.initializers.GlorotUniform(seed=None if self.seed is None else int(s))(
                    (width, self.units), dtype=dtype
                )
                for s in seeds
            ])

        self.kernel = self.add_weight(
            shape=(self.n_members, width, self.units), initializer=glorot, name="kernel"
        )
        self.bias = self.add_weight(
            shape=(self.n_members, self.units), initializer="zeros", name="bias"
        )

    def call(self, inputs):
        by_member = ops.reshape(inputs, (self.n_members, -1, ops.shape(inputs)[-1]))
        outputs = ops.einsum("kbh,khu->bku", by_member, self.kernel)
        return outputs + self.bias

    def compute_output_shape(self, input_shape):
        batch = None if input_shape[0] is None else input_shape[0] // self.n_members
        return (batch, self.n_members, self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "n_members": self.n_members,
            "units": self.units,
            "seed": self.seed,
        }
