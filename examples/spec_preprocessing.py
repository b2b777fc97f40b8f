"""The spec's "With Preprocessing Model" example, run as is.

The import line differs from the spec (``kerasfactory.utils.data_analyzer`` ->
``sfne_sklearn``), and the imports the snippet takes from the usage example
(NumPy, SFNEBlock) are added. The lines after the snippet (not in the spec)
train the model on the raw DataFrame columns through the preprocessing model
and print the prediction shape: ``(100, 8)``.
"""

import numpy as np

from sfne_sklearn import SFNEBlock

from sfne_sklearn import DataAnalyzer
import pandas as pd

# Create preprocessing model
df = pd.DataFrame(np.random.randn(100, 16))
analyzer = DataAnalyzer(df)
preprocessing_model = analyzer.create_preprocessing_model()

# Create model with preprocessing
model = SFNEBlock(
    input_dim=16,
    output_dim=8,
    preprocessing_model=preprocessing_model
)

# --- Not in the spec: train and predict on the raw columns. ---
# 16 numeric columns without missing values give exactly 16 features.
print("features after preprocessing:", analyzer.n_features_out)
inputs = analyzer.to_inputs(df)  # {"0": array of shape (100,), ..., "15": ...}
y = np.random.randn(100, 8).astype("float32")
model.compile(optimizer="adam", loss="mse")
model.fit(inputs, y, epochs=2, batch_size=32, verbose=0)
predictions = model.predict(inputs, verbose=0)
print(predictions.shape)  # (100, 8)
