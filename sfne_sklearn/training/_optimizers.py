"""Adam over groups of a model's weights at once, for the TensorFlow train step.

Keras's Adam updates each variable on its own: about 35 graph operations a
variable (casts, powers, reads, the moment updates, the step), some 850 of
the default block's 1,500-operation train step. On CPU, TensorFlow's
executor costs more per operation than the arithmetic of a small variable,
and tracing those operations is half of a new architecture's trace.
:class:`FlatAdam` computes the same update on the small variables' gradients
laid end to end (one set of operations for all of them, then a slice and an
assignment each); a large variable keeps an update of its own, which can
start as soon as its gradient is ready.

The arithmetic is Keras's Adam's, element by element and in the same order,
so a fit gives the same weights, bit for bit (checked in the tests). Under
XLA (Keras on JAX) the per-variable updates are fused anyway; this is for
TensorFlow's graphs, where :class:`~sfne_sklearn.training._loop.CompiledModel`
uses it outside ``tf.distribute`` strategies (whose updates go through the
strategy, variable by variable).
"""

import itertools
import math

import keras
from keras import ops


class FlatAdam(keras.optimizers.Adam):
    """Keras's Adam, with the moments of the small variables in one vector each.

    Variables of at least ``LARGE`` entries keep moments of their own. For
    models whose variables share one float dtype, trained without a
    ``tf.distribute`` strategy, AMSGrad, gradient clipping, weight decay,
    EMA, loss scaling or gradient accumulation (arguments asking for them
    are refused).
    """

    _UNSUPPORTED = ("amsgrad", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm",
                    "use_ema", "loss_scale_factor", "gradient_accumulation_steps")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="flat_adam", **kwargs):
        unsupported = sorted(k for k in self._UNSUPPORTED if kwargs.get(k))
        if unsupported:
            raise ValueError(f"FlatAdam does not support {unsupported}; use keras.optimizers.Adam.")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, name=name, **kwargs)

    # Variables of at least this many entries keep moments and an update of
    # their own: their arithmetic, not the operations' count, is the cost,
    # and each can start as soon as its gradient is ready.
    LARGE = 4096

    def build(self, variables):
        if self.built:
            return
        # The base optimizer's bookkeeping, without Adam's per-variable moments.
        keras.optimizers.Optimizer.build(self, variables)
        dtypes = {keras.backend.standardize_dtype(v.dtype) for v in variables}
        if len(dtypes) != 1:
            raise ValueError(f"FlatAdam needs variables of one dtype; got {sorted(dtypes)}.")
        dtype = dtypes.pop()
        sizes = [math.prod(v.shape) for v in variables]
        small = [i for i, size in enumerate(sizes) if size < self.LARGE]
        large = [[i] for i, size in enumerate(sizes) if size >= self.LARGE]
        # Each group: its variables' indices, where each ends in the group's
        # vectors, and the group's two moments.
        self._groups = []
        for number, indices in enumerate(([small] if small else []) + large):
            size = sum(sizes[i] for i in indices)
            ends = list(itertools.accumulate(sizes[i] for i in indices))[:-1]
            moments = [
                self.add_variable((size,), dtype=dtype, name=f"{kind}_{number}")
                for kind in ("momentum", "velocity")
            ]
            self._groups.append((indices, ends, *moments))

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            with keras.name_scope(self.name):
                self.build(trainable_variables)
        # By each variable's place in the list the optimizer was built on.
        given = {}
        for grad, variable in zip(grads, trainable_variables, strict=True):
            if grad is None:
                raise ValueError(f"FlatAdam: no gradient for {variable.path}.")
            given[self._get_variable_index(variable)] = (grad, variable)
        with keras.name_scope(self.name):
            # The step size, once a step: every variable shares the dtype.
            dtype = self._groups[0][2].dtype
            lr = ops.cast(self.learning_rate, dtype)
            local_step = ops.cast(self.iterations + 1, dtype)
            beta_1_power = ops.power(ops.cast(self.beta_1, dtype), local_step)
            beta_2_power = ops.power(ops.cast(self.beta_2, dtype), local_step)
            alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
            for indices, ends, m, v in self._groups:
                grads_, variables = zip(*(given[i] for i in indices), strict=True)
                self._update(grads_, variables, ends, m, v, alpha)
        self.iterations.assign_add(1)

    def _update(self, grads, variables, ends, m, v, alpha):
        # Keras's Adam.update_step, on a group of variables at once.
        gradient = ops.concatenate(
            [ops.reshape(ops.cast(ops.convert_to_tensor(g), m.dtype), (-1,)) for g in grads]
        )
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        step = ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), self.epsilon))
        parts = ops.split(step, ends) if ends else [step]
        for variable, part in zip(variables, parts, strict=True):
            self.assign_sub(variable, ops.reshape(part, variable.shape))
