"""The HyperZ.Z.W operator: hyper-kernels become context-dependent weights."""

import keras
import numpy as np
from keras import ops

from .._validation import check_positive_int


@keras.saving.register_keras_serializable(package="sfne_sklearn")
class HyperZZWOperator(keras.layers.Layer):
    """Turn a hyper-kernel into context-dependent fast weights and apply them.

    For hidden activations ``Z`` of shape ``(batch, length)`` and a
    hyper-kernel ``K`` produced by the slow network, the operator computes

    1. the context-dependent weights ``W = K * Z``: the hyper-kernel convolved
       with the activations of the same sample (the "hyper Z"), and
    2. the output ``Z . W``: those weights multiplied element-wise with ``Z``.

    Each output unit is therefore ``z_i * sum_j K[i - j] z_j``: a weight for
    ``z_i`` that depends on the whole (global) or the neighbourhood (local)
    of the sample's own activations. With ``kernel_size=None`` the convolution
    is circular over all ``length`` positions (the global branch); with an odd
    ``kernel_size`` it is a zero-padded "same" convolution over
    ``kernel_size`` taps (the local branch). Both run as one matrix product
    with a Toeplitz matrix gathered from the kernel, so the cost is linear in
    the batch size and does not depend on the number of input features.

    Args:
        kernel_size: ``None`` for the global branch, or a positive odd int
            for a local kernel of that many taps.
        **kwargs: Base layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        A list ``[z, kernel]``: ``z`` of shape ``(batch, length)`` and
        ``kernel`` of shape ``(length,)`` (global) or ``(kernel_size,)``
        (local, taps for offsets ``-r..r``), or the ``(length, length)``
        matrix returned by :meth:`kernel_matrix`.

    Output shape:
        ``(batch, length)``.

    Example:
        >>> import numpy as np
        >>> op = HyperZZWOperator(kernel_size=3)
        >>> z = np.ones((2, 5), dtype="float32")
        >>> kernel = np.array([0.0, 1.0, 0.0], dtype="float32")  # identity tap
        >>> out = op([z, kernel])
        >>> tuple(out.shape)
        (2, 5)
    """

    def __init__(self, kernel_size=None, **kwargs):
        super().__init__(**kwargs)
        if kernel_size is not None:
            kernel_size = check_positive_int(kernel_size, "kernel_size")
            if kernel_size % 2 == 0:
                raise ValueError(
                    f"`kernel_size` must be odd so that the kernel is centred. "
                    f"Received: kernel_size={kernel_size}"
                )
        self.kernel_size = kernel_size

    def build(self, input_shape):
        z_shape, _ = input_shape
        length = z_shape[-1]
        if length is None:
            raise ValueError("HyperZZWOperator needs a known feature length.")
        self.length = int(length)
        # taps[j, i] is the kernel index that links input j to output i.
        offset = np.arange(self.length)[None, :] - np.arange(self.length)[:, None]
        if self.kernel_size is None:
            taps = offset % self.length
        else:
            radius = self.kernel_size // 2
            # Offsets outside the window point at an extra zero tap.
            taps = np.where(np.abs(offset) <= radius, offset + radius, self.kernel_size)
        self._taps = taps.astype("int32")

    @property
    def num_taps(self):
        """Number of kernel values the operator expects."""
        return self.length if self.kernel_size is None else self.kernel_size

    def kernel_matrix(self, kernel):
        """The ``(length, length)`` convolution matrix of a hyper-kernel.

        Entry ``[j, i]`` links input ``j`` to output ``i``. It depends on the
        slow network's weights only, so inference can compute it once.
        """
        kernel = ops.reshape(kernel, (-1,))
        # Scale by 1/sqrt(taps) so that K * Z has unit variance at the start.
        kernel = kernel / ops.sqrt(ops.cast(self.num_taps, kernel.dtype))
        if self.kernel_size is not None:
            kernel = ops.concatenate([kernel, ops.zeros((1,), dtype=kernel.dtype)])
        return ops.take(kernel, ops.convert_to_tensor(self._taps), axis=0)

    def call(self, inputs):
        """Apply the operator to ``[z, kernel]``.

        ``kernel`` is either the hyper-kernel taps or a matrix already made
        by :meth:`kernel_matrix`.
        """
        z, kernel = inputs
        kernel = ops.cast(kernel, z.dtype)
        weights = kernel if len(kernel.shape) == 2 else self.kernel_matrix(kernel)
        context = ops.matmul(z, weights)  # W = K * Z, per sample
        return z * context  # Z . W

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(kernel_size=self.kernel_size)
        return config
