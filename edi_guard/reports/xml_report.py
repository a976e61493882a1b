"""The XML report, streamed; valid against ``schemas/report.xsd``.

One ``claim`` element is written per outcome (then dropped), so memory stays flat. The
summary, money at stake and the file digest follow the claims. Text that XML 1.0 cannot
carry (control characters other than tab, newline and carriage return) is dropped.

A claim's markup is built as text (:func:`claim_markup`): an lxml element per claim cost
more than the rest of the report. It is the markup lxml (libxml2) writes for
:func:`claim_element`, byte for byte, which the tests check; the once-per-file parts are
still lxml elements.

:func:`validate_xml_report` checks a written report against the XSD while parsing it
incrementally (``iterparse`` with the schema), clearing each claim once read, so a report of
millions of claims validates in flat memory too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import IO, Any, BinaryIO

from lxml import etree

from edi_guard.data import schema_file
from edi_guard.outcome import ClaimOutcome, Summary
from edi_guard.reports._common import AmountAtStake, TextBatch, money, xml_text
from edi_guard.reports._protocol import ReportWriter
from edi_guard.reports._records import (
    SCHEMA_VERSION,
    ClaimEntry,
    ClaimRecord,
    StakeTotals,
    SummaryRecord,
    claim_entry,
    summary_record,
)
from edi_guard.reports.errors import ReportError
from edi_guard.vocab import amount_at_stake

XSD_NAME = "report.xsd"


class XmlReportWriter(ReportWriter):
    """Stream the XML report to a binary ``sink`` (UTF-8)."""

    def __init__(
        self,
        sink: BinaryIO,
        *,
        file_name: str,
        sha256_provider: Callable[[], str],
        extra: Callable[[], Mapping[str, Any]] | None = None,
        fees: AmountAtStake = amount_at_stake,
    ) -> None:
        self._sink = sink
        self._sha256 = sha256_provider
        self._extra = extra
        self._stake = StakeTotals(fees)
        self._finished = False
        self._batch = TextBatch(self._write)
        # What lxml's xmlfile wrote for this head (declaration, <report>, <claims>).
        self._write(
            "<?xml version='1.0' encoding='utf-8'?>\n"
            f'<report schemaVersion="{SCHEMA_VERSION}" file="{_attribute(xml_text(file_name))}">'
            "\n<claims>"
        )

    def add(self, outcome: ClaimOutcome) -> None:
        self.add_entry(claim_entry(outcome, self._stake.fees))

    def add_entry(self, entry: ClaimEntry) -> None:
        """:meth:`add` for a claim whose record is already built (shared by the writers)."""
        if self._finished:
            raise RuntimeError("XmlReportWriter.add after finish")
        self._stake.count(entry)
        self._batch.add("\n" + claim_markup(entry.record))

    def close(self) -> None:
        """Abandon the document (the run failed); the caller discards the file."""
        self._finished = True
        self._batch.discard()

    def finish(self, summary: Summary) -> bool:
        if self._finished:
            raise RuntimeError("XmlReportWriter.finish called twice")
        self._finished = True
        self._batch.flush()
        digest = etree.Element("sha256")
        digest.text = self._sha256()
        elements = [summary_element(summary_record(summary)), self._stake_element(), digest]
        for name, value in (self._extra() if self._extra is not None else {}).items():
            elements.append(extra_element(name, value))
        tail = b"\n</claims>" + b"".join(
            b"\n" + etree.tostring(element, encoding="utf-8") for element in elements
        )
        self._sink.write(tail + b"\n</report>")
        return True

    def _write(self, text: str) -> None:
        self._sink.write(text.encode("utf-8"))

    def _stake_element(self) -> etree._Element:
        stake = etree.Element("atStake", total=money(self._stake.total()))
        for record in self._stake.records():
            place = etree.SubElement(
                stake,
                "place",
                placeOfService=xml_text(record["place_of_service"]),
                setting=xml_text(record["setting"]),
                claims=str(record["claims"]),
                amount=record["amount"],
                basis=xml_text(record["basis"]),
            )
            if record["rate"] is not None:
                place.set("rate", record["rate"])
            if record["verified"] is not None:
                place.set("verified", _bool(record["verified"]))
        return stake


def claim_element(record: ClaimRecord) -> etree._Element:
    claim = etree.Element(
        "claim",
        claimId=xml_text(record["claim_id"]),
        stControl=xml_text(record["st_control"]),
        position=str(record["position"]),
        status=record["status"],
        chargeIn=record["charge_in"],
        chargeOut=record["charge_out"],
        chargeDropped=record["charge_dropped"],
        placeOfService=xml_text(record["place_of_service"]),
        tpi=_bool(record["is_tpi"]),
        structureRejected=_bool(record["structure_rejected"]),
    )
    if record["amount_at_stake"] is not None:
        claim.set("amountAtStake", record["amount_at_stake"])
    for finding in record["findings"]:
        element = etree.SubElement(
            claim, "finding", rule=xml_text(finding["rule"]), outcome=finding["outcome"]
        )
        if finding["line"] is not None:
            element.set("line", xml_text(finding["line"]))
        for code in finding["stc_codes"]:
            etree.SubElement(element, "stc").text = xml_text(code)
        etree.SubElement(element, "message").text = xml_text(finding["message"])
        if finding["source"]:
            etree.SubElement(element, "source").text = xml_text(finding["source"])
    for line in record["rejected_lines"]:
        element = etree.SubElement(
            claim, "rejectedLine", line=xml_text(line["line"]), charge=line["charge"]
        )
        optional = {
            "units": line["units"],
            "lineControlNumber": line["line_control_number"] or None,
            "serviceDate": line["service_date"],
            "serviceDateEnd": line["service_date_end"],
        }
        for name, value in optional.items():
            if value is not None:
                element.set(name, xml_text(value))
        for component in line["procedure"]:
            etree.SubElement(element, "component").text = xml_text(component)
    return claim


def claim_markup(record: ClaimRecord) -> str:
    """The ``claim`` element of :func:`claim_element` as lxml serializes it, built as text.

    Values from the input are filtered and escaped; the status, outcomes and money strings
    are ours (a status word, digits and a point), with nothing to escape.
    """
    out = [
        f'<claim claimId="{_attribute(xml_text(record["claim_id"]))}"'
        f' stControl="{_attribute(xml_text(record["st_control"]))}"'
        f' position="{int(record["position"])}" status="{record["status"]}"'
        f' chargeIn="{record["charge_in"]}" chargeOut="{record["charge_out"]}"'
        f' chargeDropped="{record["charge_dropped"]}"'
        f' placeOfService="{_attribute(xml_text(record["place_of_service"]))}"'
        f' tpi="{_bool(record["is_tpi"])}"'
        f' structureRejected="{_bool(record["structure_rejected"])}"'
    ]
    if record["amount_at_stake"] is not None:
        out.append(f' amountAtStake="{record["amount_at_stake"]}"')
    if not record["findings"] and not record["rejected_lines"]:
        out.append("/>")
        return "".join(out)
    out.append(">")
    for finding in record["findings"]:
        out.append(
            f'<finding rule="{_attribute(xml_text(finding["rule"]))}"'
            f' outcome="{finding["outcome"]}"'
        )
        if finding["line"] is not None:
            out.append(f' line="{_attribute(xml_text(finding["line"]))}"')
        out.append(">")
        for code in finding["stc_codes"]:
            out.append(f"<stc>{_text(xml_text(code))}</stc>")
        out.append(f"<message>{_text(xml_text(finding['message']))}</message>")
        if finding["source"]:
            out.append(f"<source>{_text(xml_text(finding['source']))}</source>")
        out.append("</finding>")
    for line in record["rejected_lines"]:
        out.append(
            f'<rejectedLine line="{_attribute(xml_text(line["line"]))}" charge="{line["charge"]}"'
        )
        optional = (
            ("units", line["units"]),
            ("lineControlNumber", line["line_control_number"] or None),
            ("serviceDate", line["service_date"]),
            ("serviceDateEnd", line["service_date_end"]),
        )
        for name, value in optional:
            if value is not None:
                out.append(f' {name}="{_attribute(xml_text(value))}"')
        if not line["procedure"]:
            out.append("/>")
            continue
        out.append(">")
        for component in line["procedure"]:
            out.append(f"<component>{_text(xml_text(component))}</component>")
        out.append("</rejectedLine>")
    out.append("</claim>")
    return "".join(out)


# libxml2's escaping: in attribute values & < > " and the three whitespace controls (as
# character references, so a parser does not normalise them to spaces); in text & < > and
# carriage return. Everything else, non-ASCII included, is written as UTF-8.
_ATTRIBUTE_SPECIAL = re.compile('[&<>"\t\n\r]')
_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;"}
    | {"\r": "&#13;"}
)
_TEXT_SPECIAL = re.compile("[&<>\r]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def _attribute(value: str) -> str:
    if _ATTRIBUTE_SPECIAL.search(value) is None:
        return value
    return value.translate(_ATTRIBUTE_ESCAPES)


def _text(value: str) -> str:
    if _TEXT_SPECIAL.search(value) is None:
        return value
    return value.translate(_TEXT_ESCAPES)


def summary_element(record: SummaryRecord) -> etree._Element:
    return etree.Element(
        "summary",
        claimsIn=str(record["claims_in"]),
        claimsAccepted=str(record["claims_accepted"]),
        claimsCorrected=str(record["claims_corrected"]),
        claimsRejected=str(record["claims_rejected"]),
        chargeIn=record["charge_in"],
        chargeOut=record["charge_out"],
        chargeRejected=record["charge_rejected"],
        chargeDropped=record["charge_dropped"],
        setsIn=str(record["sets_in"]),
        setsRejected=str(record["sets_rejected"]),
        interchangesRejected=str(record["interchanges_rejected"]),
    )


def extra_element(name: str, value: object) -> etree._Element:
    """Caller data: a string as text, anything else as JSON text (``json="true"``)."""
    element = etree.Element("extra", name=xml_text(name))
    if isinstance(value, str):
        element.text = xml_text(value)
    else:
        element.set("json", "true")
        element.text = xml_text(json.dumps(value, default=str, ensure_ascii=True))
    return element


def _bool(value: bool) -> str:
    return "true" if value else "false"


@cache
def report_schema() -> etree.XMLSchema:
    """``schemas/report.xsd``, parsed once."""
    return etree.XMLSchema(etree.parse(str(schema_file(XSD_NAME))))


def validate_xml_report(source: Path | str | IO[bytes]) -> None:
    """Raise :class:`ReportError` unless ``source`` is a well-formed report valid against
    ``schemas/report.xsd``; the message names the line and what the schema expected."""
    schema = report_schema()
    where = str(source) if isinstance(source, Path | str) else "XML report"
    try:
        for _event, element in etree.iterparse(
            source if not isinstance(source, Path) else str(source), events=("end",), schema=schema
        ):
            if element.tag == "claim":
                element.clear(keep_tail=True)
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as error:
        raise ReportError(f"{where}: not a valid report: {error}") from None
