"""The 277CA writer: layout, totals, codes, delimiters, validity under pyx12, flat memory."""

from __future__ import annotations

import io
import tempfile
import tracemalloc
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_reports_support import (
    NOC_LINE,
    PROVIDER_A,
    PROVIDER_B,
    UNITS_CORRECTED,
    context,
    envelope,
    mixed_outcomes,
    outcome,
    pyx12_verdict,
    summary_of,
)

from edi_guard.model.claim import Party
from edi_guard.outcome import ClaimOutcome, SetContext, Status
from edi_guard.reports import ReportWriter
from edi_guard.reports.ack277 import (
    Ack277Error,
    Ack277Writer,
    AckEnvelope,
    x12_amount,
    x12_text,
)
from edi_guard.rules.base import Finding, Outcome

Segments = list[list[str]]


def write_277(outcomes: list[ClaimOutcome], env: AckEnvelope | None = None) -> bytes | None:
    sink = io.BytesIO()
    writer: ReportWriter = Ack277Writer(sink, env or envelope())
    for item in outcomes:
        writer.add(item)
    written = writer.finish(summary_of(outcomes))
    assert written == bool(sink.getvalue())
    return sink.getvalue() if written else None


def parse(data: bytes) -> Segments:
    text = data.decode("ascii")
    element, terminator = text[3], text[105]
    return [s.split(element) for s in text.split(terminator) if s]


def component_separator(data: bytes) -> str:
    return data.decode("ascii")[104]


