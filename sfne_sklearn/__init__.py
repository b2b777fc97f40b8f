"""sfne_sklearn: the Slow-Fast Neural Engine for tabular data."""

from ._block import SFNEBlock

__version__ = "0.1.0"

__all__ = ["SFNEBlock", "__version__"]
