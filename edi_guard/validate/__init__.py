"""The 005010X222A1 validator compiled from pyx12's maps."""

from edi_guard.validate.api import validate_bytes, validate_file
from edi_guard.validate.model import (
    Finding,
    GroupVerdict,
    InterchangeVerdict,
    SetVerdict,
    StructureError,
    ValidationResult,
    ValidatorLimits,
    Verdict,
)
from edi_guard.validate.validator import StructureValidator

__all__ = [
    "Finding",
    "GroupVerdict",
    "InterchangeVerdict",
    "SetVerdict",
    "StructureError",
    "StructureValidator",
    "ValidationResult",
    "ValidatorLimits",
    "Verdict",
    "validate_bytes",
    "validate_file",
]
