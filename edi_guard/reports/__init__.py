"""Report writers: 277CA (005010X214), JSON, XML and HTML, each fed claim outcomes in file
order and the file summary at the end, each with flat memory (spools, running totals)."""

from __future__ import annotations

from edi_guard.reports._protocol import ReportWriter

__all__ = ["ReportWriter"]