def validate(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "answer.277"
    path.write_bytes(data)
    verdict = pyx12_verdict(path)
    assert verdict.ok, (verdict.errors, verdict.ack)


def loops(segments: Segments, tag: str, *qualifiers: str) -> list[list[str]]:
    return [s for s in segments if s[0] == tag and s[1 : 1 + len(qualifiers)] == list(qualifiers)]


def claim_blocks(segments: Segments) -> dict[str, Segments]:
    """2000D blocks by TRN*2 (CLM01)."""
    blocks: dict[str, Segments] = {}
    current: Segments | None = None
    for seg in segments:
        if seg[0] == "HL":
            current = [seg] if seg[3] == "PT" else None
        elif current is not None:
            if seg[0] in ("SE",):
                current = None
                continue
            current.append(seg)
            if seg[0] == "TRN":
                blocks[seg[2]] = current
    return blocks


# ---------------------------------------------------------------- layout and validity


def test_mixed_file_validates_under_pyx12(tmp_path: Path) -> None:
    data = write_277(mixed_outcomes())
    assert data is not None
    validate(tmp_path, data)


def test_one_277_set_per_837_set_and_structure_rejected_claims_left_out() -> None:
    data = write_277(mixed_outcomes())
    assert data is not None
    segments = parse(data)
    assert [s[1:4] for s in loops(segments, "ST")] == [
        ["277", "0001", "005010X214"],
        ["277", "0002", "005010X214"],
    ]
    assert [s[2] for s in loops(segments, "TRN", "2")] == [
        "BATCH0042",
        "PCN10001",
        "PCN10002",
        "PCN10003",
        "PCN10004",
        "BATCH0043",
        "PCN10005",
    ]
    assert "PCN10006" not in data.decode()
    assert loops(segments, "GE")[0][1] == "2"
    assert loops(segments, "IEA")[0][1:] == ["1", "000000101"]


def test_billing_providers_become_2000c_loops_with_their_totals() -> None:
    data = write_277(mixed_outcomes())
    assert data is not None
    segments = parse(data)
    first_set = segments[: next(i for i, s in enumerate(segments) if s[0] == "SE")]
    providers = [s for s in first_set if s[:2] == ["NM1", "85"]]
    assert [p[9] for p in providers] == [PROVIDER_A.identifier, PROVIDER_B.identifier]
    hl = [s for s in first_set if s[0] == "HL"]
    assert [h[1:4] for h in hl] == [
        ["1", "", "20"],
        ["2", "1", "21"],
        ["3", "2", "19"],
        ["4", "3", "PT"],
        ["5", "3", "PT"],
        ["6", "3", "PT"],
        ["7", "2", "19"],
        ["8", "7", "PT"],
    ]
    # 2200B: the whole set; 2200C: per provider (QTY/AMT only where non-zero).
    assert loops(first_set, "QTY") == [
        ["QTY", "90", "2"],
        ["QTY", "AA", "2"],
        ["QTY", "QA", "2"],
        ["QTY", "QC", "1"],
        ["QTY", "QC", "1"],
    ]
    assert loops(first_set, "AMT") == [
        ["AMT", "YU", "360"],
        ["AMT", "YY", "412"],
        ["AMT", "YU", "360"],
        ["AMT", "YY", "232"],
        ["AMT", "YY", "180"],
    ]
    stc = [s for s in first_set if s[0] == "STC" and s[1].startswith("A1")]
    assert [s[4] for s in stc] == ["772", "592", "180"]


def test_se_counts_every_segment_of_its_set() -> None:
    data = write_277(mixed_outcomes())
    assert data is not None
    segments = parse(data)
    start = 0
    for index, seg in enumerate(segments):
        if seg[0] == "ST":
            start = index
        elif seg[0] == "SE":
            assert int(seg[1]) == index - start + 1
            assert seg[2] == segments[start][2]


# ---------------------------------------------------------------- claim status


def test_accepted_claim_is_forwarded_to_the_payer() -> None:
    data = write_277(mixed_outcomes())
    assert data is not None
    block = claim_blocks(parse(data))["PCN10001"]
    assert [s for s in block if s[0] == "STC"] == [["STC", "A0:16:PR", "20260115", "WQ", "180"]]
    assert ["DTP", "472", "D8", "20260110"] in block
    assert ["REF", "D9", "CHTRACE1"] in block
    assert block[1][:4] == ["NM1", "QC", "1", "DOE"]
    assert block[1][8:] == ["MI", "1EG4TE5MK72"]


def test_corrected_claim_names_each_correction() -> None:
    data = write_277(mixed_outcomes())
    assert data is not None
    stc = [s for s in claim_blocks(parse(data))["PCN10002"] if s[0] == "STC"]
    assert stc[0][:5] == ["STC", "A0:16:PR", "20260115", "WQ", "180"]
    assert stc[0][10:12] == ["A0:748", "A0:476"]
    assert stc[0][12] == "CORRECTED TPI001 LINE 1; CORRECTED TPI004 LINE 2"
    assert stc[1] == ["STC", "A0:748", "20260115", "WQ", "180", "", "", "", "", "", "A0:454"]


def test_claim_level_rejection_carries_the_rule_codes_and_message() -> None:
    data = write_277(mixed_outcomes())
    assert data is not None
    block = claim_blocks(parse(data))["PCN10003"]
    stc = [s for s in block if s[0] == "STC"]
    assert len(stc) == 1
    assert stc[0][1:5] == ["A7:400", "20260115", "U", "232"]
    assert stc[0][10] == "A7:178"
    assert stc[0][12].startswith("CLM001 - CLM02 232.00 is not the sum")
    assert not [s for s in block if s[0] == "SVC"]


def test_line_level_rejection_echoes_the_line_in_2220d() -> None:
    data = write_277(mixed_outcomes())
    assert data is not None
    block = claim_blocks(parse(data))["PCN10004"]
    assert ["DTP", "472", "RD8", "20260110-20260112"] in block
    svc = block.index(["SVC", "HC:J3490", "52", "", "", "", "", "1"])
    assert block[svc + 1] == ["STC", "A6:217", "20260115", "U"]
    assert block[svc + 2] == ["REF", "FJ", "LINE-0002"]
    assert block[svc + 3] == ["DTP", "472", "D8", "20260112"]
    claim_stc = [s for s in block[:svc] if s[0] == "STC"]
    assert claim_stc[0][1:5] == ["A6:217", "20260115", "U", "180"]
    assert (
        claim_stc[0][12] == "TPI013 LINE 2 - NOC drug line needs the drug name and dose in SV101-7"
    )


def test_every_rejecting_finding_gets_its_own_claim_stc(tmp_path: Path) -> None:
    from test_reports_support import NOC_DRUG, OUT_OF_BALANCE

    item = outcome(
        "PCN1",
        1,
        "rejected",
        (OUT_OF_BALANCE, NOC_DRUG, UNITS_CORRECTED),
        rejected_lines=(NOC_LINE,),
    )
    data = write_277([item])
    assert data is not None
    validate(tmp_path, data)
    stc = [s for s in parse(data) if s[0] == "STC" and s[3] == "U"]
    assert [s[1] for s in stc] == ["A7:400", "A6:217", "A6:217"]


def test_reject_without_codes_or_with_a_non_reject_category_stays_valid(tmp_path: Path) -> None:
    odd = Finding("TPI999", Outcome.REJECT, "internal error: rule crashed", stc=())
    wrong = Finding("TPI998", Outcome.REJECT, "category of an acceptance", stc=("A2:20",))
    data = write_277(
        [
            outcome("PCN1", 1, "rejected", (odd,)),
            outcome("PCN2", 2, "rejected", (wrong,)),
            outcome("PCN3", 3, "rejected", ()),
            outcome("PCN4", 4, "rejected", (), rejected_lines=(NOC_LINE,)),
        ]
    )
    assert data is not None
    validate(tmp_path, data)
    stc = [s[1] for s in parse(data) if s[0] == "STC" and s[3] == "U"]
    assert stc == ["A3:21", "A3:20", "A3:21", "A3:21", "A3:21"]


def test_warning_on_accepted_claim_is_named_in_stc12(tmp_path: Path) -> None:
    data = write_277(mixed_outcomes())
    assert data is not None
    stc = [s for s in claim_blocks(parse(data))["PCN10005"] if s[0] == "STC"]
    assert stc == [
        [
            "STC",
            "A0:16:PR",
            "20260115",
            "WQ",
            "180",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "WARNING TPI018 LINE 3",
        ]
    ]


# ---------------------------------------------------------------- nothing to answer


def test_nothing_written_when_every_set_failed_structure() -> None:
    items = [outcome(f"PCN{i}", i, "rejected", structure_rejected=True) for i in (1, 2)]
    sink = io.BytesIO()
    writer = Ack277Writer(sink, envelope())
    for item in items:
        writer.add(item)
    assert writer.finish(summary_of(items)) is False
    assert sink.getvalue() == b""


def test_nothing_written_for_an_empty_file() -> None:
    sink = io.BytesIO()
    assert Ack277Writer(sink, envelope()).finish(summary_of([])) is False
    assert sink.getvalue() == b""


def test_add_after_finish_is_a_bug() -> None:
    writer = Ack277Writer(io.BytesIO(), envelope())
    writer.finish(summary_of([]))
    with pytest.raises(RuntimeError):
        writer.add(outcome("PCN1", 1))


# ---------------------------------------------------------------- envelope


def test_envelope_fields(tmp_path: Path) -> None:
    env = envelope(interchange_control=7, group_control=8, usage_indicator="P")
    data = write_277([outcome("PCN1", 1)], env)
    assert data is not None
    validate(tmp_path, data)
    text = data.decode()
    assert len(text.split("~")[0]) + 1 == 106
    segments = parse(data)
    assert segments[0][6:16] == [
        "EDIGUARD       ",
        "ZZ",
        "CLINIC01       ",
        "260115",
        "1030",
        "^",
        "00501",
        "000000007",
        "0",
        "P",
    ]
    assert segments[1] == [
        "GS",
        "HN",
        "EDIGUARD",
        "CLINIC01",
        "20260115",
        "1030",
        "8",
        "X",
        "005010X214",
    ]
    assert segments[-2:] == [["GE", "1", "8"], ["IEA", "1", "000000007"]]
    assert ["NM1", "AY", "2", "EDI GUARD", "", "", "", "", "46", "EDIGUARD"] in segments


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sender_qualifier", "Z"),
        ("sender_id", ""),
        ("receiver_id", "X" * 16),
        ("sender_id", "A\u00c9B"),
        ("interchange_control", 0),
        ("group_control", 1_000_000_000),
        ("usage_indicator", "X"),
        ("our_entity", "41"),
    ],
)
def test_bad_envelope_is_refused(field: str, value: object) -> None:
    with pytest.raises(Ack277Error, match=field):
        envelope(**{field: value})


