"""Bytes <-> segments. Knows delimiters, envelopes and counts; knows nothing of claims."""

from edi_guard.x12.delimiters import Delimiters
from edi_guard.x12.segment import Segment, parse_reference
from edi_guard.x12.tokenizer import Tokenizer, iter_segments

__all__ = ["Delimiters", "Segment", "Tokenizer", "iter_segments", "parse_reference"]
