"""File or stream -> tokenizer -> validator and assembler -> engine -> writers.

The one place where files, the clock and the logger meet the pure core. A file is read once,
in chunks; each segment goes to the structure validator and to the assembler; each claim is
decided by the engine as soon as it is complete and written to the corrected 837 at once.
Because a transaction set, group or interchange can still be rejected when its trailer
arrives, claim outcomes and history records of an interchange wait in a spool until its
verdict is known, and the corrected output is truncated back to where a rejected unit began.
The structure validator may run in a second process (``edi_guard.gate``): its verdicts may
then arrive late, and the gate waits for them only where the pipeline asks.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import IO, BinaryIO, Protocol

import structlog

from edi_guard.assemble import Assembler, Block, BlockKind, ClaimUnit, Item
from edi_guard.claim_outcomes import claim_outcome, set_context, structure_rejected
from edi_guard.corrected import CorrectedWriter
from edi_guard.engine import ClaimDecision, Engine
from edi_guard.errors import EdiGuardError, X12SyntaxError
from edi_guard.gate import StructureGate
from edi_guard.history.store import HistoryStore, needs_history, reservation_for
from edi_guard.model.claim import Claim
from edi_guard.model.mapping import map_claim
from edi_guard.outcome import ClaimOutcome, SetContext, Summary
from edi_guard.policy import Policy
from edi_guard.ptp import PtpTable
from edi_guard.rules.base import HistoryView, Outcome, Rule
from edi_guard.x12.segment import Segment
from edi_guard.x12.tokenizer import Tokenizer

log = structlog.get_logger("edi_guard")

CHUNK_SIZE = 1 << 18
"""Bytes read at a time: each chunk is hashed and announced to a validation worker, which
reads the same chunks. Both feed their tokenizer a chunk in the same smaller pieces
(``Tokenizer.feed_pieces``), so that the segments being worked on stay in cache (a chunk's
segments held at once take about 12 bytes of objects per byte of input) and a refusal comes
in the same chunk in both."""


@dataclass(frozen=True, slots=True)
class OutputPaths:
    """Where the outputs of one input go (``edi-guard fix`` names them NAME.837 ...)."""

    corrected: Path
    ack277: Path
    ack999: Path
    ta1: Path
    json: Path
    xml: Path
    html: Path

    @classmethod
    def in_directory(cls, directory: Path, stem: str) -> OutputPaths:
        return cls(
            corrected=directory / f"{stem}.837",
            ack277=directory / f"{stem}.277",
            ack999=directory / f"{stem}.999",
            ta1=directory / f"{stem}.ta1",
            json=directory / f"{stem}.report.json",
            xml=directory / f"{stem}.report.xml",
            html=directory / f"{stem}.report.html",
        )


@dataclass(frozen=True, slots=True)
class FileResult:
    """What processing one file did: the summary, outputs written, and (if kept) outcomes."""

    file: str
    sha256: str
    summary: Summary
    written: tuple[Path, ...]
    claims: tuple[ClaimOutcome, ...] = ()
    messages: tuple[str, ...] = ()
    """Structure and envelope problems in plain words (no patient data)."""
    envelope_rejected: bool = False

    @property
    def exit_code(self) -> int:
        """0 when nothing was rejected, 1 when a claim, set or interchange was."""
        rejected = (
            self.summary.claims_rejected
            or self.summary.sets_rejected
            or self.summary.interchanges_rejected
            or self.envelope_rejected
        )
        return 1 if rejected else 0


@dataclass(slots=True)
class _Totals:
    claims_in: int = 0
    accepted: int = 0
    corrected: int = 0
    rejected: int = 0
    charge_in: Decimal = Decimal(0)
    charge_out: Decimal = Decimal(0)
    charge_rejected: Decimal = Decimal(0)
    charge_dropped: Decimal = Decimal(0)
    sets_in: int = 0
    sets_rejected: int = 0
    interchanges_rejected: int = 0

    def add(self, outcome: ClaimOutcome) -> None:
        self.claims_in += 1
        self.charge_in += outcome.charge_in
        if outcome.status == "rejected":
            self.rejected += 1
            self.charge_rejected += outcome.charge_in
        else:
            self.charge_out += outcome.charge_out
            self.charge_dropped += outcome.charge_dropped
            if outcome.status == "corrected":
                self.corrected += 1
            else:
                self.accepted += 1

    def summary(self) -> Summary:
        return Summary(
            claims_in=self.claims_in,
            claims_accepted=self.accepted,
            claims_corrected=self.corrected,
            claims_rejected=self.rejected,
            charge_in=self.charge_in,
            charge_out=self.charge_out,
            charge_rejected=self.charge_rejected,
            charge_dropped=self.charge_dropped,
            sets_in=self.sets_in,
            sets_rejected=self.sets_rejected,
            interchanges_rejected=self.interchanges_rejected,
        )


OutcomeSink = Callable[[ClaimOutcome], None]


class Digest(Protocol):
    """A running hash (``hashlib.sha256()``)."""

    def update(self, data: bytes, /) -> None: ...

    def copy(self) -> Digest: ...

    def digest(self) -> bytes: ...


class _Spool:
    """Claim outcomes of the open interchange, waiting for its verdict.

    The first ``IN_MEMORY`` outcomes stay in a list (most interchanges are small); beyond
    that they are pickled to a temporary file, so memory stays flat on huge interchanges.
    They are pickled ``BATCH`` at a time: one pickler per batch writes a set's context (its
    submitter, receiver and billing provider) once for all the batch's claims that share it,
    instead of once per claim.
    """

    IN_MEMORY = 10_000
    BATCH = 1_000

    def __init__(self) -> None:
        self._held: list[tuple[int, ClaimOutcome]] = []
        self._batch: list[tuple[int, ClaimOutcome]] = []
        self._file: IO[bytes] | None = None
        self._batches = 0

    def put(self, set_index: int, outcome: ClaimOutcome) -> None:
        if len(self._held) < self.IN_MEMORY:
            self._held.append((set_index, outcome))
            return
        self._batch.append((set_index, outcome))
        if len(self._batch) >= self.BATCH:
            self._spill()

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        pickle.dump(self._batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._batch = []
        self._batches += 1

    def drain(self) -> Iterator[tuple[int, ClaimOutcome]]:
        held, self._held = self._held, []
        yield from held
        spool = self._file
        if spool is not None:
            spool.seek(0)
            for _ in range(self._batches):
                yield from pickle.load(spool)  # our own spool, written just above
            spool.seek(0)
            spool.truncate()
            self._batches = 0
        batch, self._batch = self._batch, []
        yield from batch

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class FileRun:
    """Process one input. Use ``edi_guard.process``; this class holds the per-file state."""

    def __init__(
        self,
        *,
        name: str,
        corrected: BinaryIO,
        deliver: OutcomeSink,
        policy: Policy,
        ptp: PtpTable,
        history: HistoryStore,
        registry: tuple[Rule, ...],
        gate: StructureGate,
        force: bool = False,
        max_claims: int | None = None,
    ) -> None:
        self.name = name
        self._corrected = CorrectedWriter(corrected)
        self._deliver = deliver
        self._store = history
        self._hasher = history.hasher
        self._run_id = history.begin_run()
        self._engine = Engine(registry, policy, ptp)
        self._gate = gate
        self._assembler = Assembler()
        self._spool = _Spool()
        self._set_index = 0
        self._set_open = False
        self._set_context: SetContext | None = None
        self._rejected_sets: set[int] = set()
        self._group_accepted = True
        self._interchange_open = False
        self._isa: Segment | None = None
        self._force = force
        self._first_set_of_interchange = 1
        self._max_claims = max_claims
        self._claims_seen = 0
        self._duplicate = False
        self._interchange_key: tuple[str, str] | None = None
        self.duplicate_positions: set[int] = set()
        """ISA positions of interchanges not processed because they were duplicates."""
        self.totals = _Totals()
        self.crashed_rules: list[str] = []

    @property
    def wrote_claims(self) -> bool:
        """Whether the corrected 837 holds anything (no claim out means no file)."""
        return self._corrected.wrote_anything

    # Feeding -------------------------------------------------------------------------

    def feed(self, segments: list[Segment]) -> None:
        # A chunk is CPU work only: its history decisions may share write transactions
        # (HistoryStore.hold). Never held across reading input, where another worker may wait.
        with self._store.hold():
            self._feed(segments)

    def _feed(self, segments: list[Segment]) -> None:
        gate = self._gate
        assembler = self._assembler
        if self._near_claim_cap(segments):
            # Reading may stop inside this chunk (the claims per file cap): the validator
            # must not have seen a segment beyond the stop, so it goes one segment at a time.
            for segment in segments:
                gate.feed(segment)
                for item in assembler.feed(segment):
                    self._on_item(item)
            return
        # The validator takes the chunk in one call; its verdicts become visible to the
        # items as the assembler reaches the segments that completed them.
        gate.feed_many(segments)
        for segment in segments:
            for item in assembler.feed(segment):
                gate.reach(segment.position)
                self._on_item(item)

    def _near_claim_cap(self, segments: list[Segment]) -> bool:
        """Whether the claims per file cap could be passed within ``segments``.

        The claims handed out so far, the one the assembler may hold, and at most one per
        segment of the chunk: a bound, so no segment needs looking at.
        """
        if self._max_claims is None:
            return False
        return self._claims_seen + 1 + len(segments) > self._max_claims

    def consume(self, stream: BinaryIO, tokenizer: Tokenizer, digest: Digest) -> None:
        """Read ``stream`` to its end in ``CHUNK_SIZE`` chunks and process it; ``digest``
        hashes every byte read (also those after a syntax error stopped processing)."""
        gate = self._gate
        checked = gate.in_worker  # the worker's reading is checked against ours
        try:
            while chunk := stream.read(CHUNK_SIZE):
                digest.update(chunk)
                if checked:
                    gate.read(len(chunk), digest.copy().digest())
                for segments in tokenizer.feed_pieces(chunk):
                    self.feed(segments)
            self.feed(tokenizer.close())
            self.close(tokenizer.trailing)
        except X12SyntaxError as error:
            while chunk := stream.read(CHUNK_SIZE):
                digest.update(chunk)
            self.fail(error)  # the validator records it: structure_messages names it

    def fail(self, error: X12SyntaxError) -> None:
        """The input broke off: what is open is rejected; nothing of it goes out."""
        self._gate.fail(error)
        for item in self._assembler.close():
            self._on_item(item)
        self._end_interchange(accepted=False)

    def dispose(self) -> None:
        """Release the spool, stop a validation worker and end the history run (idempotent;
        also after a failure)."""
        self._gate.dispose()
        self._spool.close()
        if self._run_id:
            run_id, self._run_id = self._run_id, ""
            self._store.finish_run(run_id)

    def close(self, trailing: bytes) -> None:
        self._gate.close()
        for item in self._assembler.close():
            self._on_item(item)
        if self._interchange_open:
            self._end_interchange(accepted=False)
        self._corrected.finish(trailing)

    # Items ---------------------------------------------------------------------------

    def _on_item(self, item: Item) -> None:
        if self._duplicate and self._on_duplicate_item(item):
            return
        if isinstance(item, ClaimUnit):
            self._on_claim(item)
            return
        kind = item.kind
        if kind is BlockKind.HIERARCHY:
            self._corrected.hierarchy(item)
        elif kind is BlockKind.SET_HEADER:
            self._close_open_set()
            self._open_set(item)
        elif kind is BlockKind.SET_TRAILER:
            self._end_set(item)
        elif kind is BlockKind.GROUP_HEADER:
            self._close_open_set()
            self._group_accepted = True
            self._corrected.group(item)
        elif kind is BlockKind.GROUP_TRAILER:
            self._close_open_set()
            accepted = self._gate.group_accepted(item.first)
            self._group_accepted = accepted
            if not accepted:
                sets = self._gate.sets_of_last_group()
                self._rejected_sets.update(sets)
                self._store.release(self._run_id, sets)
            self._corrected.group_trailer(item, accepted=accepted)
        elif kind is BlockKind.INTERCHANGE_HEADER:
            if self._interchange_open:
                self._end_interchange(accepted=False)
            self._interchange_open = True
            self._first_set_of_interchange = self._set_index + 1
            self._isa = isa = item.first
            key = (f"{isa.element(5).strip()}:{isa.element(6).strip()}", isa.element(13))
            if self._store.claim_interchange(*key, run_id=self._run_id, force=self._force):
                self._interchange_key = key
                self._corrected.interchange(item)
            else:
                # Sender and ISA13 already accepted (or in a live run's hands): a TA1 025
                # answers it, and nothing of it is processed again.
                self._duplicate = True
                self.duplicate_positions.add(isa.position)
        elif kind is BlockKind.INTERCHANGE_TRAILER:
            self._close_open_set()
            accepted = self._gate.interchange_accepted(item.first)
            self._corrected.interchange_trailer(item, accepted=accepted)
            self._end_interchange(accepted=accepted)

    def _on_duplicate_item(self, item: Item) -> bool:
        """Handle an item of a duplicate interchange; False hands it to normal processing."""
        if isinstance(item, ClaimUnit):
            self._spool.put(self._set_index, self._duplicate_outcome(item))
            return True
        if item.kind is BlockKind.SET_HEADER:
            self._set_index += 1
            self.totals.sets_in += 1
            self._set_context = replace(set_context(item, self._isa), set_index=self._set_index)
        elif item.kind is BlockKind.INTERCHANGE_TRAILER:
            self._end_interchange(accepted=False)
        elif item.kind is BlockKind.INTERCHANGE_HEADER:
            self._end_interchange(accepted=False)
            return False
        return True

    def _duplicate_outcome(self, unit: ClaimUnit) -> ClaimOutcome:
        try:
            received: Claim | None = map_claim(unit)
        except EdiGuardError:
            received = None
        decision = ClaimDecision(unit.position, "rejected", (), received, None, unit.segments)
        return claim_outcome(unit, decision, self._set_context)

    def _open_set(self, block: Block) -> None:
        self._set_index += 1
        self._set_open = True
        self.totals.sets_in += 1
        self._set_context = replace(set_context(block, self._isa), set_index=self._set_index)
        self._corrected.set_header(block)

    def _end_set(self, block: Block | None) -> None:
        accepted = self._gate.set_accepted(self._set_index) if block is not None else False
        if not accepted:
            self._rejected_sets.add(self._set_index)
            self._store.release(self._run_id, [self._set_index])
        if block is not None:
            self._corrected.set_trailer(block, accepted=accepted)
        else:
            self._corrected.abandon_set()
        self._set_open = False

    def _close_open_set(self) -> None:
        """A set that ended without its SE (the validator rejects it)."""
        if self._set_open:
            self._end_set(None)

    def _end_interchange(self, *, accepted: bool) -> None:
        duplicate, self._duplicate = self._duplicate, False
        if not duplicate:
            self._close_open_set()
        if accepted:
            # Reservations of the interchange's accepted sets become sessions for good, one
            # set at a time: a confirm reads what it commits, and an interchange may hold
            # millions of claims (a set, at most a few thousand).
            for set_index in range(self._first_set_of_interchange, self._set_index + 1):
                if set_index not in self._rejected_sets:
                    self._store.confirm(self._run_id, [set_index])
            self._store.confirm(self._run_id)
        else:
            self.totals.interchanges_rejected += 1
            if not duplicate:
                self._corrected.abandon()
            self._store.release(self._run_id)
        if self._interchange_key is not None:
            key, self._interchange_key = self._interchange_key, None
            self._store.settle_interchange(*key, run_id=self._run_id, accepted=accepted)
        rejected_sets = self._rejected_sets
        reason = "duplicate" if duplicate else "interchange"
        for set_index, outcome in self._spool.drain():
            if not accepted:
                outcome = structure_rejected(outcome, reason=reason)
            elif set_index in rejected_sets:
                outcome = structure_rejected(outcome, reason="set")
            self.totals.add(outcome)
            self._deliver(outcome)
        self.totals.sets_rejected += len(rejected_sets)
        self._rejected_sets = set()
        self._interchange_open = False

    # Claims --------------------------------------------------------------------------

    def _on_claim(self, unit: ClaimUnit) -> None:
        self._claims_seen += 1
        if self._max_claims is not None and self._claims_seen > self._max_claims:
            if self._claims_seen == self._max_claims + 1:
                # Reading stops here; the caller answers the open interchange with a TA1.
                raise X12SyntaxError(
                    f"more than {self._max_claims} claims in one file (the claims per file "
                    "limit); nothing after them was read"
                )
            return  # claims still in the assembler when reading stopped: never read
        context = self._set_context
        decision = self._decide(unit)
        segments = None if decision.rejected else decision.segments
        self._corrected.claim(unit, segments)
        outcome = claim_outcome(unit, decision, context)
        self._set_context = outcome.context  # reused while the billing provider stays
        if decision.crashed_rules:
            self.crashed_rules.extend(decision.crashed_rules)
            log.error(
                "rule_crashed",
                file=self.name,
                claim_position=unit.position,
                rules=list(decision.crashed_rules),
            )
        if decision.rejected:
            log.info(
                "claim_rejected",
                file=self.name,
                claim_position=unit.position,
                rules=sorted({f.rule for f in decision.findings if f.outcome is Outcome.REJECT}),
            )
        self._spool.put(self._set_index, outcome)

    def _decide(self, unit: ClaimUnit) -> ClaimDecision:
        """Decide a claim; under the beneficiary's history lock when it has TPI lines.

        The reservation written under the lock is the record of the claim's sessions; it
        becomes final at the interchange's verdict (``_end_interchange``).
        """
        plain = self._engine.screen(unit)
        if plain is not None:
            return plain
        try:
            claim = map_claim(unit)
        except EdiGuardError:
            return self._evaluate(unit, None, self._store, "")
        key = self._hasher.beneficiary(claim)
        if not needs_history(claim):
            return self._evaluate(unit, claim, self._store, key)
        return self._store.decide(
            key,
            lambda view: self._evaluate(unit, claim, view, key),
            lambda decision: reservation_for(
                None if decision.rejected else decision.final, self._hasher
            ),
            run_id=self._run_id,
            set_index=self._set_index,
        )

    def _evaluate(
        self, unit: ClaimUnit, claim: Claim | None, history: HistoryView, key: str
    ) -> ClaimDecision:
        return self._engine.evaluate(unit, history, key, claim)
