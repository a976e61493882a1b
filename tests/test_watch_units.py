"""The watcher's parts without a server: readiness, the ledger, claims, poison handling."""

from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path

import pytest

from edi_guard.errors import EdiGuardError
from edi_guard.watch import service
from edi_guard.watch.claim import Workspace, move_no_clobber, owner_alive
from edi_guard.watch.ledger import Decision, Ledger
from edi_guard.watch.readiness import Verdict, check_complete, is_temporary_name

REPO = Path(__file__).resolve().parent.parent
DEMO = (REPO / "fixtures" / "demo" / "tpi-batch.x12").read_bytes()


def verdict(tmp_path: Path, data: bytes, **kwargs: int) -> Verdict:
    path = tmp_path / "f.x12"
    path.write_bytes(data)
    return check_complete(path, **kwargs).verdict


# Readiness -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "temporary"),
    [
        ("a.x12", False),
        ("a.x12.filepart", True),
        ("a.x12.part", True),
        ("a.x12.tmp", True),
        ("A.X12.FILEPART", True),
        (".hidden.x12", True),
        ("part.x12", False),
    ],
)
def test_temporary_names(name: str, temporary: bool) -> None:
    assert is_temporary_name(name) is temporary


def test_a_whole_file_is_complete(tmp_path: Path) -> None:
    assert verdict(tmp_path, DEMO) is Verdict.COMPLETE


def test_every_prefix_is_incomplete(tmp_path: Path) -> None:
    end = DEMO.rstrip().rindex(b"IEA")
    for cut in [*range(0, 120), *range(120, end, 97), end, end + 5]:
        assert verdict(tmp_path, DEMO[:cut]) is Verdict.INCOMPLETE, cut


@pytest.mark.parametrize(
    "padding", [b"", b"\n", b"\r\n\r\n", b"   ", b"\x00" * 5000, b"\n\x1a", b"\x00" * 200_000]
)
def test_padding_after_the_last_iea_is_allowed(tmp_path: Path, padding: bytes) -> None:
    assert verdict(tmp_path, DEMO.rstrip() + padding, tail_window=4096) is Verdict.COMPLETE


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    assert verdict(tmp_path, b"\xef\xbb\xbf" + DEMO) is Verdict.COMPLETE


def test_iea02_must_match_isa13(tmp_path: Path) -> None:
    broken = DEMO.replace(b"IEA*1*000000042", b"IEA*1*000000043")
    path = tmp_path / "f.x12"
    path.write_bytes(broken)
    found = check_complete(path)
    assert found.verdict is Verdict.INCOMPLETE
    assert "IEA02 (000000043) does not match ISA13 (000000042)" in found.reason


def test_not_x12_is_said_at_once(tmp_path: Path) -> None:
    assert verdict(tmp_path, b"hello world") is Verdict.NOT_X12
    assert verdict(tmp_path, b"IS") is Verdict.INCOMPLETE
    assert verdict(tmp_path, b"ISA*" + b"x" * 200) is Verdict.NOT_X12


def _interchange(control: bytes) -> bytes:
    return DEMO.replace(b"000000042", control)


def test_several_interchanges_close_on_the_last_isa(tmp_path: Path) -> None:
    two = _interchange(b"000000001") + _interchange(b"000000002")
    assert verdict(tmp_path, two) is Verdict.COMPLETE
    cut_after_first = two[: len(_interchange(b"000000001"))] + b"ISA*00"
    assert verdict(tmp_path, cut_after_first) is Verdict.INCOMPLETE
    wrong = _interchange(b"000000001") + _interchange(b"000000002").replace(
        b"IEA*1*000000002", b"IEA*1*000000001"
    )
    assert verdict(tmp_path, wrong) is Verdict.INCOMPLETE


def test_a_last_interchange_longer_than_the_window_closes_on_the_first_isa(
    tmp_path: Path,
) -> None:
    assert verdict(tmp_path, DEMO, tail_window=200) is Verdict.COMPLETE


def test_a_newline_terminator(tmp_path: Path) -> None:
    data = DEMO.replace(b"~\n", b"\n")
    assert verdict(tmp_path, data) is Verdict.COMPLETE
    assert verdict(tmp_path, data[: data.rindex(b"IEA")]) is Verdict.INCOMPLETE


# Ledger --------------------------------------------------------------------------------------


def _begin(ledger: Ledger, sha: str, claim: str, owner: str = "me", alive: bool = True) -> Decision:
    entry = ledger.begin(
        sha, claim=claim, owner=owner, name=f"{claim}.x12", owner_alive=lambda _o: alive,
        max_attempts=3,
    )  # fmt: skip
    return entry.decision


