"""The spec's "Feature Extraction" example, run as is.

The spec's snippet has no import line; the one added here is
``from sfne_sklearn import SFNEBlock``. The spec reuses ``X_train`` from its
usage example, but that one has 16 columns while this block expects
``input_dim=64``; so ``X_train`` here is matching 64-column data. Expected
output: ``(100, 32)``.
"""

import numpy as np

from sfne_sklearn import SFNEBlock

# 64 columns to match input_dim=64 below (the spec's 16-column X_train would
# be refused: the block checks the feature count).
X_train = np.random.randn(100, 64).astype("float32")

# Use as feature extractor
feature_extractor = SFNEBlock(
    input_dim=64,
    output_dim=32,  # Reduced dimension
    hidden_dim=128
)

# Extract features
features = feature_extractor(X_train)
print(features.shape)  # (100, 32)
