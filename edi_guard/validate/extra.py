"""Checks beyond pyx12 (placeholder)."""
from __future__ import annotations

from edi_guard.validate.model import Finding
from edi_guard.x12.segment import Segment


class ExtraChecks:
    tags: dict[str, bool] = {}

    def reset(self) -> None:
        pass

    def feed(self, segment: Segment, loop_id: str, position_in_set: int) -> list[Finding]:
        return []
