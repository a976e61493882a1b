r"""The 277CA (005010X214): the business answer per claim, streamed with flat memory.

Layout (acks.md, pyx12's ``277.5010.X214.xml``): one interchange, one HN group, and one 277
transaction set per 837 transaction set that passed structure. In each set: 2000A is us (the
information source), 2000B the 837's submitter with TRN*2 = its BHT03, one 2000C per run of
consecutive claims with the same billing provider, one 2000D per claim with TRN*2 = CLM01.

Claims of a set rejected in the 999 (``structure_rejected``) are answered there, not here.

Streaming: 2200B and 2200C carry totals *before* the claims they count, so claims go to
spools and only running totals stay in memory. The current billing provider's 2000D
sections go to a group spool; a finished 2000C (header with totals, then its claims) to a
set spool; a finished 277 set to the document spool. :meth:`Ack277Writer.finish` writes
ISA/GS, copies the document spool, then GE/IEA. Spools are ``SpooledTemporaryFile``: small
answers stay in memory, large ones go to disk, and each is reused, not recreated.

Delimiters: values echoed from the 837 (CLM01, names, ids, line control numbers) may contain
``*``, ``:``, ``^`` or ``~`` when the 837 used other delimiters. Segments are spooled with
control-character placeholders instead of delimiters (control characters never survive
:func:`x12_text`), and the delimiters are chosen at :meth:`~Ack277Writer.finish` as the
first candidates (``*`` then ``|``; ``:`` then ``\``; ``^`` then ``{``; ``~`` then `````)
that occur in no echoed value. Our own text (STC12 messages, status codes) never holds a
candidate (``:`` becomes ``-``, the others a space), so it cannot sway the choice.
So a CLM01 such as ``A*1`` comes back exactly in TRN02. Only when every candidate of a
delimiter occurs in the data is that character replaced by ``?`` where it occurs in a value.

Status codes: pyx12 4.0.0 checks STC composites against its own copy of code list 508
(``codes.xml``, ``claim_status``), which ends at 771. Newer codes the catalog uses (772
greatest specificity, 779 same or similar service...) would make the 277CA invalid under it,
so by default a composite whose status code that list lacks is left out; the finding's STC12
text names it (``TPI009 (STATUS 779) - ...``) and the claim keeps its other codes, or the
rule's category with 21 (missing or invalid information). Pass ``status_codes`` with a
current list to send such codes.

Values: non-ASCII letters lose their accents (NFKD), characters outside the X12 5010
extended set become ``?`` (control characters a space), values are trimmed and cut to the
element's maximum length, and a required value that is empty becomes ``UNKNOWN`` (the
pipeline sends empty names and ids for a claim it could not map): the 277CA stays valid.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from importlib.resources import files
from tempfile import SpooledTemporaryFile
from typing import BinaryIO

from lxml import etree

from edi_guard.model.claim import Party
from edi_guard.outcome import ClaimOutcome, LineEcho, SetContext, Summary
from edi_guard.reports._protocol import ReportWriter
from edi_guard.reports.errors import ReportError
from edi_guard.rules.base import Finding, Outcome

# Placeholders for the delimiters while spooling: control characters, which x12_text never
# lets through, translated to the chosen delimiters at finish.
_ELEMENT = "\x1c"
_COMPONENT = "\x1d"
_REPETITION = "\x1e"
_TERMINATOR = "\x1f"

_ELEMENT_CANDIDATES = "*|"
_COMPONENT_CANDIDATES = ":\\"
_REPETITION_CANDIDATES = "^{"
_TERMINATOR_CANDIDATES = "~`"
_ALL_CANDIDATES = tuple(
    (
        _ELEMENT_CANDIDATES
        + _COMPONENT_CANDIDATES
        + _REPETITION_CANDIDATES
        + _TERMINATOR_CANDIDATES
    ).encode("ascii")
)
_PLAIN = str.maketrans({chr(c): " " for c in _ALL_CANDIDATES} | {":": "-"})
_CONFLICT_REPLACEMENT = ord("?")

# The X12 5010 extended character set (pyx12's rec_ID_E5), besides letters and digits.
_NOT_X12 = re.compile(r"""[^A-Za-z0-9!"&'()*+,\-./:;?= %~@\[\]_{}\\|<>^`#$]""")
_ONLY_X12 = re.compile(r"""[A-Za-z0-9!"&'()*+,\-./:;?= %~@\[\]_{}\\|<>^`#$]*""")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

