"""The scikit-learn estimators: a shared base and thin public classes."""
