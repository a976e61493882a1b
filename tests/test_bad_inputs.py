"""The bad-input catalogue (fixtures/bad/): every entry answered as its expected file says.

For each entry ``process()`` is run and the acknowledgements it wrote are read back (TA104 and
TA105 of each TA1, IK5 and AK9 of the 999); ``edi-guard check`` and ``edi-guard fix`` are run
through click's CliRunner for their exit codes and messages. Every claim that came in is
accounted for: claims in = claims in the corrected 837 + claims reported rejected, and the
JSON report lists each one. No traceback appears anywhere, and no identity value of the input
(names, member ids, CLM01, diagnosis codes) reaches a message, a log event or stderr.

An expected file may list ``pending`` assertions: known gaps owned elsewhere (named in the
reason). Those are checked by ``test_pending_expectations`` as strict xfails, so the day a gap
closes the test says so and the ``pending`` entry can go.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import structlog
from bad_inputs_support import (
    CATALOGUE,
    DEMO,
    Case,
    Observed,
    cases,
    count_claims,
    observe,
    readable_identity_values,
    settings,
)
from click.testing import CliRunner
from structlog.testing import capture_logs

from edi_guard.cli import cli
from edi_guard.history.store import open_store
from edi_guard.limits import DEFAULT_LIMITS, Limits
from edi_guard.policy import Policy
from edi_guard.ptp import PtpTable
from edi_guard.x12.tokenizer import Tokenizer

ALL = cases()
SMALL = [case for case in ALL if not case.huge and "runs" not in case.expected]
HUGE = [case for case in ALL if case.huge]


@pytest.fixture(scope="module")
def loaded() -> tuple[Policy, PtpTable]:
    return settings()


def _ids(found: list[Case]) -> list[str]:
    return [case.name for case in found]


def _matches(expected: Any, observed: Any) -> bool:
    """Equality where "*" in the expectation matches anything at that place."""
    if expected == "*":
        return True
    if isinstance(expected, list) and isinstance(observed, list):
        return len(expected) == len(observed) and all(map(_matches, expected, observed))
    return bool(expected == observed)


def _pending(case: Case) -> dict[str, str]:
    pending: dict[str, str] = case.expected.get("pending", {})
    return pending


def _check(case: Case, key: str) -> bool:
    """Whether ``key`` is asserted in the main tests (not pending, not a limits entry)."""
    pending = _pending(case)
    return key not in pending and "all" not in pending


def assert_acknowledged(case: Case, observed: Observed) -> None:
    expected = case.expected
    for key in ("ta1", "ik5", "ak9"):
        if _check(case, key):
            got = getattr(observed, key)
            assert _matches(expected[key], got), f"{case.name}: {key} {got} != {expected[key]}"
    claims = expected["claims"]
    if _check(case, "claims"):
        got = {
            "in": observed.claims_in,
            "out": observed.claims_out,
            "rejected": observed.claims_rejected,
        }
        assert got == claims, f"{case.name}: claims {got} != {claims}"


def assert_nothing_lost(case: Case, path: Path, observed: Observed) -> None:
    """Claims in = claims out + claims reported rejected; every claim is in the report."""
    assert observed.claims_in == observed.claims_out + observed.claims_rejected, case.name
    assert observed.claims_reported == observed.claims_in, case.name
    if not case.huge and case.limits is None:  # a cap stops reading on purpose
        assert observed.claims_in == count_claims(path), case.name


def _message(case: Case, surface: str) -> str | None:
    message: str | None = case.expected["message"].get(surface)
    return message


@pytest.mark.parametrize("case", SMALL, ids=_ids(SMALL))
def test_process_answers_with_the_expected_acknowledgement(
    case: Case, tmp_path: Path, loaded: tuple[Policy, PtpTable]
) -> None:
    path = case.materialize(tmp_path / "in")
    policy, ptp = loaded
    with capture_logs() as events:
        observed = observe(path, tmp_path / "out", policy=policy, ptp=ptp, limits=case.limits)
    assert_acknowledged(case, observed)
    assert_nothing_lost(case, path, observed)
    message = _message(case, "fix")
    if message and _check(case, "message.fix"):
        assert any(message in line for line in observed.messages), observed.messages
    assert observed.exit_code == case.expected["exit"]["fix"]
    assert_no_identity(path, [*observed.messages, json.dumps(events, default=str)], tmp_path)


@pytest.mark.parametrize("case", SMALL, ids=_ids(SMALL))
def test_check_and_fix_commands_survive(case: Case, tmp_path: Path) -> None:
    path = case.materialize(tmp_path / "in")
    runner = CliRunner()
    # fix takes the caps as options (--max-claims-per-file...); check counts no claims and
    # judges structure only, so a case run under caps is a case for fix alone.
    caps = _cap_options(case.limits)
    checked = None if caps else runner.invoke(cli, ["check", str(path)])
    fixed = runner.invoke(
        cli,
        ["fix", str(path), "--out-dir", str(tmp_path / "out"), "--history", "memory:", *caps],
    )
    structlog.reset_defaults()  # fix configures console logging; leave the default behind
    runs = {"fix": fixed} if checked is None else {"check": checked, "fix": fixed}
    for run in runs.values():
        assert "Traceback" not in run.output
        assert run.exception is None or isinstance(run.exception, SystemExit), run.output
    exits = case.expected["exit"]
    if checked is not None and _check(case, "exit.check"):
        assert checked.exit_code == exits["check"], checked.output
    assert fixed.exit_code == exits["fix"], fixed.output
    for surface, run in runs.items():
        message = _message(case, surface)
        if message and _check(case, f"message.{surface}"):
            assert message in run.output, run.output
    assert_no_identity(path, [run.output for run in runs.values()], tmp_path)


def _cap_options(limits: Limits | None) -> list[str]:
    """The command options that set the caps differing from the defaults."""
    if limits is None:
        return []
    return [
        f"--{name.replace('_', '-')}={getattr(limits, name)}"
        for name in Limits.__dataclass_fields__
        if getattr(limits, name) != getattr(DEFAULT_LIMITS, name)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("case", HUGE, ids=_ids(HUGE))
def test_huge_inputs_are_refused_with_bounded_memory(
    case: Case, tmp_path: Path, loaded: tuple[Policy, PtpTable]
) -> None:
    """100 MB without a terminator, a 10 MB element: a TA1 after about 1 MiB, no more."""
    path = case.materialize(tmp_path / "in")
    policy, ptp = loaded
    peak = _peak_tracker()
    with peak:
        observed = observe(path, tmp_path / "out", policy=policy, ptp=ptp)
    assert_acknowledged(case, observed)
    assert_nothing_lost(case, path, observed)
    message = _message(case, "fix")
    if message is not None and _check(case, "message.fix"):
        assert any(message in line for line in observed.messages), observed.messages
    assert peak.grown < 64 << 20, f"memory grew by {peak.grown >> 20} MiB"
    checked = CliRunner().invoke(cli, ["check", str(path)])
    assert checked.exit_code == case.expected["exit"]["check"], checked.output
    if _check(case, "message.check"):
        assert case.expected["message"]["check"] in checked.output


class _peak_tracker:  # noqa: N801 - used as a context manager, named like one
    """The growth of this process's peak resident memory over a block (Linux /proc)."""

    def __enter__(self) -> _peak_tracker:
        self.before = _resident()
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _resident())

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _resident())

    @property
    def grown(self) -> int:
        return self.peak - self.before


