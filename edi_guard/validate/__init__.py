"""The 005010X222A1 validator compiled from pyx12's maps."""

from edi_guard.validate.api import validate_bytes, validate_file
from edi_guard.validate.model import (
    Finding,
    GroupVerdict,
    InterchangeVerdict,
    Limits,
    SetVerdict,
    StructureError,
    ValidationResult,
    Verdict,
)
from edi_guard.validate.validator import StructureValidator

__all__ = [
    "Finding",
    "GroupVerdict",
    "InterchangeVerdict",
    "Limits",
    "SetVerdict",
    "StructureError",
    "StructureValidator",
    "ValidationResult",
    "Verdict",
    "validate_bytes",
    "validate_file",
]
