"""Helpers shared by the report writers: money, statuses, findings, money at stake."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from decimal import Decimal
from typing import BinaryIO, TextIO, cast

from edi_guard.outcome import ClaimOutcome, Status
from edi_guard.rules.base import Finding, Outcome
from edi_guard.vocab import Fee, amount_at_stake

STRUCTURE_RULE = "X12"
"""Rule code of the finding that stands for a transaction set rejected in the 999."""

AmountAtStake = Callable[[str], Fee | None]
"""Place of service -> Medicare national amount at stake, None when the fee table has none.
The default is :func:`edi_guard.vocab.amount_at_stake` (schemas/fees.json)."""


def money(value: Decimal) -> str:
    """A decimal string with at least two places: Decimal('180') -> '180.00'."""
    # Keyed by str(value), which tells 1.005 from 1.0050 (equal Decimals, different text);
    # charges repeat a lot, and the reports format each one several times.
    key = str(value)
    text = _MONEY_TEXT.get(key)
    if text is None:
        if len(_MONEY_TEXT) >= _MONEY_CACHE_SIZE:
            _MONEY_TEXT.clear()
        text = _MONEY_TEXT[key] = _money(value)
    return text


_MONEY_CACHE_SIZE = 4096
_MONEY_TEXT: dict[str, str] = {}


def _money(value: Decimal) -> str:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return format(value, "f")
    return f"{value:.2f}"


def report_status(outcome: ClaimOutcome) -> Status:
    """The status a report shows: a claim of a set rejected in the 999 is always rejected."""
    return "rejected" if outcome.structure_rejected else outcome.status


def report_findings(outcome: ClaimOutcome) -> tuple[Finding, ...]:
    """The claim's findings, plus an ``X12`` finding when its set failed structure and the
    pipeline did not already give one (the reports promise one for every such claim)."""
    findings = outcome.findings
    if outcome.structure_rejected and not any(f.rule == STRUCTURE_RULE for f in findings):
        structure = Finding(
            rule=STRUCTURE_RULE,
            outcome=Outcome.REJECT,
            message=(
                f"transaction set {outcome.context.st_control} failed 005010X222A1 structure; "
                "see the 999"
            ),
            source="005010X222A1 implementation guide (999 acknowledgement, 005010X231A1)",
        )
        findings = (structure, *findings)
    return findings


def primary_stc(finding: Finding) -> str | None:
    """The finding's first 277CA status composite, e.g. 'A7:453', or None."""
    return finding.stc[0] if finding.stc else None


def is_at_stake(outcome: ClaimOutcome) -> bool:
    """A rejected or warned TPI claim: the report shows what it puts at stake (rules.md)."""
    if not outcome.is_tpi:
        return False
    if report_status(outcome) == "rejected":
        return True
    return any(f.outcome is Outcome.WARN for f in outcome.findings)


def at_stake(outcome: ClaimOutcome, fees: AmountAtStake = amount_at_stake) -> Fee | None:
    """The fee-table amount at stake for the claim, None when not at stake or not priced."""
    return fees(outcome.place_of_service) if is_at_stake(outcome) else None


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 (and so HTML) cannot carry."""
    # Every character XML cannot carry is a control, a surrogate or U+FFFE/U+FFFF, none of
    # them printable: the common all-printable value skips the regex.
    if value.isprintable():
        return value
    return _NOT_XML.sub("", value)


def text_writer(sink: TextIO | BinaryIO) -> Callable[[str], object]:
    """A ``write(str)`` for a text sink, or one that encodes UTF-8 for a binary sink."""
    if isinstance(sink, io.TextIOBase) or "b" not in getattr(sink, "mode", "b"):
        return cast(TextIO, sink).write
    binary = cast(BinaryIO, sink)
    return lambda text: binary.write(text.encode("utf-8"))


class TextBatch:
    """Claim text written in batches: one encode and write per batch rather than per claim.

    Memory stays flat: at most ``size`` pieces are held. The owner calls :meth:`flush`
    before writing anything that must follow them.
    """

    def __init__(self, write: Callable[[str], object], *, size: int = 256) -> None:
        self._write = write
        self._size = size
        self._pending: list[str] = []

    def add(self, text: str) -> None:
        self._pending.append(text)
        if len(self._pending) >= self._size:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._write("".join(self._pending))
            self._pending = []

    def discard(self) -> None:
        self._pending = []
