"""Reusable Keras layers of the SFNEBlock."""

from ._hyperzzw import HyperZZWOperator
from ._members import MemberHeads, MemberScaling
from ._slow_network import SlowNetwork
from ._spline_encoding import SplineEncoding

__all__ = ["HyperZZWOperator", "MemberHeads", "MemberScaling", "SlowNetwork", "SplineEncoding"]