UNKNOWN = "UNKNOWN"

# Category codes (code list 507) and what goes with them (acks.md).
REJECT_CATEGORIES = frozenset({"A3", "A6", "A7", "A8"})
GENERIC_STATUS = "21"
"""Missing or invalid information: the status when a finding's own codes cannot be sent."""
FALLBACK_REJECT = ("A3", GENERIC_STATUS)
"""For a rejecting finding without a status composite: returned as unprocessable, missing or
invalid information; the finding's message goes to STC12."""
RECEIVED = ("A1", "19")
"""2200B/2200C: entity acknowledges receipt of claim/encounter."""
FORWARDED = ("A0", "16")
"""2200D of a claim we pass on: claim/encounter has been forwarded to entity."""
CORRECTED = ("A0", "748")
"""Corrected data; the next composite names what was corrected."""

_SPOOL_MEMORY = 1 << 20
_COPY_CHUNK = 1 << 16
_BATCH_CHARS = 1 << 16
"""Claim text gathered before it goes to the group spool (one encode and write per batch)."""
_SHORT_AMOUNT = 20
"""Characters of an amount's text below which no decimal context (28 digits) rounds it."""


@cache
def pyx12_status_codes() -> frozenset[str]:
    """Code list 508 as pyx12 4.0.0 knows it (its ``map/codes.xml``, ``claim_status``)."""
    path = files("pyx12").joinpath("map", "codes.xml")
    tree = etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False))
    for codeset in tree.iterfind("codeset"):
        if codeset.findtext("id") == "claim_status":
            return frozenset(code.text for code in codeset.iter("code") if code.text)
    raise ReportError("pyx12's codes.xml has no claim_status code list")


class Ack277Error(ReportError, ValueError):
    """An :class:`AckEnvelope` value that cannot go into an ISA or GS."""


@dataclass(frozen=True, slots=True)
class AckEnvelope:
    """Who sends the 277CA to whom, its control numbers and its time.

    ``sender_*`` is us (ISA06, GS02), ``receiver_*`` the 837's submitter (ISA08, GS03). The
    clock is the caller's: ``created`` dates BHT04, STC02 and the 2200A dates.
    """

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    interchange_control: int
    group_control: int
    created: datetime
    usage_indicator: str = "P"
    our_name: str = "EDI GUARD"
    our_id: str = ""
    """2100A NM109 (qualifier 46); empty means ``sender_id``."""
    our_entity: str = "AY"
    """2100A NM101 and the entity of the 2200B/2200C receipt: AY clearinghouse or PR payer."""
    forward_entity: str = "PR"
    """Entity of A0:16 (forwarded to): the payer."""
    received: date | None = None
    """2200A DTP*050 (receipt date of the 837); None means the date of ``created``."""

    def __post_init__(self) -> None:
        for name in ("sender_qualifier", "receiver_qualifier"):
            value = getattr(self, name)
            if len(value) != 2 or not value.isalnum():
                raise Ack277Error(f"{name}: expected 2 letters or digits (ISA05/ISA07)")
        for name in ("sender_id", "receiver_id"):
            value = getattr(self, name)
            if not 2 <= len(value.strip()) <= 15 or x12_text(value) != value.strip():
                raise Ack277Error(
                    f"{name}: expected 2 to 15 X12 characters (ISA06/ISA08, GS02/GS03)"
                )
        if not 1 <= self.interchange_control <= 999_999_999:
            raise Ack277Error("interchange_control: expected 1 to 999999999 (ISA13)")
        if not 1 <= self.group_control <= 999_999_999:
            raise Ack277Error("group_control: expected 1 to 999999999 (GS06)")
        if self.usage_indicator not in ("P", "T"):
            raise Ack277Error("usage_indicator: expected P or T (ISA15)")
        if self.our_entity not in ("AY", "PR"):
            raise Ack277Error("our_entity: expected AY or PR (2100A NM101)")
        if not x12_text(self.our_name):
            raise Ack277Error("our_name: expected a name (2100A NM103)")


