"""edi_guard: an X12 837P (005010X222A1) preprocessor for trigger point injection claims.

The library entry point is :func:`process` (one file or stream in; the corrected 837, the
277CA, the 999/TA1 and the reports out). ``open_history`` opens the history store that
TPI009/TPI010 and duplicate detection read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["open_history", "process"]

if TYPE_CHECKING:
    from edi_guard.api import open_history, process


def __getattr__(name: str) -> Any:
    # Imported on first use: `import edi_guard.x12` (the tokenizer alone) stays light.
    if name in __all__:
        from edi_guard import api

        return getattr(api, name)
    raise AttributeError(f"module 'edi_guard' has no attribute {name!r}")
