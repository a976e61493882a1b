"""JSON, XML and HTML reports: shape, types, money as strings, XSD validity, escaping."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_reports_support import (
    IMAGING_WARNING,
    NOC_DRUG,
    NOC_LINE,
    OUT_OF_BALANCE,
    context,
    mixed_outcomes,
    outcome,
    summary_of,
)

from edi_guard.outcome import ClaimOutcome, Summary
from edi_guard.reports import (
    HtmlReportWriter,
    JsonReportWriter,
    ReportError,
    ReportWriter,
    XmlReportWriter,
    validate_xml_report,
)
from edi_guard.rules.base import Finding, Outcome
from edi_guard.vocab import Fee

DIGEST = hashlib.sha256(b"the input").hexdigest()
MONEY = re.compile(r"^-?[0-9]+\.[0-9]{2,}$")


def feed(
    writer: ReportWriter, outcomes: list[ClaimOutcome], summary: Summary | None = None
) -> bool:
    for item in outcomes:
        writer.add(item)
    return writer.finish(summary or summary_of(outcomes))


def json_report(
    outcomes: list[ClaimOutcome],
    *,
    binary: bool = False,
    extra: Callable[[], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    sink: io.StringIO | io.BytesIO = io.BytesIO() if binary else io.StringIO()
    writer = JsonReportWriter(
        sink, file_name="clinic.837", sha256_provider=lambda: DIGEST, extra=extra
    )
    assert feed(writer, outcomes)
    value = sink.getvalue()
    text = value.decode("utf-8") if isinstance(value, bytes) else value
    report: dict[str, Any] = json.loads(text)
    return report


def xml_report(outcomes: list[ClaimOutcome], **options: Any) -> bytes:
    sink = io.BytesIO()
    writer = XmlReportWriter(
        sink, file_name="clinic.837", sha256_provider=lambda: DIGEST, **options
    )
    assert feed(writer, outcomes)
    return sink.getvalue()


def html_report(outcomes: list[ClaimOutcome], **options: Any) -> str:
    sink = io.StringIO()
    writer = HtmlReportWriter(
        sink, file_name="clinic <1>.837", sha256_provider=lambda: DIGEST, **options
    )
    assert feed(writer, outcomes)
    return sink.getvalue()


# ---------------------------------------------------------------- JSON


def test_json_report_has_the_required_shape() -> None:
    report = json_report(mixed_outcomes())
    assert report["file"] == "clinic.837"
    assert report["sha256"] == DIGEST
    assert len(report["claims"]) == 6
    for claim in report["claims"]:
        assert isinstance(claim["claim_id"], str)
        assert isinstance(claim["st_control"], str)
        assert isinstance(claim["position"], int)
        assert claim["status"] in ("accepted", "corrected", "rejected")
        for finding in claim["findings"]:
            assert isinstance(finding["rule"], str)
            assert finding["outcome"] in ("correct", "reject", "warn")
            assert finding["line"] is None or isinstance(finding["line"], str)
            assert finding["stc"] is None or re.fullmatch(r"A\d:\d+", finding["stc"])
            assert isinstance(finding["message"], str)
            assert isinstance(finding["source"], str)
        for key in ("charge_in", "charge_out", "charge_dropped"):
            assert MONEY.match(claim[key]), claim[key]
    summary = report["summary"]
    for key in ("claims_in", "claims_accepted", "claims_corrected", "claims_rejected"):
        assert isinstance(summary[key], int)
    for key in ("charge_in", "charge_out", "charge_rejected"):
        assert isinstance(summary[key], str) and MONEY.match(summary[key])


def test_json_report_values() -> None:
    report = json_report(mixed_outcomes())
    claims = {claim["claim_id"]: claim for claim in report["claims"]}
    assert [c["position"] for c in report["claims"]] == [1, 2, 3, 4, 5, 6]
    assert claims["PCN10001"] == {
        "claim_id": "PCN10001",
        "st_control": "0001",
        "position": 1,
        "status": "accepted",
        "charge_in": "180.00",
        "charge_out": "180.00",
        "charge_dropped": "0.00",
        "place_of_service": "11",
        "is_tpi": True,
        "structure_rejected": False,
        "amount_at_stake": None,
        "findings": [],
        "rejected_lines": [],
    }
    corrected = claims["PCN10002"]
    assert corrected["status"] == "corrected"
    assert corrected["charge_out"] == "140.00"
    assert [(f["rule"], f["outcome"], f["line"], f["stc"]) for f in corrected["findings"]] == [
        ("TPI001", "correct", "1", "A7:476"),
        ("TPI004", "correct", "2", "A8:454"),
    ]
    rejected = claims["PCN10003"]
    assert rejected["findings"][0]["stc_codes"] == ["A7:400", "A7:178"]
    assert rejected["amount_at_stake"] == "59.79"
    line = claims["PCN10004"]["rejected_lines"][0]
    assert line == {
        "line": "2",
        "procedure": ["HC", "J3490"],
        "charge": "52.00",
        "units": "1",
        "line_control_number": "LINE-0002",
        "service_date": "2026-01-12",
        "service_date_end": None,
    }
    assert claims["PCN10005"]["amount_at_stake"] == "59.79"  # warned TPI claim


def test_structure_rejected_claim_is_rejected_with_an_x12_finding() -> None:
    claims = {c["claim_id"]: c for c in json_report(mixed_outcomes())["claims"]}
    failed = claims["PCN10006"]
    assert failed["status"] == "rejected"
    assert failed["structure_rejected"] is True
    assert failed["findings"][0]["rule"] == "X12"
    assert failed["findings"][0]["outcome"] == "reject"


def test_json_summary_and_money_at_stake() -> None:
    report = json_report(mixed_outcomes())
    assert report["summary"] == {
        "claims_in": 6,
        "claims_accepted": 2,
        "claims_corrected": 1,
        "claims_rejected": 3,
        "charge_in": "1132.00",
        "charge_out": "500.00",
        "charge_rejected": "592.00",
        "charge_dropped": "40.00",
        "sets_in": 3,
        "sets_rejected": 1,
        "interchanges_rejected": 0,
    }
    stake = report["at_stake"]
    assert stake["total"] == "239.16"  # four rejected or warned TPI claims in an office
    assert [
        (p["place_of_service"], p["claims"], p["rate"]) for p in stake["by_place_of_service"]
    ] == [("11", 4, "59.79")]


def test_json_report_to_a_binary_sink_with_extra_keys() -> None:
    report = json_report(
        mixed_outcomes(),
        binary=True,
        extra=lambda: {"acks": {"999": "A"}, "outputs": ["clinic.277"], "amount": Decimal("1.5")},
    )
    assert report["acks"] == {"999": "A"}
    assert report["outputs"] == ["clinic.277"]
    assert report["amount"] == "1.5"


def test_json_extra_may_not_replace_report_keys() -> None:
    writer = JsonReportWriter(
        io.StringIO(), file_name="x", sha256_provider=lambda: DIGEST, extra=lambda: {"claims": []}
    )
    with pytest.raises(ReportError, match="claims"):
        writer.finish(summary_of([]))


def test_json_report_of_no_claims_is_valid_json() -> None:
    report = json_report([])
    assert report["claims"] == []
    assert report["summary"]["claims_in"] == 0


def test_json_report_escapes_any_claim_id() -> None:
    nasty = 'A"\\\n\u2603</script>'
    report = json_report([outcome(nasty, 1)])
    assert report["claims"][0]["claim_id"] == nasty


# ---------------------------------------------------------------- XML


def test_xml_report_validates_against_the_xsd(tmp_path: Path) -> None:
    path = tmp_path / "clinic.report.xml"
    path.write_bytes(xml_report(mixed_outcomes(), extra=lambda: {"acks": {"999": "A"}, "n": "1"}))
    validate_xml_report(path)
    validate_xml_report(io.BytesIO(path.read_bytes()))


def test_xml_report_content() -> None:
    from lxml import etree

    root = etree.fromstring(xml_report(mixed_outcomes()))
    claims = root.findall("claims/claim")
    assert [c.get("claimId") for c in claims] == [f"PCN1000{i}" for i in range(1, 7)]
    assert claims[1].get("status") == "corrected"
    assert [s.text for s in claims[2].findall("finding/stc")] == ["A7:400", "A7:178"]
    assert claims[3].find("rejectedLine").get("lineControlNumber") == "LINE-0002"  # type: ignore[union-attr]
    assert claims[5].find("finding").get("rule") == "X12"  # type: ignore[union-attr]
    summary = root.find("summary")
    assert summary is not None and summary.get("chargeRejected") == "592.00"
    assert root.findtext("sha256") == DIGEST


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda x: x.replace(b'status="corrected"', b'status="fixed"'), "status"),
        (lambda x: x.replace(b'chargeIn="180.00"', b'chargeIn="180"', 1), "chargeIn"),
        (lambda x: x.replace(b"<sha256>", b"<sha256>zz"), "sha256"),
        (lambda x: x.replace(b"</report>", b"<unexpected/></report>"), "unexpected"),
        (lambda x: x.replace(b"</report>", b""), "report"),
    ],
)
def test_a_broken_xml_report_does_not_validate(
    tmp_path: Path, change: Callable[[bytes], bytes], expected: str
) -> None:
    path = tmp_path / "broken.xml"
    path.write_bytes(change(xml_report(mixed_outcomes())))
    with pytest.raises(ReportError, match=expected):
        validate_xml_report(path)


def test_xml_report_of_no_claims_validates() -> None:
    validate_xml_report(io.BytesIO(xml_report([])))


def test_xml_report_drops_characters_xml_cannot_carry() -> None:
    data = xml_report([outcome("A\x00B\x1f<&>\u2603", 1)])
    validate_xml_report(io.BytesIO(data))
    from lxml import etree

    assert etree.fromstring(data).find("claims/claim").get("claimId") == "AB<&>\u2603"  # type: ignore[union-attr]


def test_unpriced_place_of_service_is_still_counted(tmp_path: Path) -> None:
    def no_fees(place: str) -> Fee | None:
        return None

    items = [outcome("PCN1", 1, "rejected", (OUT_OF_BALANCE,), place_of_service="99")]
    data = xml_report(items, fees=no_fees)
    validate_xml_report(io.BytesIO(data))
    assert b'<place placeOfService="99" setting="" claims="1" amount="0.00"' in data


# ---------------------------------------------------------------- HTML


def test_html_report_shows_counts_and_findings() -> None:
    page = html_report(mixed_outcomes())
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    for label, value in [
        ("Claims in", "6"),
        ("Accepted", "2"),
        ("Corrected", "1"),
        ("Rejected", "3"),
    ]:
        assert f'data-count="{label}">{label}<b>{value}</b>' in page
    assert "$1132.00" in page
    assert "TPI013" in page and "NOC drug line needs the drug name" in page
    assert "MAC instructions (CGS, Palmetto, WPS)" in page  # rule sources
    assert "A7:400, A7:178" in page


def test_html_report_shows_money_at_stake_by_place_of_service() -> None:
    page = html_report(mixed_outcomes())
    assert "amount at stake by place of service" in page
    assert '<td class="num">4</td><td class="num">$59.79</td><td class="num">$239.16</td>' in page
    assert "$239.16" in page


def test_html_report_escapes_everything() -> None:
    evil = Finding("TPI013", Outcome.REJECT, "<img src=x onerror=alert(1)>", stc=("A6:217",))
    page = html_report([outcome("<script>alert('x')</script>", 1, "rejected", (evil,))])
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<img" not in page
    assert "clinic &lt;1&gt;.837" in page


def test_html_report_is_self_contained() -> None:
    page = html_report(mixed_outcomes())
    assert not re.search(r"<(script|link|img|iframe)\b", page)
    assert "http://" not in page and "https://" not in page


def test_html_report_caps_rows_and_says_so() -> None:
    items = [
        outcome(f"PCN{i}", i, "rejected", (NOC_DRUG,), rejected_lines=(NOC_LINE,))
        for i in range(1, 6)
    ]
    items += [outcome(f"OK{i}", 5 + i) for i in range(1, 4)]
    page = html_report(items, max_rows=2)
    assert "PCN2" in page and "PCN3" not in page
    assert "3 more claims not shown" in page
    assert "OK2" in page and "OK3" not in page
    assert "1 more claims not shown" in page


def test_html_report_clean_file() -> None:
    items = [outcome("PCN1", 1, "accepted", (), set_context=context("0009"))]
    page = html_report(items)
    assert "No rejected or warned TPI claim." in page
    assert "PCN1" in page


def test_html_report_to_a_binary_sink() -> None:
    sink = io.BytesIO()
    writer = HtmlReportWriter(sink, file_name="f.837", extra=lambda: {"outputs": ["f.277"]})
    assert feed(writer, [outcome("PCN\u00e9", 1, "accepted", (IMAGING_WARNING,))])
    page = sink.getvalue().decode("utf-8")
    assert "PCN\u00e9" in page
    assert "f.277" in page


# ---------------------------------------------------------------- protocol


@pytest.mark.parametrize("kind", ["json", "xml", "html"])
def test_writers_refuse_use_after_finish(kind: str) -> None:
    writer: ReportWriter
    if kind == "json":
        writer = JsonReportWriter(io.StringIO(), file_name="f", sha256_provider=lambda: DIGEST)
    elif kind == "xml":
        writer = XmlReportWriter(io.BytesIO(), file_name="f", sha256_provider=lambda: DIGEST)
    else:
        writer = HtmlReportWriter(io.StringIO(), file_name="f")
    writer.finish(summary_of([]))
    with pytest.raises(RuntimeError):
        writer.add(outcome("PCN1", 1))
    with pytest.raises(RuntimeError):
        writer.finish(summary_of([]))


@pytest.mark.slow
def test_xml_validation_runs_in_flat_memory(tmp_path: Path) -> None:
    """libxml2 allocations escape tracemalloc: measure the peak RSS of a child process."""
    import subprocess
    import sys

    from test_ack277 import _nth

    path = tmp_path / "big.report.xml"
    with path.open("wb") as sink:
        writer = XmlReportWriter(sink, file_name="big.837", sha256_provider=lambda: DIGEST)
        assert feed(writer, [_nth(i) for i in range(20_000)], summary_of([]))
    script = (
        "import resource, sys\n"
        "from edi_guard.reports.xml_report import report_schema, validate_xml_report\n"
        "report_schema()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "validate_xml_report(sys.argv[1])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    grown_kib = int(
        subprocess.run(
            [sys.executable, "-c", script, str(path)], check=True, capture_output=True, text=True
        ).stdout
    )
    # The file is about 7 MB; a tree of it would take about ten times that.
    assert grown_kib < 8 * 1024, grown_kib