def x12_text(value: str, max_length: int | None = None) -> str:
    """``value`` as X12 5010 extended-set text: ASCII, trimmed, cut to ``max_length``."""
    # Most values are extended-set text already (no accent, no control): one regex match.
    if _ONLY_X12.fullmatch(value) is None:
        if not value.isascii():
            decomposed = unicodedata.normalize("NFKD", value)
            value = "".join(c for c in decomposed if not unicodedata.combining(c))
        value = _NOT_X12.sub("?", _CONTROL.sub(" ", value))
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        value = value[:max_length].rstrip()
    return value


def plain_text(value: str, max_length: int | None = None) -> str:
    """Our own text (messages, codes): :func:`x12_text` without delimiter candidates."""
    return x12_text(value.translate(_PLAIN), max_length)


def x12_amount(value: Decimal) -> str:
    """An R-type number: no exponent, no trailing zeros after the point (180.00 -> 180)."""
    if value.is_finite():
        # A short amount (all of them, in practice) needs no rounding: trimming its text
        # gives what quantize/normalize below would, at a fraction of the cost.
        text = format(value, "f")
        if len(text) <= _SHORT_AMOUNT:
            return text.rstrip("0").rstrip(".") if "." in text else text
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


@lru_cache(maxsize=4096)
def _d8(day: date) -> str:
    # Cached: service dates repeat across claims, and strftime is slow.
    return day.strftime("%Y%m%d")


def _dtp_period(start: date, end: date | None) -> tuple[str, str]:
    if end is None or end == start:
        return "D8", _d8(start)
    return "RD8", f"{_d8(start)}-{_d8(end)}"


Element = str | Sequence[str]
"""A simple element, or a composite given as its components."""


def segment(tag: str, *elements: Element) -> str:
    """One segment with placeholder delimiters; trailing empty elements and components go."""
    # No value holds a placeholder (x12_text lets no control character through), so
    # trailing placeholders are exactly the trailing empty components and elements.
    parts = [tag]
    for element in elements:
        if isinstance(element, str):
            parts.append(element)
        else:
            parts.append(_COMPONENT.join(element).rstrip(_COMPONENT))
    return _ELEMENT.join(parts).rstrip(_ELEMENT) + _TERMINATOR


def _required(value: str, max_length: int, *, min_length: int = 1) -> str:
    text = x12_text(value, max_length)
    return text if len(text) >= min_length else UNKNOWN


@lru_cache(maxsize=1024)
def _composite(code: str) -> tuple[str, ...]:
    """'A7:453' or 'A7:453:PR' -> its components (x12_text each)."""
    # Cached: the catalog's few codes recur on every finding that carries them.
    return tuple(plain_text(part, 30) for part in code.split(":"))


@dataclass(slots=True)
class _Totals:
    accepted: int = 0
    rejected: int = 0
    accepted_amount: Decimal = Decimal(0)
    rejected_amount: Decimal = Decimal(0)

    @property
    def submitted(self) -> Decimal:
        return self.accepted_amount + self.rejected_amount

    def add(self, accepted: bool, charge: Decimal) -> None:
        if accepted:
            self.accepted += 1
            self.accepted_amount += charge
        else:
            self.rejected += 1
            self.rejected_amount += charge