def test_ledger_decisions(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    assert _begin(ledger, "h", "c1") is Decision.PROCESS
    assert _begin(ledger, "h", "c2") is Decision.DEFER  # same owner, c1 still in hand
    assert _begin(ledger, "h", "c2", owner="other", alive=True) is Decision.DEFER
    ledger.finish("h", claim="c1", ok=True, result={"counts": {"claims_in": 1}})
    assert _begin(ledger, "h", "c1") is Decision.FINISH
    assert _begin(ledger, "h", "c2") is Decision.DUPLICATE
    ledger.duplicate("h", claim="c2", name="c2.x12")
    assert ledger.totals() == {"done": 1, "failed": 0, "processing": 0, "duplicates": 1}


def test_a_claim_restarted_too_often_is_poison(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    decisions = [_begin(ledger, "h", "c1", owner=f"dead{n}", alive=False) for n in range(4)]
    assert decisions == [Decision.PROCESS] * 3 + [Decision.POISON]
    assert _begin(ledger, "h", "c1") is Decision.POISON
    assert _begin(ledger, "h", "c9") is Decision.PROCESS  # a new upload gets a new chance


def test_a_dead_owners_content_is_taken_over(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    assert _begin(ledger, "h", "c1", owner="dead") is Decision.PROCESS
    assert _begin(ledger, "h", "c2", owner="me", alive=False) is Decision.PROCESS


def test_concurrent_begins_process_once(tmp_path: Path) -> None:
    Ledger(tmp_path / "l.sqlite3").close()
    decisions: list[Decision] = []
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        ledger = Ledger(tmp_path / "l.sqlite3")
        barrier.wait()
        decisions.append(_begin(ledger, "same", f"c{n}", owner=f"o{n}"))
        ledger.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(decisions) == {Decision.PROCESS: 1, Decision.DEFER: 7}


# Claims --------------------------------------------------------------------------------------


def test_two_workspaces_claim_a_file_once(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first, second = Workspace(inbox, tmp_path / "state"), Workspace(inbox, tmp_path / "state")
    first.open()
    second.open()
    for n in range(20):
        (inbox / f"{n}.x12").write_bytes(b"x")
    wins = Counter[int]()
    for n in range(20):
        for index, workspace in enumerate((first, second) if n % 2 else (second, first)):
            if workspace.claim(f"{n}.x12") is not None:
                wins[index] += 1
    assert sum(wins.values()) == 20
    assert owner_alive(first.work, first.owner) and owner_alive(first.work, second.owner)


def test_claims_of_a_dead_watcher_are_adopted_once(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.x12").write_bytes(b"a")
    dead = Workspace(inbox, tmp_path / "state")
    dead.open()
    claimed = dead.claim("a.x12")
    assert claimed is not None
    alive = Workspace(inbox, tmp_path / "state")
    alive.open()
    assert alive.adopt() == []  # its owner still holds the lock
    assert dead._lock is not None
    os.close(dead._lock)  # the kernel drops a dead process's flock the same way
    dead._lock = None
    assert not owner_alive(alive.work, dead.owner)
    [adopted] = alive.adopt()
    assert (adopted.name, adopted.token, adopted.recovered) == ("a.x12", claimed.token, True)
    assert adopted.path.read_bytes() == b"a"
    assert alive.adopt() == []
    assert not dead.directory.exists()


def test_move_no_clobber_keeps_both_and_repeats_safely(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    for content, token in ((b"1", "t1"), (b"2", "t2")):
        source = tmp_path / f"src-{token}"
        source.write_bytes(content)
        move_no_clobber(source, archive, "a.x12", token)
    assert (archive / "a.x12").read_bytes() == b"1"
    assert (archive / "a.x12.t2").read_bytes() == b"2"
    again = tmp_path / "again"
    again.write_bytes(b"3")
    os.link(again, archive / "b.x12")  # a crash after the link, before the unlink
    assert move_no_clobber(again, archive, "b.x12", "t3") == archive / "b.x12"
    assert not again.exists()
    assert not (archive / "b.x12.t3").exists()


# Poison: process() raising -------------------------------------------------------------------


def test_a_file_that_makes_process_raise_goes_to_the_error_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings = service.Settings(
        inbox=inbox,
        out_dir=tmp_path / "out",
        state_dir=tmp_path / "state",
        archive_dir=tmp_path / "archive",
        error_dir=tmp_path / "error",
    )
    workspace = Workspace(inbox, settings.state_dir)
    workspace.open()
    state = service._WorkerState(settings, Ledger(settings.ledger_path), None, None, None)
    monkeypatch.setattr(service, "_state", state)

    def explode(*_args: object, **_kwargs: object) -> None:
        raise KeyError("PATIENT DOE")

    monkeypatch.setattr("edi_guard.api.process", explode)
    (inbox / "bad.x12").write_bytes(DEMO)
    claimed = workspace.claim("bad.x12")
    assert claimed is not None
    handled = service.handle(claimed, workspace.owner)
    assert handled.outcome == "failed"
    assert handled.reason == "internal error KeyError while processing"
    assert "DOE" not in handled.reason
    reason = (settings.error_dir / "bad.x12.reason.txt").read_text()
    assert reason.startswith("internal error KeyError")
    assert (settings.error_dir / "bad.x12").read_bytes() == DEMO

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise EdiGuardError("bad.x12: cannot read the input")

    monkeypatch.setattr("edi_guard.api.process", refuse)
    (inbox / "other.x12").write_bytes(DEMO + b"\n")
    claimed = workspace.claim("other.x12")
    assert claimed is not None
    assert service.handle(claimed, workspace.owner).reason == "bad.x12: cannot read the input"