def _resident() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.mark.slow
def test_a_deep_hierarchy_costs_linear_time(
    tmp_path: Path, loaded: tuple[Policy, PtpTable], request: pytest.FixtureRequest
) -> None:
    """50,000 nested HLs (0.9 MB): answered in seconds, not minutes (the open-parent check
    was once a list scan, quadratic in a deep chain)."""
    del request
    case = Case("deep", "deep", {}, generator="deep-hierarchy", size=50_000)
    path = case.materialize(tmp_path / "in")
    policy, ptp = loaded
    started = time.monotonic()
    observe(path, tmp_path / "out", policy=policy, ptp=ptp)
    assert time.monotonic() - started < 15


def assert_no_identity(path: Path, texts: list[str], scratch: Path) -> None:
    """No name, member id, birth date, address, CLM01 or diagnosis code of the input."""
    values = readable_identity_values(path, scratch) if path.stat().st_size < 1 << 20 else set()
    joined = "\n".join(texts)
    leaked = sorted(value for value in values if value in joined)
    assert not leaked, f"identity values in messages or logs: {len(leaked)}"


# Pending expectations ----------------------------------------------------------------------------

PENDING = [case for case in ALL if _pending(case) and "runs" not in case.expected]


@pytest.mark.parametrize("case", PENDING, ids=_ids(PENDING))
def test_pending_expectations(
    case: Case, tmp_path: Path, loaded: tuple[Policy, PtpTable], request: pytest.FixtureRequest
) -> None:
    """Known gaps owned elsewhere: strict xfails until the owner closes them."""
    reasons = "; ".join(f"{key}: {why}" for key, why in _pending(case).items())
    request.applymarker(pytest.mark.xfail(reason=reasons, strict=True))
    path = case.materialize(tmp_path / "in")
    policy, ptp = loaded
    observed = observe(path, tmp_path / "out", policy=policy, ptp=ptp, limits=case.limits)
    expected = case.expected
    for key in ("ta1", "ik5", "ak9"):
        assert _matches(expected[key], getattr(observed, key)), key
    assert observed.claims_in == expected["claims"]["in"]
    assert observed.claims_out == expected["claims"]["out"]
    assert any(expected["message"]["fix"] in line for line in observed.messages)
    if case.limits is not None:
        return
    checked = CliRunner().invoke(cli, ["check", str(path)])
    assert checked.exit_code == expected["exit"]["check"]
    assert expected["message"]["check"] in checked.output