@dataclass(slots=True)
class _Group:
    """The 2000C being spooled: billing provider, its HL number, totals, segment count."""

    provider: Party
    hl: int
    totals: _Totals = field(default_factory=_Totals)
    segments: int = 0


@dataclass(slots=True)
class _Set:
    """The 277 set being spooled, answering one 837 set."""

    key: tuple[object, ...]
    outcome: ClaimOutcome
    """The first answered claim, for the set's context (submitter, BHT03)."""
    next_hl: int = 3
    totals: _Totals = field(default_factory=_Totals)
    segments: int = 0


class Ack277Writer(ReportWriter):
    """Write a 277CA answering the claims of every 837 set that passed structure.

    ``finish`` returns False, writing nothing, when no claim is to be answered (no set passed
    structure, or the file held no claims): the 999 is then the whole answer, a clearinghouse
    sends no empty 277CA, and X214 cannot express one (2000C and 2000D are required loops).
    """

    def __init__(
        self,
        sink: BinaryIO,
        envelope: AckEnvelope,
        *,
        spool_memory: int = _SPOOL_MEMORY,
        status_codes: Collection[str] | None = None,
    ) -> None:
        """``spool_memory``: bytes each of the three spools keeps in memory before it rolls
        over to a temporary file (so at most about three times that, whatever the size).
        ``status_codes``: the code list 508 codes the receiver knows; None means pyx12's."""
        self._sink = sink
        self._codes = _Codes(
            frozenset(status_codes) if status_codes is not None else pyx12_status_codes()
        )
        self._envelope = envelope
        self._today = _d8(envelope.created.date())
        forwarded = segment("STC", (*FORWARDED, envelope.forward_entity), self._today, "WQ")
        self._forwarded = forwarded[: -len(_TERMINATOR)] + _ELEMENT
        """STC of a claim passed on without findings, up to its amount (STC04)."""
        self._document = _new_spool(spool_memory)
        self._set_body = _new_spool(spool_memory)
        self._group_body = _new_spool(spool_memory)
        self._set: _Set | None = None
        self._context: SetContext | None = None
        """The context of the last claim added, which belongs to the current set."""
        self._group: _Group | None = None
        self._pending: list[str] = []
        """Claim text of the current group not yet in its spool."""
        self._pending_chars = 0
        self._sets_written = 0
        self._used: set[int] = set()
        """Delimiter candidates (as bytes) seen in echoed values."""
        self._finished = False
        self.claims_answered = 0

    # ------------------------------------------------------------------ ReportWriter

    def add(self, outcome: ClaimOutcome) -> None:
        if self._finished:
            raise RuntimeError("Ack277Writer.add after finish")
        if outcome.structure_rejected:
            return
        current = self._set
        context = outcome.context
        # The pipeline hands consecutive claims the same context object while the billing
        # provider stays: the key need only be compared when the object changes.
        if (
            current is not None
            and context is not self._context
            and current.key != _set_key(outcome)
        ):
            self._close_set()
            current = None
        if current is None:
            current = self._set = _Set(key=_set_key(outcome), outcome=outcome)
        self._context = context
        provider = outcome.context.billing_provider
        group = self._group
        if group is not None and not _same_provider(group.provider, provider):
            self._close_group()
            group = None
        if group is None:
            group = self._group = _Group(provider=provider, hl=current.next_hl)
            current.next_hl += 1
        hl = current.next_hl
        current.next_hl += 1
        text = self._claim_text(outcome, hl=hl, parent=group.hl)
        self._pending.append(text)
        self._pending_chars += len(text)
        if self._pending_chars >= _BATCH_CHARS:
            self._flush_group()
        group.segments += text.count(_TERMINATOR)
        accepted = outcome.status != "rejected"
        group.totals.add(accepted, outcome.charge_in)
        current.totals.add(accepted, outcome.charge_in)
        self.claims_answered += 1

    def finish(self, summary: Summary) -> bool:
        del summary  # the 277CA counts what it answers, per set and per provider
        if self._finished:
            raise RuntimeError("Ack277Writer.finish called twice")
        self._finished = True
        try:
            if self._set is not None:
                self._close_set()
            if self._sets_written == 0:
                return False
            self._write_document()
            return True
        finally:
            for spool in (self._document, self._set_body, self._group_body):
                spool.close()

    def close(self) -> None:
        """Release the spools without writing (the run failed); safe after ``finish``."""
        self._finished = True
        self._pending = []
        for spool in (self._document, self._set_body, self._group_body):
            spool.close()

    # ------------------------------------------------------------------ spooling

    def _spool(self, spool: SpooledTemporaryFile[bytes], segments: Iterable[str]) -> None:
        data = "".join(segments).encode("ascii")
        if len(self._used) < len(_ALL_CANDIDATES):
            for candidate in _ALL_CANDIDATES:
                if candidate not in self._used and candidate in data:
                    self._used.add(candidate)
        spool.write(data)

    def _flush_group(self) -> None:
        if self._pending:
            self._spool(self._group_body, self._pending)
            self._pending = []
            self._pending_chars = 0

    def _close_group(self) -> None:
        group, current = self._group, self._set
        if group is None or current is None:
            return
        header = list(self._provider_segments(group))
        self._spool(self._set_body, header)
        self._flush_group()
        _move(self._group_body, self._set_body)
        current.segments += len(header) + group.segments
        self._group = None

    def _close_set(self) -> None:
        self._close_group()
        current = self._set
        if current is None:
            return
        self._sets_written += 1
        control = f"{self._sets_written:04d}"
        header = list(self._set_header(current, control))
        count = len(header) + current.segments + 1
        self._spool(self._document, header)
        _move(self._set_body, self._document)
        self._spool(self._document, [segment("SE", str(count), control)])
        self._set = None

    def _write_document(self) -> None:
        table = self._translation()
        envelope = self._envelope
        created = envelope.created
        isa = segment(
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            envelope.sender_qualifier,
            envelope.sender_id.strip().ljust(15),
            envelope.receiver_qualifier,
            envelope.receiver_id.strip().ljust(15),
            created.strftime("%y%m%d"),
            created.strftime("%H%M"),
            _REPETITION,
            "00501",
            f"{envelope.interchange_control:09d}",
            "0",
            envelope.usage_indicator,
            _COMPONENT,
        )
        gs = segment(
            "GS",
            "HN",
            envelope.sender_id.strip(),
            envelope.receiver_id.strip(),
            created.strftime("%Y%m%d"),
            created.strftime("%H%M"),
            str(envelope.group_control),
            "X",
            "005010X214",
        )
        sink = self._sink
        sink.write((isa + gs).encode("ascii").translate(table))
        self._document.seek(0)
        while chunk := self._document.read(_COPY_CHUNK):
            sink.write(chunk.translate(table))
        trailer = segment("GE", str(self._sets_written), str(envelope.group_control)) + segment(
            "IEA", "1", f"{envelope.interchange_control:09d}"
        )
        sink.write(trailer.encode("ascii").translate(table))

    def _translation(self) -> bytes:
        """Placeholders -> the chosen delimiters; a delimiter seen in a value -> '?'."""
        envelope = self._envelope
        for value in (envelope.sender_id, envelope.receiver_id):
            self._used.update(c for c in value.encode("ascii") if c in _ALL_CANDIDATES)
        chosen: list[int] = []
        for candidates in (
            _ELEMENT_CANDIDATES,
            _COMPONENT_CANDIDATES,
            _REPETITION_CANDIDATES,
            _TERMINATOR_CANDIDATES,
        ):
            pool = [c for c in candidates.encode("ascii") if c not in chosen]
            free = [c for c in pool if c not in self._used]
            chosen.append((free or pool)[0])
        table = bytearray(range(256))
        for delimiter in chosen:
            if delimiter in self._used:
                table[delimiter] = _CONFLICT_REPLACEMENT
        for placeholder, delimiter in zip(
            (_ELEMENT, _COMPONENT, _REPETITION, _TERMINATOR), chosen, strict=True
        ):
            table[ord(placeholder)] = delimiter
        return bytes(table)

    # ------------------------------------------------------------------ segments

    def _set_header(self, current: _Set, control: str) -> Iterable[str]:
        envelope = self._envelope
        context = current.outcome.context
        reference = f"EG{envelope.interchange_control:09d}{self._sets_written:04d}"
        received = _d8(envelope.received) if envelope.received else self._today
        yield segment("ST", "277", control, "005010X214")
        yield segment(
            "BHT", "0085", "08", reference, self._today, envelope.created.strftime("%H%M"), "TH"
        )
        yield segment("HL", "1", "", "20", "1")
        yield segment(
            "NM1",
            envelope.our_entity,
            "2",
            _required(envelope.our_name, 60),
            "",
            "",
            "",
            "",
            "46",
            _required(envelope.our_id or envelope.sender_id, 80, min_length=2),
        )
        yield segment("TRN", "1", reference)
        yield segment("DTP", "050", "D8", received)
        yield segment("DTP", "009", "D8", self._today)
        yield segment("HL", "2", "1", "21", "1")
        yield _party_nm1("41", context.submitter, id_qualifier="46")
        yield segment("TRN", "2", _required(context.bht_reference, 50))
        yield segment(
            "STC",
            (*RECEIVED, envelope.our_entity),
            self._today,
            "WQ",
            x12_amount(current.totals.submitted),
        )
        yield from _totals_segments(current.totals, ("90", "AA"))

    def _provider_segments(self, group: _Group) -> Iterable[str]:
        yield segment("HL", str(group.hl), "2", "19", "1")
        yield _party_nm1("85", group.provider, id_qualifier="XX", allowed=("FI", "SV", "XX"))
        yield segment("TRN", "1", "0")
        yield segment(
            "STC",
            (*RECEIVED, self._envelope.our_entity),
            "",
            "WQ",
            x12_amount(group.totals.submitted),
        )
        yield from _totals_segments(group.totals, ("QA", "QC"))

    def _claim_text(self, outcome: ClaimOutcome, *, hl: int, parent: int) -> str:
        """The claim's 2000D, 2200D and 2220D segments as one string.

        The fixed segments are formatted directly rather than through :func:`segment`
        (this runs once per claim): each ends in a required element, never empty, so there
        is nothing trailing to trim.
        """
        e, t = _ELEMENT, _TERMINATOR
        patient = outcome.patient
        last_name = _required(patient.last_name, 60)
        first_name = x12_text(patient.first_name, 35)
        member_id = _required(outcome.member_id, 80, min_length=2)
        parts = [
            f"HL{e}{hl}{e}{parent}{e}PT{t}"
            f"NM1{e}QC{e}1{e}{last_name}{e}{first_name}{e}{e}{e}{e}MI{e}{member_id}{t}"
            f"TRN{e}2{e}{_required(outcome.claim_id, 50)}{t}"
        ]
        rejected = outcome.status == "rejected"
        if rejected:
            parts.extend(self._rejected_status(outcome))
        elif outcome.findings:
            parts.extend(self._accepted_status(outcome))
        else:
            parts.append(f"{self._forwarded}{x12_amount(outcome.charge_in)}{t}")
        trace = x12_text(outcome.clearinghouse_trace, 50)
        if trace:
            parts.append(f"REF{e}D9{e}{trace}{t}")
        start = outcome.first_service_date or outcome.last_service_date
        # DTP*472 is required; a claim without any service date gets the processing date.
        qualifier, period = (
            _dtp_period(start, outcome.last_service_date) if start else ("D8", self._today)
        )
        parts.append(f"DTP{e}472{e}{qualifier}{e}{period}{t}")
        if rejected:
            parts.extend(self._rejected_lines(outcome))
        return "".join(parts)

    def _accepted_status(self, outcome: ClaimOutcome) -> Iterable[str]:
        corrections = [f for f in outcome.findings if f.outcome is Outcome.CORRECT]
        codes = list(
            dict.fromkeys(code for f in corrections if (code := self._codes.status_code(f)))
        )
        forwarded = (*FORWARDED, self._envelope.forward_entity)
        charge = x12_amount(outcome.charge_in)
        notes = [*_notes("CORRECTED", corrections), *_notes("WARNING", _warnings(outcome))]
        first: list[Element] = [forwarded, self._today, "WQ", charge]
        if codes:
            first += ["", "", "", "", "", CORRECTED, ("A0", codes[0])]
        first += _free_text(notes, pad=not codes)
        yield segment("STC", *first)
        for code in codes[1:]:
            yield segment(
                "STC", CORRECTED, self._today, "WQ", charge, "", "", "", "", "", ("A0", code)
            )

    def _rejected_status(self, outcome: ClaimOutcome) -> Iterable[str]:
        rejecting = [f for f in outcome.findings if f.outcome is Outcome.REJECT]
        charge = x12_amount(outcome.charge_in)
        if not rejecting:
            yield segment("STC", FALLBACK_REJECT, self._today, "U", charge)
            return
        for finding in rejecting:
            composites, dropped = self._codes.reject_composites(finding)
            where = f" LINE {finding.line}" if finding.line is not None else ""
            unsent = f" (STATUS {' '.join(dropped)})" if dropped else ""
            text = plain_text(f"{finding.rule}{where}{unsent} - {finding.message}", 264)
            yield segment(
                "STC",
                composites[0],
                self._today,
                "U",
                charge,
                "",
                "",
                "",
                "",
                "",
                composites[1] if len(composites) > 1 else "",
                composites[2] if len(composites) > 2 else "",
                text,
            )

    def _rejected_lines(self, outcome: ClaimOutcome) -> Iterable[str]:
        rejecting = [f for f in outcome.findings if f.outcome is Outcome.REJECT]
        for line in outcome.rejected_lines:
            named = [f for f in rejecting if f.line == line.line_number] or rejecting
            composites = list(
                dict.fromkeys(c for f in named for c in self._codes.reject_composites(f)[0])
            ) or [FALLBACK_REJECT]
            yield segment(
                "SVC",
                _procedure(line),
                x12_amount(line.charge),
                "",
                "",
                "",
                "",
                x12_amount(line.units) if line.units is not None else "",
            )
            yield segment(
                "STC",
                composites[0],
                self._today,
                "U",
                "",
                "",
                "",
                "",
                "",
                "",
                composites[1] if len(composites) > 1 else "",
                composites[2] if len(composites) > 2 else "",
            )
            control = x12_text(line.line_control_number, 50)
            if control:
                yield segment("REF", "FJ", control)
            if line.service_date is not None:
                yield segment("DTP", "472", *_dtp_period(line.service_date, line.service_date_end))


