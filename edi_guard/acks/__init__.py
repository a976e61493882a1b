"""Acknowledgements: 999 (005010X231A1) and TA1, each its own interchange."""

from edi_guard.acks.control import ControlNumbers, CounterControlNumbers
from edi_guard.acks.ta1 import write_ta1
from edi_guard.acks.x999 import write_999

__all__ = ["ControlNumbers", "CounterControlNumbers", "write_999", "write_ta1"]
