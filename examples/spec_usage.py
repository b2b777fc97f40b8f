"""The spec's "Usage Example" of SFNEBlock, run as is.

Only the import line differs from the spec (``kerasfactory.models`` ->
``sfne_sklearn``). Expected last line of output: ``(100, 8)``.
"""

from sfne_sklearn import SFNEBlock
import keras
import numpy as np

# Create model
model = SFNEBlock(
    input_dim=16,
    output_dim=8,
    hidden_dim=64,
    num_layers=2,
    slow_network_layers=3,
    slow_network_units=128
)

# Compile
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.001),
    loss='mse',
    metrics=['mae']
)

# Generate dummy data
X_train = np.random.randn(100, 16).astype('float32')
y_train = np.random.randn(100, 8).astype('float32')

# Train
model.fit(X_train, y_train, epochs=10, batch_size=32)

# Predict
predictions = model.predict(X_train)
print(predictions.shape)  # (100, 8)