# ---------------------------------------------------------------- delimiters and text


def test_claim_id_holding_the_default_delimiters_is_echoed_exactly(tmp_path: Path) -> None:
    data = write_277([outcome("A*1:2^3~4", 1, member_id="M:1")])
    assert data is not None
    validate(tmp_path, data)
    text = data.decode()
    assert (text[3], text[104], text[82], text[105]) == ("|", "\\", "{", "`")
    assert ["TRN", "2", "A*1:2^3~4"] in parse(data)


def test_every_candidate_taken_falls_back_to_replacement(tmp_path: Path) -> None:
    data = write_277([outcome("*|:\\^{~`X", 1)])
    assert data is not None
    validate(tmp_path, data)
    text = data.decode()
    assert (text[3], text[104], text[82], text[105]) == ("*", ":", "^", "~")
    assert ["TRN", "2", "?|?\\?{?`X"] in parse(data)


def test_names_are_made_x12_text(tmp_path: Path) -> None:
    patient = Party("QC", "  Mu\u00f1oz-O\u2019Brien\t", "José Ñ", "MI", "")
    data = write_277([outcome("PCN1", 1, patient=patient)])
    assert data is not None
    validate(tmp_path, data)
    nm1 = next(s for s in parse(data) if s[:2] == ["NM1", "QC"])
    assert nm1[3:5] == ["Munoz-O?Brien", "Jose N"]


