"""Reusable Keras layers of the SFNEBlock."""

from ._hyperzzw import HyperZZWOperator
from ._slow_network import SlowNetwork
from ._spline_encoding import SplineEncoding

__all__ = ["HyperZZWOperator", "SlowNetwork", "SplineEncoding"]
