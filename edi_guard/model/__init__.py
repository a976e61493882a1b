"""The typed claim model: what the rules read. Built by ``edi_guard.model.mapping``."""

from edi_guard.model.claim import (
    Claim,
    DrugIdentification,
    Note,
    Party,
    Procedure,
    ServiceLine,
)

__all__ = ["Claim", "DrugIdentification", "Note", "Party", "Procedure", "ServiceLine"]
