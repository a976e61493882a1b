"""The JSON report, streamed: one claim object per line, then the summary and the digest.

Shape (keys in this order; a reader must not rely on the order)::

    {"schema_version": 1, "file": "NAME.837",
     "claims": [
       {"claim_id": CLM01, "st_control": ST02, "position": 1, "status": "accepted",
        "charge_in": "180.00", ..., "amount_at_stake": null,
        "findings": [{"rule": "TPI001", "outcome": "correct", "line": "1", "stc": "A7:476",
                      "stc_codes": ["A7:476"], "message": "...", "source": "..."}],
        "rejected_lines": []},
       ...],
     "summary": {"claims_in": 3, ..., "charge_in": "412.00", ...},
     "at_stake": {"total": "59.79", "by_place_of_service": [...]},
     "sha256": "...", ...extra}

Money is a decimal string. ``extra`` (called at finish) adds top-level keys such as the 999
verdicts or the outputs written; it may not replace a key the report itself writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring_ascii
from typing import Any, BinaryIO, TextIO

from edi_guard.outcome import ClaimOutcome, Summary
from edi_guard.reports._common import AmountAtStake, TextBatch, money, text_writer
from edi_guard.reports._protocol import ReportWriter
from edi_guard.reports._records import (
    SCHEMA_VERSION,
    ClaimEntry,
    ClaimRecord,
    StakeTotals,
    claim_entry,
    summary_record,
)
from edi_guard.reports.errors import ReportError
from edi_guard.vocab import amount_at_stake

RESERVED_KEYS = frozenset({"schema_version", "file", "claims", "summary", "at_stake", "sha256"})


class JsonReportWriter(ReportWriter):
    """Stream the JSON report to ``sink`` (text or binary; binary gets UTF-8)."""

    def __init__(
        self,
        sink: TextIO | BinaryIO,
        *,
        file_name: str,
        sha256_provider: Callable[[], str],
        extra: Callable[[], Mapping[str, Any]] | None = None,
        fees: AmountAtStake = amount_at_stake,
    ) -> None:
        self._write = text_writer(sink)
        self._batch = TextBatch(self._write)
        self._sha256 = sha256_provider
        self._extra = extra
        self._stake = StakeTotals(fees)
        self._claims = 0
        self._finished = False
        head = {"schema_version": SCHEMA_VERSION, "file": file_name}
        self._write(_dumps(head)[:-1] + ', "claims": [')

    def add(self, outcome: ClaimOutcome) -> None:
        self.add_entry(claim_entry(outcome, self._stake.fees))

    def add_entry(self, entry: ClaimEntry) -> None:
        """:meth:`add` for a claim whose record is already built (shared by the writers)."""
        if self._finished:
            raise RuntimeError("JsonReportWriter.add after finish")
        self._stake.count(entry)
        separator = "\n" if self._claims == 0 else ",\n"
        self._batch.add(separator + claim_json(entry.record))
        self._claims += 1

    def finish(self, summary: Summary) -> bool:
        if self._finished:
            raise RuntimeError("JsonReportWriter.finish called twice")
        self._finished = True
        tail: dict[str, Any] = {
            "summary": summary_record(summary),
            "at_stake": {
                "total": money(self._stake.total()),
                "by_place_of_service": self._stake.records(),
            },
            "sha256": self._sha256(),
        }
        if self._extra is not None:
            extra = dict(self._extra())
            clash = sorted(RESERVED_KEYS.intersection(extra))
            if clash:
                raise ReportError(f"JSON report: extra keys clash with report keys: {clash}")
            tail.update(extra)
        self._batch.flush()
        self._write(("\n" if self._claims else "") + "], " + _dumps(tail)[1:] + "\n")
        return True


def claim_json(record: ClaimRecord) -> str:
    """``record`` as :func:`_dumps` writes it, the flat keys formatted directly.

    The encoder's per-call set-up cost more than the claim itself; the findings and lines,
    often empty, still go through it.
    """
    text = encode_basestring_ascii
    stake = record["amount_at_stake"]
    findings = record["findings"]
    lines = record["rejected_lines"]
    return (
        f'{{"claim_id": {text(record["claim_id"])}, '
        f'"st_control": {text(record["st_control"])}, '
        f'"position": {int(record["position"])}, "status": {text(record["status"])}, '
        f'"charge_in": {text(record["charge_in"])}, "charge_out": {text(record["charge_out"])}, '
        f'"charge_dropped": {text(record["charge_dropped"])}, '
        f'"place_of_service": {text(record["place_of_service"])}, '
        f'"is_tpi": {_bool(record["is_tpi"])}, '
        f'"structure_rejected": {_bool(record["structure_rejected"])}, '
        f'"amount_at_stake": {"null" if stake is None else text(stake)}, '
        f'"findings": {_dumps(findings) if findings else "[]"}, '
        f'"rejected_lines": {_dumps(lines) if lines else "[]"}}}'
    )


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _dumps(value: object) -> str:
    return _ENCODER.encode(value)


def _default(value: object) -> object:
    """Decimals and other non-JSON values extra may carry: as strings, never as floats."""
    return str(value)


# One encoder for every claim: json.dumps with these options would build a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": "), default=_default)
