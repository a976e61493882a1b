"""The XML report, streamed with ``lxml.etree.xmlfile``; valid against ``schemas/report.xsd``.

One ``claim`` element is built and written per outcome (then dropped), so memory stays flat.
The summary, money at stake and the file digest follow the claims. Text that XML 1.0 cannot
carry (control characters other than tab, newline and carriage return) is dropped.

:func:`validate_xml_report` checks a written report against the XSD while parsing it
incrementally (``iterparse`` with the schema), clearing each claim once read, so a report of
millions of claims validates in flat memory too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from functools import cache
from pathlib import Path
from typing import IO, Any, BinaryIO

from lxml import etree

from edi_guard.data import schema_file
from edi_guard.outcome import ClaimOutcome, Summary
from edi_guard.reports._common import AmountAtStake, money, xml_text
from edi_guard.reports._protocol import ReportWriter
from edi_guard.reports._records import (
    SCHEMA_VERSION,
    ClaimRecord,
    StakeTotals,
    SummaryRecord,
    claim_record,
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
        self._sha256 = sha256_provider
        self._extra = extra
        self._stake = StakeTotals(fees)
        self._finished = False
        self._stack = ExitStack()
        self._xf = self._stack.enter_context(etree.xmlfile(sink, encoding="utf-8"))
        self._xf.write_declaration()
        attributes = {"schemaVersion": str(SCHEMA_VERSION), "file": xml_text(file_name)}
        self._stack.enter_context(self._xf.element("report", attributes))
        self._xf.write("\n")
        self._claims = self._xf.element("claims")
        self._claims.__enter__()

    def add(self, outcome: ClaimOutcome) -> None:
        if self._finished:
            raise RuntimeError("XmlReportWriter.add after finish")
        fee = self._stake.add(outcome)
        self._xf.write("\n")
        self._xf.write(claim_element(claim_record(outcome, fee)))

    def close(self) -> None:
        """Abandon the document (the run failed); the caller discards the file."""
        if self._finished:
            return
        self._finished = True
        try:
            self._claims.__exit__(None, None, None)
            self._stack.close()
        except (etree.LxmlError, OSError, ValueError):
            pass  # an abandoned document may be closed in any state; it is thrown away

    def finish(self, summary: Summary) -> bool:
        if self._finished:
            raise RuntimeError("XmlReportWriter.finish called twice")
        self._finished = True
        xf = self._xf
        try:
            xf.write("\n")
            self._claims.__exit__(None, None, None)
            xf.write("\n")
            xf.write(summary_element(summary_record(summary)))
            xf.write("\n")
            xf.write(self._stake_element())
            xf.write("\n")
            digest = etree.Element("sha256")
            digest.text = self._sha256()
            xf.write(digest)
            for name, value in (self._extra() if self._extra is not None else {}).items():
                xf.write("\n")
                xf.write(extra_element(name, value))
            xf.write("\n")
        finally:
            self._stack.close()
        return True

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
