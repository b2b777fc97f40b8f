"""Using a fitted estimator: the prediction path and saving and loading."""
