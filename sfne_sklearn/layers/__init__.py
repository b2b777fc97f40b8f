"""Reusable Keras layers of the SFNEBlock."""

from ._hyperzzw import HyperZZWOperator
from ._slow_network import SlowNetwork

__all__ = ["HyperZZWOperator", "SlowNetwork"]
