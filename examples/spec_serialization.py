"""The spec's "Serialization" example, run as is.

The spec's snippet uses ``model`` and ``keras`` from its usage example, so
that model (``input_dim=16, output_dim=8``) is built and briefly trained first,
with ``from sfne_sklearn import SFNEBlock`` in place of the spec's import.
The files are written to the current directory. The lines after the snippet
(not in the spec) check that both copies predict exactly like the original:

    Loaded model predictions identical: True
    Loaded weights predictions identical: True

``load_model`` needs no ``custom_objects``: importing ``sfne_sklearn``
registers its classes with Keras.
"""

import keras
import numpy as np

from sfne_sklearn import SFNEBlock

model = SFNEBlock(input_dim=16, output_dim=8)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
X_train = np.random.randn(100, 16).astype("float32")
y_train = np.random.randn(100, 8).astype("float32")
model.fit(X_train, y_train, epochs=2, batch_size=32, verbose=0)

# Save model
model.save('sfne_block_model.keras')

# Load model
loaded_model = keras.models.load_model('sfne_block_model.keras')

# Save weights only
model.save_weights('sfne_block_weights.h5')

# Load weights
model_new = SFNEBlock(input_dim=16, output_dim=8)
model_new.load_weights('sfne_block_weights.h5')

# --- Not in the spec: the copies predict exactly like the original. ---
# (Direct calls, not three models' predict loops: those would each trace a
# predict function and trip TensorFlow's retracing warning.)
def outputs(m):
    return keras.ops.convert_to_numpy(m(X_train, training=False))


original = outputs(model)
print("Loaded model predictions identical:", np.array_equal(outputs(loaded_model), original))
print("Loaded weights predictions identical:", np.array_equal(outputs(model_new), original))
