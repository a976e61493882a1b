"""The keyed hash of identities: beneficiaries and claim ids, as the history stores them.

Every claim with a TPI line is hashed once, so this module is compiled with the claim path
(pyproject ``[tool.edi-guard] compiled``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Protocol

from edi_guard.model.claim import Claim


class _HashState(Protocol):
    """A hashlib object (a name of our own: hashlib's type is private, and mypyc would
    look the annotation up when the module loads)."""

    def copy(self) -> _HashState: ...
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...
    def hexdigest(self) -> str: ...


_BLOCK: Final = 64
"""SHA-256's block size: HMAC pads its key to it."""
_INNER_PAD: Final = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD: Final = bytes(byte ^ 0x5C for byte in range(256))


@dataclass(frozen=True, slots=True)
class Hasher:
    """Keyed hashing of identities, so that equal identities match and none can be read back."""

    key: bytes = field(repr=False)
    """The secret: never in a repr (reprs end up in logs)."""
    _inner: _HashState = field(init=False, repr=False, compare=False)
    _outer: _HashState = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # HMAC-SHA256 (RFC 2104) with the key's two padded blocks hashed once: each claim
        # then costs two state copies and three short updates, less than half of what
        # hmac.digest spends setting the key up again on every call.
        key = self.key if len(self.key) <= _BLOCK else hashlib.sha256(self.key).digest()
        key = key.ljust(_BLOCK, b"\0")
        object.__setattr__(self, "_inner", hashlib.sha256(key.translate(_INNER_PAD)))
        object.__setattr__(self, "_outer", hashlib.sha256(key.translate(_OUTER_PAD)))

    def digest(self, *parts: str) -> str:
        return self._hmac("\x1f".join(parts))

    def _hmac(self, text: str) -> str:
        inner = self._inner.copy()
        inner.update(text.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def beneficiary(self, claim: Claim) -> str:
        """rules.md: subscriber member id, plus patient name and birth date under a 2000C."""
        patient = claim.patient
        if patient is None:
            return self.beneficiary_of(claim.subscriber.identifier)
        return self.beneficiary_of(
            claim.subscriber.identifier,
            (patient.last_name, patient.first_name, claim.patient_birth_date),
        )

    def beneficiary_of(
        self, member_id: str, patient: tuple[str, str, date | None] | None = None
    ) -> str:
        """The beneficiary key from its parts: member id (2010BA NM109) and, when the claim
        has a 2000C patient loop, the patient's (last name, first name, birth date).

        Used for claims and for sessions imported from a practice-management export, which
        must hash alike. The same text as ``digest("beneficiary", *parts)``, joined here
        without building the parts: one call per TPI claim.
        """
        if patient is None:
            return self._hmac("beneficiary\x1f" + member_id)
        last_name, first_name, birth_date = patient
        birth = birth_date.isoformat() if birth_date else ""
        return self._hmac(
            "\x1f".join(("beneficiary", member_id, last_name.upper(), first_name.upper(), birth))
        )

    def claim(self, claim_id: str) -> str:
        return self._hmac("claim\x1f" + claim_id)
