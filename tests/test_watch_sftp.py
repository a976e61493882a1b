"""``edi-guard watch`` end to end: uploads by paramiko to real SFTP servers on 127.0.0.1.

Every test runs against asyncssh's SFTP server and against OpenSSH's ``internal-sftp``.
Without ``/usr/sbin/sshd`` (or without root) the OpenSSH half skips with the reason;
under CI (``CI=true``) it fails instead, so a missing sshd cannot turn CI green.
The watcher is a real subprocess, stopped and killed with real signals.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sftp_support import (
    REPO,
    ClientKey,
    SftpEndpoint,
    Uploader,
    Watcher,
    files_in,
    servers,
    sshd_unavailable,
    wait_gone,
)

from edi_guard.api import process

sys.path.insert(0, str(REPO / "bench"))
import generate  # bench/ holds scripts, not a package

DEMO = REPO / "fixtures" / "demo" / "tpi-batch.x12"
CLM01 = re.compile(rb"(?:^|~)\s*CLM\*([^*~]+)")

pytestmark = pytest.mark.slow


def make_837(claims: int, seed: int) -> bytes:
    out = io.BytesIO()
    generate.generate(out, claims, seed)
    return out.getvalue()


def claim_ids(data: bytes) -> list[str]:
    return [m.decode("ascii") for m in CLM01.findall(data)]


@pytest.fixture(scope="module")
def client_key() -> ClientKey:
    return ClientKey.generate()


@pytest.fixture(scope="module", params=["asyncssh", "openssh"])
def endpoint(
    request: pytest.FixtureRequest,
    client_key: ClientKey,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SftpEndpoint]:
    if request.param == "openssh" and (reason := sshd_unavailable()):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must cover OpenSSH internal-sftp: {reason}")
        pytest.skip(reason)
    with servers(request.param, client_key, tmp_path_factory.mktemp("sshd")) as found:
        yield found


@pytest.fixture
def watchers() -> Iterator[list[Watcher]]:
    """Watchers a test started; any still running at the end are killed."""
    started: list[Watcher] = []
    yield started
    for watcher in started:
        watcher.kill()


def start(watchers: list[Watcher], root: Path, *extra: str, tag: str = "w") -> Watcher:
    watcher = Watcher(root, *extra, tag=tag)
    watchers.append(watcher)
    return watcher.start()


def processed(watcher_list: list[Watcher]) -> Counter[str]:
    return Counter(
        e["file"] for w in watcher_list for e in w.handled() if e["outcome"] == "processed"
    )


def test_complete_upload_is_processed_once_with_correct_outputs(
    endpoint: SftpEndpoint, tmp_path: Path, watchers: list[Watcher]
) -> None:
    watcher = start(watchers, tmp_path)
    data = DEMO.read_bytes()
    with Uploader(endpoint) as upload:
        upload.put(data, watcher.inbox / "batch.x12")
    [event] = watcher.wait_handled(1)
    assert event["outcome"] == "processed"
    assert event["claims_in"] == 6
    expected = tmp_path / "expected"
    process(DEMO, out_dir=expected, name="batch.x12")
    assert (watcher.out / "batch.837").read_bytes() == (expected / "batch.837").read_bytes()
    report = json.loads((watcher.out / "batch.report.json").read_text())
    wanted = json.loads((expected / "batch.report.json").read_text())
    assert report["claims"] == wanted["claims"]
    assert report["summary"] == wanted["summary"]
    assert files_in(watcher.out) == files_in(expected)
    assert (watcher.archive / "batch.x12").read_bytes() == data
    time.sleep(1.2)  # a rescan later, still once
    assert processed([watcher]) == {"batch.x12": 1}
    assert files_in(watcher.inbox) == []
    assert watcher.stop() == 0


def test_upload_cut_halfway_waits_for_the_resumed_upload(
    endpoint: SftpEndpoint, tmp_path: Path, watchers: list[Watcher]
) -> None:
    watcher = start(watchers, tmp_path, "--incomplete-timeout", "60")
    data = make_837(300, seed=7)
    target = watcher.inbox / "cut.x12"
    Uploader(endpoint).put_and_cut(data, target, len(data) // 2)
    watcher.wait_for(lambda: target.exists() and target.stat().st_size == len(data) // 2)
    time.sleep(2.0)  # quiet period and a rescan: the close-write has fired, it is incomplete
    assert watcher.handled() == []
    assert target.stat().st_size == len(data) // 2
    with Uploader(endpoint) as upload:
        upload.resume(data, target)
    [event] = watcher.wait_handled(1)
    assert (event["file"], event["outcome"], event["claims_in"]) == ("cut.x12", "processed", 300)
    assert (watcher.archive / "cut.x12").read_bytes() == data
    assert watcher.stop() == 0


def test_filepart_upload_is_processed_once_after_the_rename(
    endpoint: SftpEndpoint, tmp_path: Path, watchers: list[Watcher]
) -> None:
    watcher = start(watchers, tmp_path)
    data = make_837(40, seed=11)
    part = watcher.inbox / "renamed.x12.filepart"
    with Uploader(endpoint) as upload:
        upload.put(data, part)
        time.sleep(1.2)  # complete X12, quiet: still ignored under its temporary name
        assert watcher.handled() == []
        upload.rename(part, watcher.inbox / "renamed.x12")
    [event] = watcher.wait_handled(1)
    assert (event["file"], event["outcome"]) == ("renamed.x12", "processed")
    time.sleep(1.2)
    assert processed([watcher]) == {"renamed.x12": 1}
    assert files_in(watcher.archive) == ["renamed.x12"]
    assert watcher.stop() == 0


def test_same_file_uploaded_twice_is_processed_once(
    endpoint: SftpEndpoint, tmp_path: Path, watchers: list[Watcher]
) -> None:
    watcher = start(watchers, tmp_path)
    data = make_837(30, seed=3)
    with Uploader(endpoint) as upload:
        upload.put(data, watcher.inbox / "twice.x12")
        watcher.wait_handled(1)
        upload.put(data, watcher.inbox / "twice.x12")
        upload.put(data, watcher.inbox / "copy.x12")
    events = watcher.wait_handled(3)
    assert Counter(e["outcome"] for e in events) == {"processed": 1, "duplicate": 2}
    assert processed([watcher]) == {"twice.x12": 1}
    assert not (watcher.out / "copy.837").exists()
    archived = files_in(watcher.archive)
    assert "twice.x12" in archived and "copy.x12" in archived
    markers = [name for name in archived if name.endswith(".duplicate.json")]
    assert len(markers) == 2
    note = json.loads((watcher.archive / "copy.x12.duplicate.json").read_text())
    assert note["duplicate_of"] == "twice.x12"
    assert watcher.stop() == 0


def test_two_watchers_on_one_inbox_process_every_file_exactly_once(
    endpoint: SftpEndpoint, tmp_path: Path, watchers: list[Watcher]
) -> None:
    first = start(watchers, tmp_path, tag="a")
    second = start(watchers, tmp_path, tag="b")
    names = [f"drop-{seed:02d}.x12" for seed in range(6)]
    with Uploader(endpoint) as upload:
        for seed, name in enumerate(names):
            upload.put(make_837(15, seed=100 + seed), first.inbox / name)
    first.wait_for(
        lambda: len(first.handled()) + len(second.handled()) >= len(names), 60, "all files"
    )
    time.sleep(1.2)
    both = [first, second]
    assert processed(both) == dict.fromkeys(names, 1)
    claimed = Counter(e["file"] for w in both for e in w.events() if e["event"] == "file_claimed")
    assert claimed == dict.fromkeys(names, 1)
    assert files_in(first.archive) == names
    assert files_in(first.error) == []
    assert first.stop() == 0
    assert second.stop() == 0


def test_sigkill_in_the_middle_of_a_file_then_restart_loses_and_repeats_nothing(
    endpoint: SftpEndpoint, tmp_path: Path, watchers: list[Watcher]
) -> None:
    watcher = start(watchers, tmp_path, "--workers", "2", tag="killed")
    uploads = {"big.x12": make_837(600, seed=21)}
    uploads |= {f"small-{n}.x12": make_837(25, seed=30 + n) for n in range(3)}
    with Uploader(endpoint) as upload:
        for name, data in uploads.items():
            upload.put(data, watcher.inbox / name)
    # In the middle: process() has begun writing big's outputs.
    watcher.wait_for(
        lambda: any(p.name.startswith(".big.") for p in watcher.out.glob(".*.tmp")),
        30,
        "big.x12 being processed",
    )
    workers = watcher.children()
    os.kill(watcher.pid, signal.SIGKILL)
    assert watcher.process is not None
    watcher.process.wait()
    assert wait_gone(workers) == [], "workers outlived the killed watcher"
    assert "big.x12" not in processed([watcher])

    again = start(watchers, tmp_path, "--workers", "2", tag="restarted")
    again.wait_for(lambda: set(files_in(again.archive)) == set(uploads), 90, "every file archived")
    time.sleep(1.2)
    [recovered] = [
        e for e in again.events() if e["event"] == "file_recovered" and e["file"] == "big.x12"
    ]
    assert recovered["unfinished_outputs_removed"] >= 1
    assert not list(again.out.glob(".*.tmp")), "a killed worker's temporary outputs remain"
    counts = processed([watcher, again])
    # The kill can land after a file was processed and archived but before its "handled"
    # line: the file_processed line the killed watcher logged first then stands for it.
    finished_unreported = {e["file"] for e in watcher.events() if e["event"] == "file_processed"}
    for name in uploads:
        assert counts[name] == 1 or (counts[name] == 0 and name in finished_unreported), name
    for name, data in uploads.items():
        stem = name.removesuffix(".x12")
        report = json.loads((again.out / f"{stem}.report.json").read_text())
        assert Counter(c["claim_id"] for c in report["claims"]) == Counter(claim_ids(data))
        out_ids = claim_ids((again.out / f"{stem}.837").read_bytes())
        kept = [c["claim_id"] for c in report["claims"] if c["status"] != "rejected"]
        assert sorted(out_ids) == sorted(kept)
        assert len(set(out_ids)) == len(out_ids)
    assert files_in(again.error) == []
    assert not any((again.state / "work").rglob("*.x12"))
    assert again.stop() == 0


def test_garbage_and_broken_envelopes_end_in_error_or_ta1_and_the_service_goes_on(
    endpoint: SftpEndpoint, tmp_path: Path, watchers: list[Watcher]
) -> None:
    watcher = start(watchers, tmp_path, "--incomplete-timeout", "3")
    demo = DEMO.read_bytes()
    with Uploader(endpoint) as upload:
        upload.put(b"this is not an 837 at all\n" * 50, watcher.inbox / "garbage.x12")
        upload.put(
            demo.replace(b"IEA*1*000000042", b"IEA*1*000000043"), watcher.inbox / "mismatch.x12"
        )
        upload.put(demo.replace(b"IEA*1*", b"IEA*2*"), watcher.inbox / "count.x12")
    events = {e["file"]: e for e in watcher.wait_handled(3)}
    assert events["garbage.x12"]["outcome"] == "failed"
    assert "not X12" in (watcher.error / "garbage.x12.reason.txt").read_text()
    assert events["mismatch.x12"]["outcome"] == "failed"
    assert "IEA02" in (watcher.error / "mismatch.x12.reason.txt").read_text()
    assert events["count.x12"]["outcome"] == "processed"
    assert (watcher.out / "count.ta1").exists()
    with Uploader(endpoint) as upload:
        upload.put(demo, watcher.inbox / "after.x12")
    watcher.wait_for(lambda: processed([watcher])["after.x12"] == 1, 30, "after.x12")
    assert sorted(files_in(watcher.error)) == [
        "garbage.x12",
        "garbage.x12.reason.txt",
        "mismatch.x12",
        "mismatch.x12.reason.txt",
    ]
    assert watcher.stop() == 0
