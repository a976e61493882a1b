"""TA1 interchange acknowledgements, each written as an interchange of its own.

pyx12 appends the TA1 after the 999's GE, inside the 999's interchange; a TA1 answers an
interchange and is its own interchange (ISA, TA1, IEA with IEA01 = 0).
"""

from __future__ import annotations

from datetime import datetime

from edi_guard.acks.envelope import Party, check_control_number, iea, isa, segment
from edi_guard.validate.model import InterchangeVerdict


def write_ta1(
    interchange: InterchangeVerdict | None,
    *,
    control_number: int,
    now: datetime,
    sender: Party | None = None,
    receiver: Party | None = None,
) -> bytes:
    """A TA1 for ``interchange``; None (no readable ISA at all) gives TA1 R with note 024."""
    check_control_number(control_number)
    if interchange is None:
        control, date, time, status, note, usage = "000000000", now.strftime("%y%m%d"), \
            now.strftime("%H%M"), "R", "024", "P"  # fmt: skip
        sender = sender or Party("ZZ", "EDIGUARD")
        receiver = receiver or Party("ZZ", "UNKNOWN")
    else:
        control = interchange.isa_control if _digits(interchange.isa_control, 9) else "000000000"
        date = interchange.isa_date if _digits(interchange.isa_date, 6) else now.strftime("%y%m%d")
        time = interchange.isa_time if _digits(interchange.isa_time, 4) else now.strftime("%H%M")
        status, note, usage = interchange.status, interchange.ta1_note, interchange.usage
        sender = sender or Party(interchange.receiver_qualifier, interchange.receiver_id)
        receiver = receiver or Party(interchange.sender_qualifier, interchange.sender_id)
    lines = [
        isa(sender, receiver, control_number, now, usage),
        segment("TA1", control, date, time, status, note),
        iea(0, control_number),
    ]
    return ("\n".join(lines) + "\n").encode("ascii")


def _digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()
