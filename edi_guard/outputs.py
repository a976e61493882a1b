"""The answers to one input: 277CA, 999, TA1 and the JSON, XML and HTML reports.

Claim outcomes reach every report writer in file order. The 277CA writer is made when the
first claim it must answer arrives, because its envelope goes back to the 837's sender; a
file whose every set failed structure gets no 277CA (the 999 answers those claims).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from edi_guard.acks.control import ControlNumbers
from edi_guard.acks.envelope import Party as EnvelopeParty
from edi_guard.acks.ta1 import write_ta1
from edi_guard.acks.x999 import write_999
from edi_guard.outcome import ClaimOutcome, Summary
from edi_guard.reports.ack277 import Ack277Writer, AckEnvelope
from edi_guard.reports.html_report import HtmlReportWriter
from edi_guard.reports.json_report import JsonReportWriter
from edi_guard.reports.xml_report import XmlReportWriter
from edi_guard.validate import ValidationResult

OUR_ID = "EDIGUARD"
OUR_QUALIFIER = "ZZ"


@dataclass(slots=True)
class ReportSet:
    ack277_sink: BinaryIO
    control_numbers: ControlNumbers
    now: datetime
    writers: list[JsonReportWriter | XmlReportWriter | HtmlReportWriter]
    ack277: Ack277Writer | None = None
    answered_in_277: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, outcome: ClaimOutcome) -> None:
        if not outcome.structure_rejected:
            if self.ack277 is None:
                self.ack277 = Ack277Writer(self.ack277_sink, self._envelope(outcome))
            self.ack277.add(outcome)
            self.answered_in_277 += 1
        for writer in self.writers:
            writer.add(outcome)

    def write_acks(
        self, result: ValidationResult, *, ack999: BinaryIO, ta1: BinaryIO
    ) -> dict[str, bool]:
        """Write the 999 (always) and the TA1s (one interchange each, when any is due)."""
        ack999.write(
            write_999(
                result,
                control_number=self.control_numbers.next_interchange(),
                group_control_number=self.control_numbers.next_group(),
                now=self.now,
            )
        )
        due = [interchange for interchange in result.interchanges if interchange.needs_ta1]
        wrote_ta1 = False
        for interchange in due:
            ta1.write(
                write_ta1(
                    interchange,
                    control_number=self.control_numbers.next_interchange(),
                    now=self.now,
                )
            )
            wrote_ta1 = True
        if result.fatal is not None and not result.interchanges:
            ta1.write(
                write_ta1(
                    None,
                    control_number=self.control_numbers.next_interchange(),
                    now=self.now,
                    sender=EnvelopeParty(OUR_QUALIFIER, OUR_ID),
                )
            )
            wrote_ta1 = True
        return {"999": True, "ta1": wrote_ta1}

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
        receiver_id = context.interchange_sender_id or context.submitter.identifier or "UNKNOWN"
        sender_id = context.interchange_receiver_id or OUR_ID
        return AckEnvelope(
            sender_qualifier=context.interchange_receiver_qualifier or OUR_QUALIFIER,
            sender_id=sender_id[:15],
            receiver_qualifier=context.interchange_sender_qualifier or "ZZ",
            receiver_id=receiver_id[:15],
            interchange_control=self.control_numbers.next_interchange(),
            group_control=self.control_numbers.next_group(),
            created=self.now,
            usage_indicator="T" if context.usage_indicator == "T" else "P",
        )


def open_report_writers(
    *,
    ack277: BinaryIO,
    json: BinaryIO,
    xml: BinaryIO,
    html: BinaryIO,
    file_name: str,
    sha256: Callable[[], str],
    control_numbers: ControlNumbers,
    now: datetime,
    extra: Callable[[], Mapping[str, Any]] | None = None,
) -> ReportSet:
    return ReportSet(
        ack277_sink=ack277,
        control_numbers=control_numbers,
        now=now,
        writers=[
            JsonReportWriter(json, file_name=file_name, sha256_provider=sha256, extra=extra),
            XmlReportWriter(xml, file_name=file_name, sha256_provider=sha256, extra=extra),
            HtmlReportWriter(html, file_name=file_name, sha256_provider=sha256, extra=extra),
        ],
    )