def _procedure(line: LineEcho) -> tuple[str, ...]:
    """SVC01 from SV101 as received (qualifier, code, up to four modifiers)."""
    # From a list, not a generator: tuple(generator) allocates a larger tuple and shrinks
    # it; freed, it joins the free list of its new size, which nothing here draws from, so
    # up to 2,000 of them pile up, memory the flat-memory test counts.
    parts = tuple([x12_text(part, 48) for part in line.procedure_composite[:6]])
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return ("HC", UNKNOWN)
    return parts


def _set_key(outcome: ClaimOutcome) -> tuple[object, ...]:
    """What tells one 837 set from the next (consecutive outcomes compare keys)."""
    context = outcome.context
    return (
        context.set_index,
        context.st_control,
        context.bht_reference,
        context.submitter,
        context.receiver,
    )


def _same_provider(current: Party, provider: Party) -> bool:
    """A claim whose billing provider is unknown (not mapped) stays in the current 2000C."""
    return (
        provider is current
        or provider == current
        or not (provider.last_name or provider.identifier)
    )


def _new_spool(memory: int) -> SpooledTemporaryFile[bytes]:
    # Not a context manager: a spool lives from __init__ to finish, which closes it.
    return SpooledTemporaryFile(memory)


def _move(source: SpooledTemporaryFile[bytes], target: SpooledTemporaryFile[bytes]) -> None:
    """Append ``source`` to ``target`` and empty ``source`` for reuse."""
    source.seek(0)
    shutil.copyfileobj(source, target, _COPY_CHUNK)
    source.seek(0)
    source.truncate()


