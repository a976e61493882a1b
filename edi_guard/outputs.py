"""The answers to one input: 277CA, 999, TA1 and the JSON, XML and HTML reports.

Claim outcomes reach every report writer in file order. The 277CA writer is made when the
first claim it must answer arrives, because its envelope goes back to the 837's sender; a
file whose every set failed structure gets no 277CA (the 999 answers those claims).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, BinaryIO

from edi_guard.acks.control import ReceiverControlNumbers
from edi_guard.acks.envelope import Party as EnvelopeParty
from edi_guard.acks.envelope import echo
from edi_guard.acks.ta1 import write_ta1
from edi_guard.acks.x999 import write_999
from edi_guard.outcome import ClaimOutcome, Summary
from edi_guard.reports._common import AmountAtStake
from edi_guard.reports._records import claim_entry
from edi_guard.reports.ack277 import Ack277Writer, AckEnvelope
from edi_guard.reports.html_report import HtmlReportWriter
from edi_guard.reports.json_report import JsonReportWriter
from edi_guard.reports.xml_report import XmlReportWriter
from edi_guard.validate import ValidationResult
from edi_guard.vocab import amount_at_stake

OUR_ID = "EDIGUARD"
OUR_QUALIFIER = "ZZ"
UNKNOWN_RECEIVER = "ZZ:UNKNOWN"
DUPLICATE_NOTE = "025"
"""TA105 025: duplicate interchange control number."""


def _receiver(qualifier: str, identifier: str) -> str:
    """Who our answer goes to, as the control-number key: ISA05:ISA06 of what we got."""
    return f"{qualifier.strip() or 'ZZ'}:{identifier.strip() or 'UNKNOWN'}"


@dataclass(slots=True)
class ReportSet:
    ack277_sink: BinaryIO
    control_numbers: ReceiverControlNumbers
    now: datetime
    writers: list[JsonReportWriter | XmlReportWriter | HtmlReportWriter]
    ack277: Ack277Writer | None = None
    answered_in_277: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    fees: AmountAtStake = amount_at_stake
    """The fee table every writer in ``writers`` was given."""

    def add(self, outcome: ClaimOutcome) -> None:
        if not outcome.structure_rejected:
            if self.ack277 is None:
                self.ack277 = Ack277Writer(self.ack277_sink, self._envelope(outcome))
            self.ack277.add(outcome)
            self.answered_in_277 += 1
        # One record for the three writers: building it was most of each writer's work.
        entry = claim_entry(outcome, self.fees)
        for writer in self.writers:
            writer.add_entry(entry)

    def write_acks(
        self,
        result: ValidationResult,
        *,
        ack999: BinaryIO,
        ta1: BinaryIO,
        duplicates: frozenset[int] = frozenset(),
    ) -> dict[str, bool]:
        """Write the 999 and the TA1s (one interchange each, when any is due).

        ``duplicates`` holds the ISA positions of interchanges already processed before:
        they are answered by a TA1 (TA105 025) only, never in the 999.
        """
        answered = [i for i in result.interchanges if i.first_position not in duplicates]
        wrote_999 = any(interchange.groups for interchange in answered)
        if wrote_999:
            # A 999 answers functional groups; with none to answer (an empty file, only
            # duplicates, no readable GS) the TA1 is the whole answer.
            first = answered[0]
            numbers = self.control_numbers.for_receiver(
                _receiver(first.sender_qualifier, first.sender_id)
            )
            ack999.write(
                write_999(
                    replace(result, interchanges=answered),
                    control_number=numbers.next_interchange(),
                    group_control_number=numbers.next_group(),
                    now=self.now,
                )
            )
        wrote_ta1 = False
        for interchange in result.interchanges:
            if interchange.first_position in duplicates:
                interchange = replace(interchange, status="R", ta1_note=DUPLICATE_NOTE)
            elif not interchange.needs_ta1:
                continue
            to = self.control_numbers.for_receiver(
                _receiver(interchange.sender_qualifier, interchange.sender_id)
            )
            ta1.write(write_ta1(interchange, control_number=to.next_interchange(), now=self.now))
            wrote_ta1 = True
        if result.fatal is not None and not result.interchanges:
            ta1.write(
                write_ta1(
                    None,
                    control_number=self.control_numbers.for_receiver(
                        UNKNOWN_RECEIVER
                    ).next_interchange(),
                    now=self.now,
                    sender=EnvelopeParty(OUR_QUALIFIER, OUR_ID),
                )
            )
            wrote_ta1 = True
        return {"999": wrote_999, "ta1": wrote_ta1}

    def finish(self, summary: Summary) -> dict[str, bool]:
        written = {"277": self.ack277.finish(summary) if self.ack277 is not None else False}
        for writer in self.writers:
            writer.finish(summary)
        return written

    def close(self) -> None:
        """Release every writer's spools after a failure (nothing is written)."""
        if self.ack277 is not None:
            self.ack277.close()
        for writer in self.writers:
            closer = getattr(writer, "close", None)
            if closer is not None:
                closer()

    def _envelope(self, outcome: ClaimOutcome) -> AckEnvelope:
        context = outcome.context
        # We answer as the party the 837 was addressed to (its ISA08), as the 999 does.
        receiver_qualifier = _qualifier(context.interchange_sender_qualifier)
        receiver_id = _identifier(
            context.interchange_sender_id or context.submitter.identifier, "UNKNOWN"
        )
        numbers = self.control_numbers.for_receiver(_receiver(receiver_qualifier, receiver_id))
        return AckEnvelope(
            sender_qualifier=_qualifier(context.interchange_receiver_qualifier),
            sender_id=_identifier(context.interchange_receiver_id, OUR_ID),
            receiver_qualifier=receiver_qualifier,
            receiver_id=receiver_id,
            interchange_control=numbers.next_interchange(),
            group_control=numbers.next_group(),
            created=self.now,
            usage_indicator="T" if context.usage_indicator == "T" else "P",
        )


def _qualifier(value: str) -> str:
    """An ISA05/ISA07 we can send: two letters or digits as received, else ZZ (mutual)."""
    value = value.strip()
    return value if len(value) == 2 and value.isascii() and value.isalnum() else "ZZ"


def _identifier(value: str, fallback: str) -> str:
    """An ISA06/ISA08 we can send: the received id when it is 2-15 plain characters."""
    cleaned = echo(value.strip(), 15).strip()
    return cleaned if len(cleaned) >= 2 and "?" not in cleaned else fallback


def open_report_writers(
    *,
    ack277: BinaryIO,
    json: BinaryIO,
    xml: BinaryIO,
    html: BinaryIO,
    file_name: str,
    sha256: Callable[[], str],
    control_numbers: ReceiverControlNumbers,
    now: datetime,
    extra: Callable[[], Mapping[str, Any]] | None = None,
    fees: AmountAtStake = amount_at_stake,
) -> ReportSet:
    return ReportSet(
        ack277_sink=ack277,
        control_numbers=control_numbers,
        now=now,
        writers=[
            JsonReportWriter(
                json, file_name=file_name, sha256_provider=sha256, extra=extra, fees=fees
            ),
            XmlReportWriter(
                xml, file_name=file_name, sha256_provider=sha256, extra=extra, fees=fees
            ),
            HtmlReportWriter(
                html, file_name=file_name, sha256_provider=sha256, extra=extra, fees=fees
            ),
        ],
        fees=fees,
    )
