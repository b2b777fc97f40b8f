"""Training the block: the one door to scikeras, the Keras fit loop and its guards."""
