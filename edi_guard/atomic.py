"""Outputs written atomically: a temporary file beside the target, renamed when complete.

A crash leaves either the old file or the complete new one, never a half-written file that a
downstream pipeline could pick up.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO


class AtomicFile:
    """A binary temporary file that becomes ``path`` on ``commit`` and vanishes on ``discard``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
        self._temporary = Path(temporary)
        self.file: BinaryIO = os.fdopen(descriptor, "w+b")
        self._done = False

    def commit(self) -> None:
        if self._done:
            return
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        self._temporary.replace(self.path)
        self._done = True

    def discard(self, *, remove_existing: bool = False) -> None:
        """Drop the new content. With ``remove_existing``, a file already at ``path`` (from an
        earlier run) goes too, so that no stale output is left to be picked up."""
        if not self._done:
            self.file.close()
            self._temporary.unlink(missing_ok=True)
            self._done = True
        if remove_existing:
            self.path.unlink(missing_ok=True)