def _party_nm1(
    entity: str, party: Party, *, id_qualifier: str, allowed: tuple[str, ...] = ()
) -> str:
    first = x12_text(party.first_name, 35)
    qualifier = party.id_qualifier if party.id_qualifier in allowed else id_qualifier
    return segment(
        "NM1",
        entity,
        "1" if first else "2",
        _required(party.last_name, 60),
        first,
        "",
        "",
        "",
        qualifier,
        _required(party.identifier, 80, min_length=2),
    )


def _totals_segments(totals: _Totals, qualifiers: tuple[str, str]) -> Iterable[str]:
    accepted, rejected = qualifiers
    if totals.accepted:
        yield segment("QTY", accepted, str(totals.accepted))
    if totals.rejected:
        yield segment("QTY", rejected, str(totals.rejected))
    if totals.accepted:
        yield segment("AMT", "YU", x12_amount(totals.accepted_amount))
    if totals.rejected:
        yield segment("AMT", "YY", x12_amount(totals.rejected_amount))


@dataclass(frozen=True, slots=True)
class _Codes:
    """Finding STC codes -> the composites the 277CA sends (see the module docstring)."""

    known: frozenset[str]

    def status_code(self, finding: Finding) -> str:
        """The known status code of the finding's first composite, '' when none."""
        if not finding.stc:
            return ""
        parts = _composite(finding.stc[0])
        return parts[1] if len(parts) > 1 and parts[1] in self.known else ""

    def reject_composites(self, finding: Finding) -> tuple[list[tuple[str, ...]], list[str]]:
        """Up to three composites of a rejecting finding, and the status codes left out.

        A category that does not reject (anything but A3/A6/A7/A8) becomes A3; a finding
        left with no code gets its category (or A3) with 21.
        """
        composites: list[tuple[str, ...]] = []
        dropped: list[str] = []
        category = ""
        for code in finding.stc[:3]:
            parts = _composite(code)
            if len(parts) < 2 or not parts[0] or not parts[1]:
                continue
            if parts[0] not in REJECT_CATEGORIES:
                parts = ("A3", *parts[1:])
            category = category or parts[0]
            if parts[1] in self.known:
                composites.append(parts)
            else:
                dropped.append(parts[1])
        return composites or [(category or "A3", GENERIC_STATUS)], dropped


def _warnings(outcome: ClaimOutcome) -> list[Finding]:
    return [f for f in outcome.findings if f.outcome is Outcome.WARN]


def _notes(label: str, findings: Sequence[Finding]) -> list[str]:
    return [f"{label} {f.rule}" + (f" LINE {f.line}" if f.line else "") for f in findings]


def _free_text(notes: Sequence[str], *, pad: bool) -> list[Element]:
    """STC12 naming each correction and warning, behind STC05..STC11 when ``pad``."""
    if not notes:
        return []
    text = plain_text("; ".join(notes), 264)
    return [*([""] * 7 if pad else []), text]
