"""scikit-learn's estimator checks on the default estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sfne_sklearn import SFNEClassifier, SFNERegressor, SFNETransformer


# Default instances, no expected failures: what users get is what is checked.
@parametrize_with_checks([SFNERegressor(), SFNETransformer(), SFNEClassifier()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
