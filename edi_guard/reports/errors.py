"""Errors of the report writers."""

from __future__ import annotations

from edi_guard.errors import EdiGuardError


class ReportError(EdiGuardError):
    """A report cannot be written or does not validate (XML report against its XSD)."""
