"""The spec's "Different Configurations" of SFNEBlock, run as is.

The spec's snippet has no import line; the one added here is
``from sfne_sklearn import SFNEBlock``. The snippet only builds the models;
the lines after it (not in the spec) run each one on 16-column data and print
its output shape and parameter count, e.g. ``small_model: (100, 8)``.
"""

import numpy as np

from sfne_sklearn import SFNEBlock

# Small model
small_model = SFNEBlock(
    input_dim=16,
    output_dim=8,
    hidden_dim=32,
    num_layers=1,
    slow_network_layers=2,
    slow_network_units=64
)

# Large model
large_model = SFNEBlock(
    input_dim=16,
    output_dim=8,
    hidden_dim=128,
    num_layers=3,
    slow_network_layers=4,
    slow_network_units=256
)

# Same input/output dimension
same_dim_model = SFNEBlock(
    input_dim=16,
    output_dim=16,  # Explicitly set
    hidden_dim=64
)

# --- Not in the spec: show that each configuration runs. ---
# (Direct calls: three models' predict loops would each trace a predict
# function and trip TensorFlow's retracing warning.)
X = np.random.randn(100, 16).astype("float32")
for name, m in [
    ("small_model", small_model),
    ("large_model", large_model),
    ("same_dim_model", same_dim_model),
]:
    print(f"{name}: {tuple(m(X).shape)}, {m.count_params()} parameters")
