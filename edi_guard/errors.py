"""One error family for everything edi_guard refuses.

Messages say what was expected, what was found and where (file, byte offset or segment
number, element reference). They never carry element values from the input: those may be
patient data. Callers convert these once, at the boundary (CLI, pipeline, watcher).
"""

from __future__ import annotations


class EdiGuardError(Exception):
    """Base class of every error edi_guard raises on purpose."""


class X12SyntaxError(EdiGuardError):
    """The bytes are not X12 we can tokenize: no ISA, bad delimiters, truncation, limits."""

    def __init__(self, message: str, *, offset: int | None = None) -> None:
        self.offset = offset
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{message}{where}")


class MappingError(EdiGuardError):
    """A segment could not be mapped to the claim model (bad decimal, date, code...)."""

    def __init__(self, message: str, *, position: int, reference: str) -> None:
        self.position = position
        self.reference = reference
        super().__init__(f"segment {position}, {reference}: {message}")


class PolicyError(EdiGuardError):
    """The policy file is unreadable, or names an unknown key or a bad value."""


class HistoryError(EdiGuardError):
    """The history store cannot be opened, migrated or written."""
