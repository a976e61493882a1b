"""Fast path placeholder."""
from __future__ import annotations

from edi_guard.validate.compiler import CompiledMap, SegNode
from edi_guard.x12.segment import Segment


class FastPaths:
    def __init__(self, compiled: CompiledMap) -> None:
        self.map = compiled

    def is_valid(self, node: SegNode, segment: Segment) -> bool:
        return False