# Duplicates (issue 9 item 4) --------------------------------------------------------------------


def test_the_same_interchange_twice_is_answered_once_as_a_duplicate(
    tmp_path: Path, loaded: tuple[Policy, PtpTable]
) -> None:
    [case] = [case for case in ALL if "runs" in case.expected]
    policy, ptp = loaded
    path = case.materialize(tmp_path / "in")
    history = open_store(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    try:
        for number, run in enumerate(case.expected["runs"]):
            observed = observe(
                path,
                tmp_path / f"out{number}",
                policy=policy,
                ptp=ptp,
                history=history,
                force=run["force"],
            )
            run_case = Case(f"{case.name}#{number}", case.entry, {**case.expected, **run})
            assert_acknowledged(run_case, observed)
            assert_nothing_lost(run_case, path, observed)
            if run["message"]["fix"]:
                assert any(run["message"]["fix"] in line for line in observed.messages)
    finally:
        history.close()


# The catalogue itself ----------------------------------------------------------------------------


def test_every_catalogue_input_has_an_expected_outcome() -> None:
    inputs = {
        path.name
        for path in CATALOGUE.iterdir()
        if not path.name.endswith((".json", ".py")) and not path.name.startswith(".")
    }
    named = {case.expected["input"].get("file") for case in ALL}
    assert inputs <= named, sorted(inputs - named)


def test_the_catalogue_covers_the_issue() -> None:
    """Issue 9's list, entry by entry (the corpus's broken files come on top)."""
    wanted = {
        "empty", "pdf-document", "zip-archive", "utf16-with-bom", "isa-too-short",
        "component-equals-element", "truncated-at-every-boundary", "truncated-mid-segment",
        "truncated-inside-every-segment", "no-terminator-100mb", "element-10mb",
        "non-ascii-characters", "control-characters", "version-4010", "institutional-837i",
        "claim-status-276", "remittance-835", "iea-count-wrong", "iea-control-wrong",
        "se-count-wrong", "gs08-original-x222", "duplicate-interchange-resent",
    }  # fmt: skip
    entries = {case.entry for case in ALL}
    assert wanted <= entries, sorted(wanted - entries)


def test_corpus_entries_are_in_the_catalogue(corpus_dir: Path) -> None:
    corpus = [case for case in ALL if "corpus" in case.expected["input"]]
    assert len(corpus) >= 10
    for case in corpus:
        assert case.file is not None and case.file.is_file(), case.name


# Limits ------------------------------------------------------------------------------------------


def test_default_limits_match_the_tokenizer() -> None:
    assert DEFAULT_LIMITS.max_segment_bytes == Tokenizer()._max_segment_bytes
    with pytest.raises(Exception, match="at least"):
        Limits(max_claims_per_file=0)
    with pytest.raises(Exception, match="106"):
        Limits(max_segment_bytes=100)


def _element_input(size: int) -> bytes:
    data = DEMO.read_bytes()
    assert b"~\nHI*" in data
    return data.replace(b"~\nHI*", b"~\nNTE*ADD*" + b"N" * size + b"~\nHI*", 1)


@pytest.mark.parametrize("chunk", [1 << 20, 4096, 333])
def test_the_element_cap_names_an_element_whatever_the_chunking(chunk: int) -> None:
    data = _element_input(5000)
    tokenizer = Tokenizer.from_limits(Limits(max_element_bytes=4096))
    with pytest.raises(Exception, match="the element length limit") as caught:
        for at in range(0, len(data), chunk):
            tokenizer.feed(data[at : at + chunk])
        tokenizer.close()
    assert "NNNN" not in str(caught.value)
    assert f"at byte {data.index(b'N' * 100)}" in str(caught.value)


def test_elements_under_the_cap_are_read() -> None:
    data = _element_input(4000)
    tokenizer = Tokenizer.from_limits(Limits(max_element_bytes=4096))
    segments = [*tokenizer.feed(data), *tokenizer.close()]
    assert any(segment.tag == "NTE" for segment in segments)


def test_segments_before_a_break_in_the_same_chunk_are_not_lost() -> None:
    data = DEMO.read_bytes() + b"Sent from my phone\n"
    tokenizer = Tokenizer()
    segments = tokenizer.feed(data)
    assert segments[-1].tag == "IEA"
    with pytest.raises(Exception, match="found 'Sen'"):
        tokenizer.close()


# The watcher -------------------------------------------------------------------------------------

WATCHED = (
    "empty.x12",
    "pdf-document.pdf",
    "utf16-with-bom.x12",
    "truncated-mid-segment.x12",
    "component-equals-element.x12",
    "iea-control-wrong.x12",
    "se-count-wrong.x12",
    "non-ascii-characters.x12",
    "institutional-837i.x12",
    "version-4010.x12",
    "garbage-after-iea.x12",
)


@pytest.mark.slow
def test_the_watcher_answers_bad_inputs_and_keeps_going(tmp_path: Path) -> None:
    """A handful of catalogue entries dropped into a running watcher, then a good file."""
    from sftp_support import Watcher

    watcher = Watcher(tmp_path, "--incomplete-timeout", "2").start()
    try:
        for name in WATCHED:
            temporary = watcher.inbox / f".{name}.upload"
            temporary.write_bytes((CATALOGUE / name).read_bytes())
            temporary.rename(watcher.inbox / name)
        handled = watcher.wait_handled(len(WATCHED), timeout=90)
        good = watcher.inbox / "after-the-storm.x12"
        good.write_bytes(DEMO.read_bytes().replace(b"BATCH0042", b"BATCH0099"))
        handled = watcher.wait_handled(len(WATCHED) + 1, timeout=60)
        assert watcher.process is not None and watcher.process.poll() is None
        outcomes = {event["file"]: event for event in handled}
        assert set(WATCHED) | {"after-the-storm.x12"} <= set(outcomes)
        for name, event in outcomes.items():
            assert event["outcome"] in ("processed", "failed", "duplicate"), event
            assert "internal error" not in str(event.get("reason")), (name, event)
        assert outcomes["after-the-storm.x12"]["outcome"] == "processed"
        log = watcher.log.read_text(errors="replace")
        assert "Traceback" not in log
        values = set().union(*(readable_identity_values(CATALOGUE / n, tmp_path) for n in WATCHED))
        assert not sorted(value for value in values if value in log)
        assert watcher.stop() == 0
    finally:
        watcher.kill()