def test_claim_the_pipeline_could_not_map_still_validates(tmp_path: Path) -> None:
    unmapped = replace(
        outcome(
            "PCN2", 2, "rejected", (Finding("X12", Outcome.REJECT, "bad CLM02", stc=("A7:21",)),)
        ),
        patient=Party("QC", ""),
        member_id="",
        clearinghouse_trace="",
        first_service_date=None,
        last_service_date=None,
        context=SetContext(
            "0001", "BATCH0042", context().submitter, context().receiver, Party("85", "")
        ),
    )
    data = write_277([outcome("PCN1", 1), unmapped])
    assert data is not None
    validate(tmp_path, data)
    segments = parse(data)
    assert len([s for s in segments if s[:2] == ["NM1", "85"]]) == 1  # stays with PCN1's 2000C
    assert ["NM1", "QC", "1", "UNKNOWN", "", "", "", "", "MI", "UNKNOWN"] in segments
    assert ["DTP", "472", "D8", "20260115"] in segments  # no service date: processing date


def test_long_values_are_cut_to_the_element_maximum(tmp_path: Path) -> None:
    long_message = Finding("CLM001", Outcome.REJECT, "x" * 400, stc=("A7:400",))
    patient = Party("QC", "L" * 70, "F" * 40)
    data = write_277([outcome("C" * 60, 1, "rejected", (long_message,), patient=patient)])
    assert data is not None
    validate(tmp_path, data)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("180.00", "180"), ("59.79", "59.79"), ("0", "0"), ("1E+2", "100"), ("0.50", "0.5")],
)
def test_x12_amount(value: str, expected: str) -> None:
    assert x12_amount(Decimal(value)) == expected


def test_x12_text_drops_what_x12_cannot_carry() -> None:
    assert x12_text(" a\x00b\u00e9\u2603 ") == "a be?"
    assert x12_text(" a\x00b\u00e9\u2603 ", 4) == "a be"
    assert x12_text("x" * 10, 3) == "xxx"


_ids = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=38
)


_POOLS = (("*", "|"), (":", "\\"), ("^", "{"), ("~", "`"))


def _expected_echo(claim_id: str, *others: str) -> str:
    """TRN02 as the writer's documented delimiter choice predicts it."""
    echo = x12_text(claim_id, 50) or "UNKNOWN"
    used = set(echo).union(*others)
    chosen = [next((c for c in pool if c not in used), pool[0]) for pool in _POOLS]
    return "".join("?" if c in chosen and c in used else c for c in echo)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(claim_id=_ids, last_name=_ids, member_id=_ids)
@example(claim_id="*", last_name="0", member_id="|")  # a 1-character NM109 goes out as UNKNOWN
def test_any_echoed_text_gives_a_valid_277(
    tmp_path: Path, claim_id: str, last_name: str, member_id: str
) -> None:
    item = outcome(
        claim_id,
        1,
        "rejected",
        (UNITS_CORRECTED,),
        patient=Party("QC", last_name),
        member_id=member_id,
    )
    data = write_277([item, outcome("PCN2", 2)])
    assert data is not None
    validate(tmp_path, data)
    trn = [s for s in parse(data) if s[:2] == ["TRN", "2"]]
    # What the writer echoes besides CLM01: NM103 (at least 1 character) and NM109 (at
    # least 2); shorter values go out as UNKNOWN, so their characters are not in the file.
    written_name = x12_text(last_name, 60) or "UNKNOWN"
    written_member = x12_text(member_id, 80)
    written_member = written_member if len(written_member) >= 2 else "UNKNOWN"
    assert trn[1][2] == _expected_echo(claim_id, written_name, written_member)


