"""The Keras model: :class:`SFNEBlock`, built from the layers in ``sfne_sklearn.layers``."""
