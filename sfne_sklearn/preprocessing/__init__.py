"""Turning tables into features: the estimators' scikit-learn ColumnTransformer
(``_columns``) and the Keras preprocessing model of :class:`DataAnalyzer`."""