# ---------------------------------------------------------------- scale


def _nth(i: int) -> ClaimOutcome:
    provider = PROVIDER_A if (i // 7) % 2 == 0 else PROVIDER_B
    set_context = context(st_control=f"{i // 5000 + 1:04d}", bht=f"B{i // 5000}", provider=provider)
    if i % 3 == 0:
        return outcome(
            f"PCN{i}",
            i + 1,
            "rejected",
            (UNITS_CORRECTED,),
            set_context=set_context,
            rejected_lines=(NOC_LINE,),
        )
    status: Status = "corrected" if i % 3 == 1 else "accepted"
    findings = (UNITS_CORRECTED,) if status == "corrected" else ()
    return outcome(f"PCN{i}", i + 1, status, findings, set_context=set_context)


def _peak_memory(count: int, *, spool_memory: int) -> int:
    items = [_nth(i) for i in range(count)]  # built before tracing: not the writer's memory
    with tempfile.TemporaryFile() as sink:
        tracemalloc.start()
        try:
            writer = Ack277Writer(sink, envelope(), spool_memory=spool_memory)
            for item in items:
                writer.add(item)
            assert writer.finish(summary_of([]))
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


@pytest.mark.slow
def test_memory_stays_flat_over_20000_claims() -> None:
    # Spools keep 64 KiB each in memory, then roll over to disk (2,000 claims already make
    # about 400 kB of 277CA): what stays is running totals and copy buffers, so ten times the
    # claims must not mean more memory. With the default 1 MiB spools the bound is ~4 MiB.
    small = _peak_memory(2_000, spool_memory=64 * 1024)
    large = _peak_memory(20_000, spool_memory=64 * 1024)
    assert large < 1024 * 1024, large
    assert large < small * 1.25, (small, large)


def test_a_few_hundred_claims_validate(tmp_path: Path) -> None:
    data = write_277([_nth(i) for i in range(300)])
    assert data is not None
    validate(tmp_path, data)
    segments = parse(data)
    assert len([s for s in segments if s[:2] == ["TRN", "2"] and s[2].startswith("PCN")]) == 300


def test_status_codes_pyx12_does_not_know_are_named_in_stc12(tmp_path: Path) -> None:
    frequency = Finding(
        "TPI009", Outcome.REJECT, "fourth TPI session in 365 days", stc=("A3:779", "A3:259")
    )
    specificity = Finding(
        "TPI020", Outcome.REJECT, "M79.1 is not billable", line="2", stc=("A7:772",)
    )
    modern = Finding("TPI999", Outcome.CORRECT, "fixed", stc=("A7:779",))
    items = [
        outcome("PCN1", 1, "rejected", (frequency,)),
        outcome("PCN2", 2, "rejected", (specificity,), rejected_lines=(NOC_LINE,)),
        outcome("PCN3", 3, "corrected", (modern, UNITS_CORRECTED)),
    ]
    data = write_277(items)
    assert data is not None
    validate(tmp_path, data)
    blocks = claim_blocks(parse(data))
    first = next(s for s in blocks["PCN1"] if s[0] == "STC")
    assert first[1] == "A3:259"
    assert first[12] == "TPI009 (STATUS 779) - fourth TPI session in 365 days"
    second = [s for s in blocks["PCN2"] if s[0] == "STC"]
    assert [s[1] for s in second] == ["A7:21", "A7:21"]
    third = next(s for s in blocks["PCN3"] if s[0] == "STC")
    assert third[10:12] == ["A0:748", "A0:476"]


def test_a_current_code_list_sends_every_code() -> None:
    frequency = Finding("TPI009", Outcome.REJECT, "fourth session", stc=("A3:779", "A3:259"))
    sink = io.BytesIO()
    writer = Ack277Writer(sink, envelope(), status_codes={"779", "259"})
    writer.add(outcome("PCN1", 1, "rejected", (frequency,)))
    assert writer.finish(summary_of([]))
    stc = next(s for s in parse(sink.getvalue()) if s[0] == "STC" and s[3] == "U")
    assert (stc[1], stc[10]) == ("A3:779", "A3:259")
