"""``edi_guard.process``: one file or stream in, the corrected 837 and its answers out."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import structlog

from edi_guard.acks.control import (
    ControlNumbers,
    ReceiverControlNumbers,
    SameForAll,
    StoreControlNumbers,
)
from edi_guard.atomic import AtomicFile
from edi_guard.errors import EdiGuardError
from edi_guard.gate import open_gate
from edi_guard.history import Hasher
from edi_guard.history.memory import MemoryStore
from edi_guard.history.store import HistoryStore, open_store
from edi_guard.limits import DEFAULT_LIMITS, Limits
from edi_guard.outcome import ClaimOutcome
from edi_guard.outputs import open_report_writers
from edi_guard.pipeline import CHUNK_SIZE, FileResult, FileRun, OutputPaths
from edi_guard.policy import Policy
from edi_guard.ptp import PtpTable
from edi_guard.ptp import load as load_ptp
from edi_guard.rules import REGISTRY
from edi_guard.validate import ValidationResult
from edi_guard.x12.segment import shown_tag
from edi_guard.x12.tokenizer import Tokenizer

log = structlog.get_logger("edi_guard")

Source = str | Path | BinaryIO


def process(
    source: Source,
    *,
    out_dir: str | Path | None = None,
    outputs: OutputPaths | None = None,
    name: str | None = None,
    policy: Policy | None = None,
    ptp: PtpTable | None = None,
    history: HistoryStore | None = None,
    control_numbers: ControlNumbers | StoreControlNumbers | SameForAll | None = None,
    force: bool = False,
    limits: Limits | None = None,
    keep_claims: bool = False,
    on_claim: Callable[[ClaimOutcome], None] | None = None,
    now: datetime | None = None,
    parallel: bool | None = None,
) -> FileResult:
    """Validate, edit and answer one 837P file (a path or a binary stream).

    Writes the outputs that apply (``NAME.837`` only when a claim survives, ``NAME.ta1``
    only when an envelope is broken), each atomically, and returns the summary. With
    ``keep_claims`` the result also holds every claim outcome (memory grows with the file).
    ``parallel``: the structure validator runs in a second process, reading the same file,
    when that pays (None: a regular file of at least 2 MiB and two usable CPUs; True: any
    regular file; False: never). The outputs are the same either way.
    """
    started = time.monotonic()
    display = name or (Path(source).name if isinstance(source, str | Path) else "stream")
    stem = Path(display).stem or "stream"
    if outputs is None:
        if out_dir is None:
            raise EdiGuardError("process() needs out_dir or outputs")
        outputs = OutputPaths.in_directory(Path(out_dir), stem)
    limits = limits or DEFAULT_LIMITS
    policy = policy or Policy.load(None)
    ptp = ptp or load_ptp(policy.ptp_table)
    # A library call without a store remembers nothing beyond this file (rules.md's
    # within-file history); pass open_history(url) for sessions across files and runs.
    history = history or MemoryStore(Hasher(b"edi-guard-in-memory"))
    # Our ISA13/GS06 come from the history store, per receiver, unless the caller brings
    # its own numbering.
    numbers: ReceiverControlNumbers
    if control_numbers is None:
        numbers = StoreControlNumbers(history)
    elif isinstance(control_numbers, StoreControlNumbers | SameForAll):
        numbers = control_numbers
    else:
        numbers = SameForAll(control_numbers)
    now = now or datetime.now()
    kept: list[ClaimOutcome] = []
    with ExitStack() as stack:
        if isinstance(source, str | Path):
            try:
                stream: BinaryIO = stack.enter_context(Path(source).open("rb"))
            except OSError as error:
                raise EdiGuardError(
                    f"{display}: cannot read the input ({error.strerror})"
                ) from None
        else:
            stream = source
        files = {
            key: AtomicFile(path)
            for key, path in (
                ("837", outputs.corrected),
                ("277", outputs.ack277),
                ("999", outputs.ack999),
                ("ta1", outputs.ta1),
                ("json", outputs.json),
                ("xml", outputs.xml),
                ("html", outputs.html),
            )
        }
        try:
            digest = hashlib.sha256()
            reports = open_report_writers(
                ack277=files["277"].file,
                json=files["json"].file,
                xml=files["xml"].file,
                html=files["html"].file,
                file_name=display,
                sha256=digest.hexdigest,
                control_numbers=numbers,
                now=now,
            )

            def deliver(outcome: ClaimOutcome) -> None:
                reports.add(outcome)
                if keep_claims:
                    kept.append(outcome)
                if on_claim is not None:
                    on_claim(outcome)

            stack.callback(reports.close)
            gate = open_gate(stream, limits=limits, chunk_size=CHUNK_SIZE, parallel=parallel)
            run = FileRun(
                name=display,
                corrected=files["837"].file,
                deliver=deliver,
                policy=policy,
                ptp=ptp,
                history=history,
                registry=REGISTRY,
                gate=gate,
                force=force,
                max_claims=limits.max_claims_per_file,
            )
            stack.callback(run.dispose)
            messages: list[str] = []
            # Every byte is hashed, also after a syntax error: the report names the file
            # that arrived.
            run.consume(stream, Tokenizer.from_limits(limits), digest)
            summary = run.totals.summary()
            result = gate.result
            duplicates = frozenset(run.duplicate_positions)
            wrote_999 = reports.write_acks(
                result, ack999=files["999"].file, ta1=files["ta1"].file, duplicates=duplicates
            )
            written_277 = reports.finish(summary)
            outputs_written: list[Path] = []
            wanted = {
                "837": run.wrote_claims,
                "277": written_277.get("277", False),
                "999": wrote_999.get("999", False),
                "ta1": wrote_999.get("ta1", False),
            }
            for key, atomic in files.items():
                if wanted.get(key, True):
                    atomic.commit()
                    outputs_written.append(atomic.path)
                else:
                    atomic.discard(remove_existing=True)
        except BaseException:
            for atomic in files.values():
                atomic.discard()
            raise
    messages.extend(structure_messages(result, display, duplicates=duplicates))
    file_result = FileResult(
        file=display,
        sha256=digest.hexdigest(),
        summary=summary,
        written=tuple(outputs_written),
        claims=tuple(kept),
        messages=tuple(messages),
        envelope_rejected=result.fatal is not None
        or bool(duplicates)
        or any(interchange.status == "R" for interchange in result.interchanges),
    )
    log.info(
        "file_processed",
        file=display,
        claims_in=summary.claims_in,
        claims_accepted=summary.claims_accepted,
        claims_corrected=summary.claims_corrected,
        claims_rejected=summary.claims_rejected,
        sets_rejected=summary.sets_rejected,
        interchanges_rejected=summary.interchanges_rejected,
        seconds=round(time.monotonic() - started, 3),
    )
    return file_result


def open_history(url: str | None) -> HistoryStore:
    """The history store a URL names (None: SQLite at the per-user data path)."""
    return open_store(url)


def structure_messages(
    result: ValidationResult,
    display: str,
    *,
    duplicates: frozenset[int] = frozenset(),
    limit: int = 3,
) -> list[str]:
    """Plain words for what structure validation rejected: where, never what (no values)."""
    messages: list[str] = []
    if result.fatal is not None:
        messages.append(f"{display}: {result.fatal}")
    for interchange in result.interchanges:
        if interchange.first_position in duplicates:
            messages.append(
                f"{display}: interchange {interchange.isa_control}: already processed from this "
                "sender: a duplicate, answered with TA1 note 025 and not processed again "
                "(fix --force processes it anyway)"
            )
            continue
        if interchange.status != "A":
            messages.append(
                f"{display}: interchange {interchange.isa_control}: "
                f"TA1 {interchange.status} (note {interchange.ta1_note})"
            )
        for group in interchange.groups:
            if group.status != "A" and group.errors:
                messages.append(
                    f"{display}: functional group {group.gs_control}: rejected "
                    f"({len(group.errors)} errors)"
                )
                for error in group.errors[:limit]:
                    shown = shown_tag(error.segment_id)
                    messages.append(f"  segment {error.position} ({shown}): {error.message}")
            for verdict in group.sets:
                if verdict.status == "A":
                    continue
                word = "rejected" if verdict.status == "R" else "accepted with errors"
                messages.append(
                    f"{display}: transaction set {verdict.st_control}: {word} "
                    f"({verdict.error_count} errors)"
                )
                for error in verdict.errors[:limit]:
                    where = f", {error.element}" if error.element else ""
                    shown = shown_tag(error.segment_id)
                    messages.append(f"  segment {error.position} ({shown}{where}): {error.message}")
    return messages
