"""Report writers: 277CA (005010X214), JSON, XML and HTML.

Each is fed claim outcomes one at a time in file order (:meth:`ReportWriter.add`) and the
file summary at the end (:meth:`ReportWriter.finish`), and keeps memory flat: what must come
before the claims (totals, counts) is assembled at finish from spools and running totals.
"""

from __future__ import annotations

from edi_guard.reports._protocol import ReportWriter
from edi_guard.reports.ack277 import Ack277Writer, AckEnvelope
from edi_guard.reports.errors import ReportError
from edi_guard.reports.html_report import HtmlReportWriter
from edi_guard.reports.json_report import JsonReportWriter
from edi_guard.reports.xml_report import XmlReportWriter, validate_xml_report

__all__ = [
    "Ack277Writer",
    "AckEnvelope",
    "HtmlReportWriter",
    "JsonReportWriter",
    "ReportError",
    "ReportWriter",
    "XmlReportWriter",
    "validate_xml_report",
]
