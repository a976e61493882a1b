"""``StructureValidator``: pyx12's x12n_document + X12Reader checks, one segment at a time.

Feed every segment of a file in order. Verdicts come out as soon as they are final: a
``SetVerdict`` at SE (or at whatever replaces a missing SE), a ``GroupVerdict`` at GE, an
``InterchangeVerdict`` at IEA. Memory does not grow with the input: per set at most
``ValidatorLimits.max_errors_per_set`` errors are kept (the rest are counted), and the walker's
counters are bounded by the map.

Where pyx12's verdicts depend on its error tree (which segment an error attaches to, which
errors it swallows), the tree is reproduced: an error "cursor" names the error-segment record
new errors go to; envelope cursors (ISA, GS, ST after close) swallow segment-level errors the
way pyx12's ``err_isa.add_error`` signature mismatch does.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field

from edi_guard.errors import X12SyntaxError
from edi_guard.validate.compiler import CompiledMap, SegNode, load_compiled
from edi_guard.validate.elements import ElementError, check_segment
from edi_guard.validate.extra import DIGEST_DIAGNOSES, DIGEST_POINTERS, ExtraChecks
from edi_guard.validate.fast import FastPaths, Post
from edi_guard.validate.model import (
    Finding,
    GroupVerdict,
    InterchangeVerdict,
    Level,
    SetVerdict,
    Status,
    StructureError,
    ValidationResult,
    ValidatorLimits,
    Verdict,
)
from edi_guard.validate.walker import _ENTER as _WALK_ENTER
from edi_guard.validate.walker import _SEGMENT as _WALK_SEGMENT
from edi_guard.validate.walker import Walker, WalkError
from edi_guard.x12.delimiters import Delimiters
from edi_guard.x12.segment import Segment, shown_tag

_SEG_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
_SPECIAL = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE", "HL", "CLM", "LX"})
ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
SUPPORTED_VERSION = "005010X222A1"
"""HIPAA adopted 005010X222A1; 005010X222 (before the addenda) and 005010X222A2 (an erratum
not adopted) are refused as unsupported versions (AK905 2, IK502 1), not read with A1's map."""
_ISA_ELEMENT_NOTES = {
    1: "010", 2: "011", 3: "012", 4: "013", 5: "005", 6: "006", 7: "007", 8: "008", 9: "014",
    10: "015", 11: "016", 12: "017", 13: "018", 14: "019", 15: "020", 16: "027",
}  # fmt: skip


def _int(value: str | None) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


@dataclass(slots=True)
class _Set:
    control: str
    first_position: int
    tsid: str
    reference: str
    limits: ValidatorLimits
    errors: list[StructureError] = field(default_factory=list)
    error_count: int = 0
    seg_error_records: set[int] = field(default_factory=set)
    set_codes: list[str] = field(default_factory=list)
    element_codes: list[str] = field(default_factory=list)
    status: Status | None = None
    last_position: int = 0
    findings: list[Finding] = field(default_factory=list)
    finding_count: int = 0

    def add(self, error: StructureError) -> None:
        self.error_count += 1
        if len(self.errors) < self.limits.max_errors_per_set:
            self.errors.append(error)


@dataclass(slots=True)
class _Group:
    control: str
    fic: str
    version: str
    first_position: int
    sender: str
    receiver: str
    supported: bool
    sets: list[SetVerdict] = field(default_factory=list)
    errors: list[StructureError] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    element_codes: list[str] = field(default_factory=list)
    status: Status | None = None
    declared: int = 0
    received: int = 0
    set_errors: bool = False


@dataclass(slots=True)
class _Interchange:
    control: str
    first_position: int
    fields: tuple[str, ...]
    errors: list[StructureError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    groups: list[GroupVerdict] = field(default_factory=list)
    gs_count: int = 0
    gs_ids: set[str] = field(default_factory=set)


_Cursor = tuple[str, int, int, str | None, "_Set | None"]

_MAX_TRANSITIONS = 1 << 16
_MAX_KNOWN = 1 << 15
# Fast path facts remembered per (node, segment bytes): (kind, node found, checks, counter key,
# limit, parent or first segment key, loop id, action, its argument, a loop's parent key).
# Actions: what besides the counters a segment does: CLM resets the LX count, then X12Reader
# checks that may route to the general path (HL numbering, LX numbering, arg the LX01 value),
# and ``_A_DIGEST + ExtraChecks.digest`` kinds.
_Known = tuple[int, int, "frozenset[int] | None", int, int, int, str, int, int, int]
_T_SEGMENT, _T_ENTER = 0, 1
# A transition: (the facts for a segment that takes it (the action's argument 0), the strict
# fast matcher of the node found and its post check (None: always the general path), what
# ``_classify`` still has to work out from the bytes: _A_HL, _A_LX, _A_DIGEST or 0).
_Transition = tuple["_Known | None", "re.Pattern[bytes] | None", "Post | None", int]
_GENERAL: _Transition = (None, None, None, 0)
_A_CLM, _A_DIGEST, _A_HL, _A_LX = 1, 2, 10, 11
_A_DIAGNOSES = _A_DIGEST + DIGEST_DIAGNOSES
_A_POINTERS = _A_DIGEST + DIGEST_POINTERS
_NO_PARTS: list[bytes] = []


# How a tag's transition key is made: the tag alone; the raw tag and element 01 (the raw bytes
# tell the qualifier values apart, more finely than needed); the tag and the first component
# of element 01; HL with HL03; or no fast path.
_MODE_TAG, _MODE_E01, _MODE_C01, _MODE_HL, _MODE_OTHER = 0, 1, 2, 3, 4


class StructureValidator:
    """Streaming: feed every segment of a file in order (including ISA/GS/ST/SE/GE/IEA)."""

    def __init__(
        self,
        *,
        limits: ValidatorLimits | None = None,
        compiled: CompiledMap | None = None,
        fast_path: bool = True,
    ) -> None:
        """``fast_path=False`` sends every segment down the general path (tests compare)."""
        self.limits = limits or ValidatorLimits()
        self._fast_path = fast_path
        self.map = compiled or load_compiled()
        self.walker = Walker(self.map)
        self.fast = FastPaths(self.map)
        self.extra = ExtraChecks()
        self._result = ValidationResult()
        self._node = -1  # current segment node (index), -1 before any GS
        self._isa: _Interchange | None = None
        self._group: _Group | None = None
        self._set: _Set | None = None
        # The error cursor: a record (seg id, position in set, file position, loop id, set) or
        # "isa"/"gs"/"st", pyx12's envelope nodes that swallow segment errors.
        self._cursor: _Cursor | str | None = None
        self._cursor_group = 0  # the record's group number, assigned at its first error
        self._valid_tags: dict[str, bool] = {}
        self._segs = self.map.segs
        self._segments = 0
        self._extra_tags = self.extra.tags
        self._record_serial = 0
        self._reader_errors: list[tuple[str, str, str]] = []  # (level, code, message)
        self._loops: list[tuple[str, str]] = []  # open envelopes (pyx12 X12Reader.loops)
        self._isa_ids: set[str] = set()
        self._st_ids: set[str] = set()
        self._st_count = 0
        self._seg_count = 0
        self._hl_count = 0
        self._hl_stack: list[int] = []
        self._lx_count = 0
        self._position = 0
        self._finished = False
        self._skip_to_envelope = False
        self._outside_reported = False
        # Fast path state (see ``feed``).
        self._fast_ready = False
        self._delimiters: Delimiters | None = None
        self._separator = b"*"
        self._component = b":"
        self._blank = b"*:"
        self._counts = self.walker.counts
        self._count_keys = self.walker.counts.keys()  # a live view
        self._touched = self.walker.touched
        self._transitions: list[dict[object, _Transition]] = [{} for _ in self._segs]
        self._transition_count = 0
        self._known: list[dict[bytes, _Known]] = [{} for _ in self._segs]
        self._known_count = 0
        self._modes: dict[str, int] = {}

    # -- public --------------------------------------------------------------------------------
    @property
    def result(self) -> ValidationResult:
        self._result.segments = self._segments
        return self._result

    def feed(self, segment: Segment) -> list[Verdict]:
        """Validate one segment; return the verdicts it completes (usually none).

        The fast path below handles a segment inside an open set that is valid and whose walk
        produces no error, touching nothing before it knows so; anything else (envelopes,
        errors, pending reader errors, leading spaces, new delimiters) takes ``_feed_general``,
        the exact path, which then decides everything from the start.
        """
        if (
            not self._fast_ready
            or self._reader_errors
            or segment.delimiters is not self._delimiters
        ):
            return self._feed_general(segment)
        lead = segment.lead
        if lead and lead.lstrip(b"\r\n").startswith(b" "):
            return self._feed_general(segment)
        # What the segment's bytes say from this node: one lookup for a segment seen before.
        node = self._node
        known = self._known[node].get(segment.raw)
        if known is None:
            known = self._classify(segment, node)
            if known is None:
                return self._feed_general(segment)
        kind, found, checks, count_key, limit, parent_key, loop_id, action, arg, up = known
        # Counters: a missing required node or a count over its limit is an error.
        counts = self._counts
        if checks is not None and not self._count_keys >= checks:
            return self._feed_general(segment)
        count = counts.get(count_key)
        if count is not None and count >= limit:
            return self._feed_general(segment)
        # pyx12 X12Reader checks of HL and LX (errors go the general way).
        parts: list[bytes] | None = None
        if action >= _A_HL:
            parts = self._counted(action, arg, segment.raw)
            if parts is None:
                return self._feed_general(segment)
        # No error: commit.
        if kind == _T_SEGMENT:
            if count is None:
                counts[count_key] = 1
                bucket = self._touched.get(parent_key)
                if bucket is None:
                    self.walker._register(count_key)
                else:
                    bucket.append(count_key)
            else:
                counts[count_key] = count + 1
        else:
            self.walker.enter(count_key, parent_key, up)
        self._segments += 1
        self._position = position = segment.position
        self._node = found
        self._seg_count = seg_count = self._seg_count + 1
        self._cursor = (segment.tag, seg_count, position, loop_id, self._set)
        self._cursor_group = 0
        if action and action != _A_LX:
            self._act(action, arg, parts, loop_id, position, seg_count)
        return []

    def feed_many(self, segments: Iterable[Segment]) -> list[Verdict]:
        """``feed`` every segment in turn; return all the verdicts."""
        return [verdict for _, verdict in self.feed_many_at(segments)]

    def feed_many_at(self, segments: Iterable[Segment]) -> list[tuple[int, Verdict]]:
        """``feed`` every segment in turn; return each verdict with the position of the
        segment that completed it (what ``feed`` of that segment would have returned).

        The fast path of ``feed``, with its state in local variables while segments take it
        (written back before the general path runs and at the end). This loop runs once per
        segment of every file, so it is written for the interpreter: names bound to locals,
        the loop entry of ``Walker.enter`` and the actions inlined, no object made for a
        segment that takes the fast path.
        """
        out: list[tuple[int, Verdict]] = []
        known_tables = self._known
        counts = self._counts
        counts_get = counts.get
        count_keys = self._count_keys
        touched = self._touched
        touched_get = touched.get
        touched_pop = touched.pop
        walker = self.walker
        register = walker._register
        registered = walker.registered
        reset_bucket = walker.reset_bucket
        classify = self._classify
        counted_hl = self._counted_hl
        act = self._act
        extra = self.extra
        node = self._node
        seg_count = self._seg_count
        lx_count = self._lx_count
        done = 0  # segments taken by the fast path since the last write-back
        last: Segment | None = None  # the last of them
        loop_id = ""
        ready = self._fast_ready and not self._reader_errors
        delimiters = self._delimiters
        try:
            for segment in segments:
                if ready and segment.delimiters is delimiters:
                    lead = segment.lead
                    if not lead or not lead.lstrip(b"\r\n").startswith(b" "):
                        known = known_tables[node].get(segment.raw)
                        if known is None:
                            known = classify(segment, node)
                        if known is not None:
                            (
                                kind,
                                found,
                                checks,
                                count_key,
                                limit,
                                parent_key,
                                loop,
                                action,
                                arg,
                                up,
                            ) = known
                            count = counts_get(count_key)
                            parts: list[bytes] | None = None
                            if (
                                (checks is None or count_keys >= checks)
                                and (count is None or count < limit)
                                and (
                                    action < _A_HL
                                    or (
                                        arg == lx_count + 1
                                        if action == _A_LX
                                        else (parts := counted_hl(segment.raw)) is not None
                                    )
                                )
                            ):
                                # No error: commit the counters (for a loop entry, what
                                # ``Walker.enter`` does).
                                if kind == _T_SEGMENT:
                                    if count is None:
                                        counts[count_key] = 1
                                        bucket = touched_get(parent_key)
                                        if bucket is None:
                                            register(count_key)
                                        else:
                                            bucket.append(count_key)
                                    else:
                                        counts[count_key] = count + 1
                                else:
                                    # A loop entry: reset below the loop (its count is not
                                    # below it), count it and its first segment, and leave
                                    # both where a reset of an enclosing loop finds them.
                                    bucket = touched_pop(count_key, None)
                                    if bucket:
                                        reset_bucket(bucket)
                                    counts[parent_key] = 1
                                    if count is None:
                                        counts[count_key] = 1
                                        bucket = touched_get(up)
                                        if bucket is None:
                                            register(parent_key)  # registers the loop too
                                        else:  # a bucket exists only for a registered key
                                            bucket.append(count_key)
                                            touched[count_key] = [parent_key]
                                            registered.add(count_key)
                                    else:
                                        counts[count_key] = count + 1
                                        if count_key in registered:
                                            touched[count_key] = [parent_key]
                                        else:
                                            register(parent_key)
                                done += 1
                                last = segment
                                node = found
                                seg_count += 1
                                loop_id = loop
                                if action:
                                    if action == _A_LX:
                                        lx_count = arg
                                    elif action == _A_DIAGNOSES:
                                        extra.diagnoses += arg
                                    elif action == _A_CLM:
                                        lx_count = 0
                                        extra.diagnoses = 0
                                    elif action != _A_POINTERS or arg < 0 or arg > extra.diagnoses:
                                        act(action, arg, parts, loop, segment.position, seg_count)
                                continue
                # The general path, on the state as ``feed`` would have left it.
                if done:
                    self._write_back(node, seg_count, done, last, loop_id)
                    done = 0
                self._lx_count = lx_count
                verdicts = self._feed_general(segment)
                if verdicts:
                    position = segment.position
                    out += [(position, verdict) for verdict in verdicts]
                node = self._node
                seg_count = self._seg_count
                lx_count = self._lx_count
                ready = self._fast_ready and not self._reader_errors
                delimiters = self._delimiters
        finally:
            if done:
                self._write_back(node, seg_count, done, last, loop_id)
            self._lx_count = lx_count
        return out

    def _write_back(
        self, node: int, seg_count: int, done: int, last: Segment | None, loop_id: str
    ) -> None:
        assert last is not None
        self._node = node
        self._seg_count = seg_count
        self._segments += done
        self._position = position = last.position
        self._cursor = (last.tag, seg_count, position, loop_id, self._set)
        self._cursor_group = 0

    def _counted_hl(self, raw: bytes) -> list[bytes] | None:
        """X12Reader's HL numbering for the fast path: the HL's raw elements after counting
        it, or None (nothing counted) when the reader objects."""
        parts = raw.split(self._separator)
        hl = self._hl_fast(parts)
        if hl is None:
            return None
        hl_stack = self._hl_stack
        if hl >= 0:
            while hl_stack and hl != hl_stack[-1]:
                hl_stack.pop()
        self._hl_count += 1
        hl_stack.append(self._hl_count)
        return parts

    def _counted(self, action: int, arg: int, raw: bytes) -> list[bytes] | None:
        """X12Reader's HL and LX numbering for ``feed``: the HL's raw elements (LX: an
        empty list) after counting it, or None (nothing counted) when the reader objects."""
        if action == _A_HL:
            return self._counted_hl(raw)
        if arg != self._lx_count + 1:
            return None
        self._lx_count = arg
        return _NO_PARTS

    def _act(
        self,
        action: int,
        arg: int,
        parts: list[bytes] | None,
        loop_id: str,
        position: int,
        seg_count: int,
    ) -> None:
        """The ``ExtraChecks`` (and CLM's reader count) part of a fast-path segment."""
        extra = self.extra
        if action == _A_HL:
            assert parts is not None
            findings = extra.feed_parts("HL", parts, self._component, loop_id, position, seg_count)
        elif action == _A_CLM:
            self._lx_count = 0
            extra.claim()
            return
        else:
            findings = extra.apply_digest(action - _A_DIGEST, arg, position, seg_count)
        if findings:
            self._add_findings(findings)

    def _classify(self, segment: Segment, node: int) -> _Known | None:
        """The fast-path facts of a segment from ``node`` (None: take the general path).

        They depend only on the node and the segment's bytes: its transition (a pure function
        of the tag and qualifier), that it is valid (the node's strict fast matcher: valid
        elements, not empty, no trailing separator), what the extra checks need of it. They
        are remembered by bytes, except HL (never repeated).
        """
        tag = segment.tag
        raw = segment.raw
        # The transition: one cached lookup per (node, tag, qualifier raw bytes).
        mode = self._modes.get(tag)
        if mode is None:
            mode = self._mode(tag)
        parts: list[bytes] | None = None
        if mode == _MODE_TAG:
            key: object = tag
        elif mode == _MODE_E01:
            end = raw.find(self._separator, len(tag) + 1)
            key = raw if end < 0 else raw[:end]
        elif mode == _MODE_C01:
            end = raw.find(self._separator, len(tag) + 1)
            if end < 0:
                end = len(raw)
            cut = raw.find(self._component, len(tag) + 1, end)
            key = raw[:end] if cut < 0 else raw[:cut]
        elif mode == _MODE_HL:
            parts = raw.split(self._separator)
            key = (tag, parts[3] if len(parts) > 3 else None)
        else:
            return None
        entry = self._transitions[node].get(key)
        if entry is None:
            entry = self._transition(node, segment, key)
        known, pattern, post, extra = entry
        if pattern is None:
            return None
        matched = pattern.fullmatch(raw)
        if matched is None or (post is not None and not post(matched.groups())):
            return None
        assert known is not None
        if extra:
            if extra == _A_HL:
                return known  # HL numbers are never repeated: not remembered
            if extra == _A_LX:
                lx = raw.split(self._separator, 2)
                value = lx[1] if len(lx) > 1 else b""
                if not value.isdigit() or b"%d" % int(value) != value:
                    return None  # the reader will report it
                known = (*known[:8], int(value), known[9])
            elif extra == _A_DIGEST:
                if parts is None:
                    parts = raw.split(self._separator)
                digest, arg = self.extra.digest(tag, parts, self._component, known[6])
                if digest:
                    known = (*known[:7], _A_DIGEST + digest, arg, known[9])
        if self._known_count >= _MAX_KNOWN:
            for table in self._known:
                table.clear()
            self._known_count = 0
        self._known[node][raw] = known
        self._known_count += 1
        return known

    def _mode(self, tag: str) -> int:
        positions = self.walker._positions(tag)
        if not positions:
            mode = _MODE_TAG
        elif positions == ((1, None),):
            mode = _MODE_E01
        elif positions == ((1, 1),):
            mode = _MODE_C01
        elif positions == ((3, None),) and tag == "HL":
            mode = _MODE_HL
        else:
            mode = _MODE_OTHER
        if len(self._modes) < _MAX_TRANSITIONS:
            self._modes[tag] = mode
        return mode

    def _hl_fast(self, parts: list[bytes]) -> int | None:
        """HL01/HL02 as pyx12's reader wants them: the parent HL number ('' gives -1), or None
        when the reader would report an error."""
        if len(parts) < 3:
            return None
        try:
            if int(parts[1]) != self._hl_count + 1:
                return None
            hl02 = parts[2]
            if hl02 == b"":
                return -1
            parent = int(hl02)
        except ValueError:
            return None
        return parent if _open_parent(self._hl_stack, parent) else None

    def _transition(self, node: int, segment: Segment, key: object) -> _Transition:
        """Compute and cache the transition of ``key`` from ``node``."""
        if self._transition_count > _MAX_TRANSITIONS:
            for table in self._transitions:
                table.clear()
            self._transition_count = 0
        tag = segment.tag
        entry: _Transition = _GENERAL
        if tag not in ENVELOPE:
            plan = self.walker.plan(node, tag, segment.elements, segment.delimiters.component_str)
            checks, kind, target, first = plan
            segs = self._segs
            check_keys = frozenset(k for k, _ in checks) or None
            if kind == _WALK_SEGMENT:
                seg = segs[target]
                if seg.usage != "N" and seg.max_use >= 1:
                    entry = self._fast_entry(
                        _T_SEGMENT, seg, check_keys, seg.key, seg.max_use,
                        self.map.key_parent[seg.key], segment.delimiters, -1,
                    )  # fmt: skip
            elif kind == _WALK_ENTER:
                loop = self.map.loops[target]
                seg = segs[first]
                key_parent = self.map.key_parent
                if loop.usage != "N" and loop.max_repeat >= 1 and key_parent[seg.key] == loop.key:
                    entry = self._fast_entry(
                        _T_ENTER, seg, check_keys, loop.key, loop.max_repeat, seg.key,
                        segment.delimiters, key_parent[loop.key],
                    )  # fmt: skip
        self._transitions[node][key] = entry
        self._transition_count += 1
        return entry

    def _fast_entry(
        self,
        kind: int,
        seg: SegNode,
        checks: frozenset[int] | None,
        count_key: int,
        limit: int,
        parent_key: int,
        delimiters: Delimiters,
        loop_parent: int,
    ) -> _Transition:
        matcher = self.fast.matcher(seg, delimiters, strict=True)
        if matcher is None:
            return _GENERAL
        pattern, post = matcher
        tag = seg.id
        action = {"HL": _A_HL, "LX": _A_LX, "CLM": _A_CLM}.get(tag, 0)
        extra = action if action != _A_CLM else 0
        if not action and tag in self._extra_tags:
            extra = _A_DIGEST
        known = (
            kind, seg.index, checks, count_key, limit, parent_key, seg.loop_id, action, 0,
            loop_parent,
        )  # fmt: skip
        return known, pattern, post, extra

    def _add_findings(self, findings: list[Finding]) -> None:
        current = self._set
        if current is None:
            return
        for finding in findings:
            current.finding_count += 1
            if len(current.findings) < self.limits.max_findings_per_set:
                current.findings.append(finding)

    def _refresh_fast(self, delimiters: Delimiters) -> None:
        """After the general path: may the next segment take the fast path?"""
        group = self._group
        current = self._set
        self._fast_ready = (
            self._fast_path
            and self._isa is not None
            and group is not None
            and group.supported
            and self._node >= 0
            and current is not None
            and current.status is None
        )
        if delimiters is not self._delimiters:
            if delimiters != self._delimiters:
                for table in self._transitions:
                    table.clear()
                self._transition_count = 0
                for known in self._known:
                    known.clear()
                self._known_count = 0
            self._delimiters = delimiters
            self._separator = delimiters.element
            self._component = delimiters.component
            self._blank = delimiters.element + delimiters.component

    def _feed_general(self, segment: Segment) -> list[Verdict]:
        out = self._feed_exact(segment)
        self._refresh_fast(segment.delimiters)
        return out

    def _feed_exact(self, segment: Segment) -> list[Verdict]:
        self._position = position = segment.position
        self._segments += 1
        tag = segment.tag
        raw = segment.raw
        delimiters = segment.delimiters
        lead = segment.lead
        if lead and lead.lstrip(b"\r\n").startswith(b" "):
            self._reader_errors.append(("seg", "1", "the segment starts with a space"))
        separator = delimiters.element
        if raw.endswith(separator):
            self._reader_errors.append(
                ("seg", "SEG1", "the segment ends with an element separator")
            )
        if tag in _SPECIAL or not self._hot:
            return self._feed_special(segment, tag)
        # A segment inside a transaction set: the hot path.
        component = delimiters.component
        if len(raw.rstrip(separator + component)) == len(tag):
            self._reader_errors.append(("seg", "8", f"segment {shown_tag(tag)} is empty"))
        valid_tag = self._valid_tags.get(tag)
        if valid_tag is None:
            valid_tag = self._valid_tags[tag] = _SEG_ID.match(tag) is not None
        if not valid_tag:
            self._reader_errors.append(("seg", "1", "the segment identifier is not valid"))
        self._seg_count = seg_count = self._seg_count + 1
        walker = self.walker
        key = walker.raw_key(self._node, tag, raw, separator, component)
        if key is None:
            found, walk_errors = walker.walk(
                self._node, tag, segment.elements, delimiters.component_str
            )
        else:
            found, walk_errors = walker.walk(self._node, tag, (), "", key, segment)
        if walk_errors:
            self._apply_walk_errors(walk_errors)
        if found is None:
            return []
        self._node = found
        node = self._segs[found]
        self._cursor = (tag, seg_count, position, node.loop_id, self._set)
        self._cursor_group = 0
        if self._reader_errors:
            self._pop_reader_errors()
        if not self.fast.is_valid(node, segment):
            self._element_errors(node, segment, segment.elements, delimiters.component_str)
        if tag in self._extra_tags:
            self._run_extra(segment, node)
        return []

    @property
    def _hot(self) -> bool:
        group = self._group
        return (
            group is not None
            and group.supported
            and self._node >= 0
            and self._set is not None
            and self._set.status is None
        )

    def _open_set_or_none(self) -> _Set | None:
        current = self._set
        return current if current is not None and current.status is None else None

    def _apply_walk_errors(self, walk_errors: list[WalkError]) -> None:
        for error in walk_errors:
            if error.new_record:
                self._cursor = (
                    error.seg_id, self._seg_count, self._position, error.loop_id,
                    self._open_set_or_none(),
                )  # fmt: skip
                self._cursor_group = 0
            self._seg_error(error.code, error.message, error.loop_id)

    def _run_extra(self, segment: Segment, node: SegNode) -> None:
        current = self._set
        if current is None:
            return
        for finding in self.extra.feed(segment, node.loop_id, self._seg_count):
            current.finding_count += 1
            if len(current.findings) < self.limits.max_findings_per_set:
                current.findings.append(finding)

    def _feed_special(self, segment: Segment, tag: str) -> list[Verdict]:
        out: list[Verdict] = []
        delimiters = segment.delimiters
        if tag == "ISA":
            self._on_isa(segment, out)
            return out
        if self._isa is None:
            return out
        if tag == "GS":
            self._on_gs(segment, out)
            return out
        if self._group is None and tag != "IEA":
            if not self._outside_reported:
                self._outside_reported = True
                self._envelope_error(
                    "024", "segments stand outside any functional group (GS missing)"
                )
            return out
        if self._group is not None and not self._group.supported and tag not in ("GE", "IEA"):
            self._unsupported_group_segment(segment, out)
            return out
        elements = segment.elements
        component = delimiters.component_str
        self._reader_checks(tag, elements, component)
        if self._node < 0:
            return out
        found, walk_errors = self.walker.walk(self._node, tag, elements, component)
        if walk_errors:
            self._apply_walk_errors(walk_errors)
        if found is None:
            return out
        self._node = found
        node = self.map.segs[found]
        if tag == "IEA":
            self._pop_reader_errors()
            self._close_isa(segment, out)
            self._cursor = "isa"
            self._element_errors(node, segment, elements, component)
            self._emit_isa(out)
        elif tag == "GE":
            self._pop_reader_errors()
            self._close_group(segment)
            self._cursor = "gs"
            self._element_errors(node, segment, elements, component)
            self._emit_group(out)
        elif tag == "ST":
            self._open_set(segment, elements)
            self._cursor = "st"
            self._pop_reader_errors()
            self._element_errors(node, segment, elements, component)
        elif tag == "SE":
            self._pop_reader_errors()
            self._close_set(segment)
            self._cursor = "st"
            self._element_errors(node, segment, elements, component)
            self._emit_set(out)
        else:
            self._cursor = (
                tag,
                self._seg_count,
                self._position,
                node.loop_id,
                self._open_set_or_none(),
            )
            self._cursor_group = 0
            self._pop_reader_errors()
            if not self.fast.is_valid(node, segment):
                self._element_errors(node, segment, elements, component)
            if tag in self._extra_tags:
                self._run_extra(segment, node)
        return out

    def fail(self, error: X12SyntaxError) -> list[Verdict]:
        """The tokenizer raised: close what is open; the interchange gets a TA1 (R)."""
        self._fast_ready = False
        out: list[Verdict] = []
        message = str(error)
        if self._isa is None:
            self._result.fatal = message
            self._result.fatal_offset = error.offset
            return out
        self._envelope_error("024", f"the input stopped being X12: {message}")
        self._result.fatal = message
        self._result.fatal_offset = error.offset
        out += self._finish()
        return out

    def close(self) -> list[Verdict]:
        """End of input: missing SE/GE/IEA are reported as pyx12's cleanup does."""
        self._fast_ready = False
        if self._finished:
            return []
        return self._finish()

    # -- envelopes -----------------------------------------------------------------------------
    def _on_isa(self, segment: Segment, out: list[Verdict]) -> None:
        if self._isa is not None:
            # A new ISA while one is open: pyx12 keeps reading; we close the open one first.
            out += self._close_open(missing_trailers=True)
        elements = segment.elements
        self._reader_checks("ISA", elements)
        fields = tuple(elements[1:17]) + ("",) * max(0, 16 - (len(elements) - 1))
        control = fields[12]
        self._isa = _Interchange(control=control, first_position=segment.position, fields=fields)
        self._outside_reported = False
        if len(elements) != 17:
            self._envelope_error("024", "the ISA segment does not have 16 elements")
        self._loops.append(("ISA", control))
        self._cursor = "isa"
        self.walker.force_loop_start(self.map.isa_loop, self._isa_seg_index())
        self._node = -1
        self._pop_reader_errors()
        isa_errors = check_segment(self.map.isa, elements, "\x00")
        for problem in isa_errors:
            if problem.spec is not None and self._isa is not None:
                note = _ISA_ELEMENT_NOTES.get(problem.spec.ele_pos, "024")
                self._isa_element_error(problem, note)

    def _isa_seg_index(self) -> int:
        loop = self.map.loops[self.map.isa_loop]
        return loop.first_seg

    def _isa_element_error(self, problem: ElementError, note: str) -> None:
        assert self._isa is not None
        self._isa.notes.append(note)
        spec = problem.spec
        self._isa.errors.append(
            StructureError(
                level="interchange",
                code=note,
                message=problem.message,
                position=self._position,
                segment_id="ISA" if spec is None or spec.refdes.startswith("ISA") else "IEA",
                element=spec.refdes if spec else None,
                element_position=spec.ele_pos if spec else None,
                data_element=spec.data_ele if spec else None,
            )
        )

    def _envelope_error(self, note: str, message: str) -> None:
        if self._isa is None:
            return
        self._isa.notes.append(note)
        if len(self._isa.errors) < self.limits.max_envelope_errors:
            self._isa.errors.append(
                StructureError(
                    level="interchange", code=note, message=message, position=self._position
                )
            )

    def _on_gs(self, segment: Segment, out: list[Verdict]) -> None:
        elements = segment.elements
        self._skip_to_envelope = False
        if self._group is not None and self._group.status is None:
            # GS without GE before it: close the open group as pyx12's reader would at GE.
            if self._set is not None and self._set.status is None:
                self._emit_set(out, unclosed=True)
            self._emit_group(out)
        self._reader_checks("GS", elements)

        def value(i: int) -> str:
            return elements[i] if i < len(elements) else ""

        fic, version = value(1), value(8)
        supported = fic == "HC" and version.strip() == SUPPORTED_VERSION
        self._group = _Group(
            control=value(6), fic=fic, version=version, first_position=segment.position,
            sender=value(2), receiver=value(3), supported=supported,
        )  # fmt: skip
        self._set = None
        self._st_ids = set()
        self._st_count = 0
        self._cursor = "gs"
        gs_loop = self.map.gs_loop
        self.walker.force_loop_start(gs_loop, self.map.gs)
        self._node = self.map.gs
        self._pop_reader_errors()
        if not supported:
            self._group.codes.append("2" if fic == "HC" else "1")
            what = (
                f"GS08 is not a valid code: this intake reads {SUPPORTED_VERSION} only"
                if fic == "HC"
                else "GS01 is not a valid code: this intake reads health care claims (HC) only"
            )
            self._group.errors.append(
                StructureError(level="group", code="2" if fic == "HC" else "1", message=what,
                               position=segment.position)
            )  # fmt: skip
            return
        node = self.map.segs[self.map.gs]
        self._element_errors(node, segment, elements, segment.delimiters.component_str)

    def _unsupported_group_segment(self, segment: Segment, out: list[Verdict]) -> None:
        group = self._group
        assert group is not None
        if segment.tag == "ST":
            self._st_count += 1
            elements = segment.elements
            self._set = _Set(
                control=elements[2] if len(elements) > 2 else "",
                first_position=segment.position,
                tsid=elements[1] if len(elements) > 1 else "",
                reference=elements[3] if len(elements) > 3 else "",
                limits=self.limits,
            )
            self._set.set_codes.append("1")
            self._set.error_count += 1
        elif segment.tag == "SE" and self._set is not None:
            self._set.status = "R"
            self._set.last_position = segment.position
            self._emit_set(out)

    def _reader_checks(self, tag: str, elements: tuple[str, ...], component: str = ":") -> None:
        """pyx12 ``X12Base._parse_segment`` and ``X12Reader._parse_segment``."""
        add = self._reader_errors.append
        if all(not e.strip(component) for e in elements[1:]):
            add(("seg", "8", f"segment {shown_tag(tag)} is empty"))
        if not _SEG_ID.match(tag):
            add(("seg", "1", "the segment identifier is not valid"))

        def get(i: int) -> str | None:
            return elements[i] if i < len(elements) else None

        if tag == "ISA":
            control = get(13) or ""
            if control in self._isa_ids:
                add(("isa", "025", "ISA13 is not unique within the file"))
            self._isa_ids.add(control)
            self._gs_ids_reset()
        elif tag == "GS":
            control = get(6) or ""
            if self._isa is not None:
                if control in self._isa.gs_ids:
                    add(("gs", "6", "GS06 is not unique within the interchange"))
                self._isa.gs_ids.add(control)
                self._isa.gs_count += 1
            self._loops.append(("GS", control))
            self._st_count = 0
        elif tag == "ST":
            self._hl_stack = []
            self._hl_count = 0
            control = get(2) or ""
            if control in self._st_ids:
                add(("st", "23", "ST02 is not unique within the group"))
            self._st_count += 1
            self._st_ids.add(control)
            self._loops.append(("ST", control))
            self._seg_count = 1
        elif tag == "HL":
            self._hl_count += 1
            if self._hl_count != _int(get(1)):
                add(("seg", "HL1", f"HL01 does not continue the HL numbering ({self._hl_count})"))
            hl02 = get(2)
            if hl02 != "":
                parent = _int(hl02)
                if not _open_parent(self._hl_stack, parent):
                    add(("seg", "HL2", "HL02 does not name an open parent HL"))
                while self._hl_stack and parent != self._hl_stack[-1]:
                    self._hl_stack.pop()
            self._hl_stack.append(self._hl_count)
        elif tag == "CLM":
            self._lx_count = 0
        elif tag == "LX":
            self._lx_count += 1
            if get(1) != f"{self._lx_count:d}":
                add(
                    (
                        "seg",
                        "LX",
                        f"LX01 does not continue the service line numbering ({self._lx_count})",
                    )
                )
        if tag not in ENVELOPE:
            self._seg_count += 1
        loops = self._loops
        if tag == "IEA":
            if loops and loops[-1][0] != "ISA":
                add(("isa", "024", "a functional group is not closed before IEA"))
                loops.pop()
            if loops and loops[-1][1] != get(2):
                add(("isa", "001", "IEA02 does not match ISA13"))
            if self._isa is not None and _int(get(1)) != self._isa.gs_count:
                add(("isa", "021", "IEA01 does not match the number of groups"))
            if loops:
                loops.pop()
        elif tag == "GE":
            if loops and loops[-1][0] != "GS":
                add(("gs", "3", "a transaction set is not closed before GE"))
                loops.pop()
            if loops and loops[-1][1] != get(2):
                add(("gs", "4", "GE02 does not match GS06"))
            if _int(get(1)) != self._st_count:
                add(("gs", "5", "GE01 does not match the number of transaction sets"))
            if loops:
                loops.pop()
        elif tag == "SE":
            se02 = get(2)
            if not loops or loops[-1][0] != "ST" or loops[-1][1] != se02:
                add(("st", "3", "SE02 does not match ST02"))
            if _int(get(1)) != self._seg_count + 1:
                add(("st", "4", "SE01 does not match the number of segments"))
            cap = self.limits.max_segments_per_set
            if cap is not None and self._seg_count + 1 > cap:
                add(("st", "5", f"the transaction set holds more than {cap} segments "
                     "(the segments per set limit)"))  # fmt: skip
            if loops:
                loops.pop()

    def _gs_ids_reset(self) -> None:
        pass  # group control numbers are tracked per interchange (_Interchange.gs_ids)

    def _pop_reader_errors(self) -> None:
        errors = self._reader_errors
        if not errors:
            return
        self._reader_errors = []
        for level, code, message in errors:
            if level == "isa":
                self._envelope_error(code, message)
            elif level == "gs":
                if self._group is not None:
                    self._group.codes.append(code)
                    self._group.errors.append(
                        StructureError(
                            level="group", code=code, message=message, position=self._position
                        )
                    )
            elif level == "st":
                if self._set is not None:
                    self._set.set_codes.append(code)
                    self._set.add(
                        StructureError(
                            level="set", code=code, message=message, position=self._position,
                            position_in_set=self._seg_count,
                        )
                    )  # fmt: skip
            else:
                self._seg_error(code, message, None)

    # -- error tree ------------------------------------------------------------------------------
    def _record_group(self) -> int:
        if self._cursor_group == 0:
            self._record_serial += 1
            self._cursor_group = self._record_serial
        return self._cursor_group

    def _seg_error(self, code: str, message: str, loop_id: str | None) -> None:
        cursor = self._cursor
        if not isinstance(cursor, tuple):
            return  # pyx12's envelope error nodes reject segment errors
        seg_id, position_in_set, position, cursor_loop, owner = cursor
        if owner is None:
            if self._group is not None:
                self._group.set_errors = True
            return
        group = self._record_group()
        owner.seg_error_records.add(group)
        owner.add(
            StructureError(
                level="segment", code=code, message=message, position=position,
                position_in_set=position_in_set, segment_id=seg_id,
                loop_id=cursor_loop or loop_id, group=group,
            )
        )  # fmt: skip

    def _element_errors(
        self, node: SegNode, segment: Segment, elements: tuple[str, ...], component: str
    ) -> None:
        if node.id != "ISA" and self.fast.is_valid(node, segment):
            return
        problems = check_segment(node, elements, component)
        if not problems:
            return
        cursor = self._cursor
        for problem in problems:
            spec = problem.spec
            if spec is None:
                self._seg_error("8", problem.message, node.loop_id)
                continue
            if cursor == "isa":
                continue
            if cursor == "gs":
                if self._group is not None:
                    in_gs = spec.refdes.startswith("GS")
                    if in_gs:
                        code = {6: "6", 8: "2"}.get(spec.ele_pos, "1")
                    else:
                        code = {2: "6"}.get(spec.ele_pos, "1")
                    self._group.element_codes.append(code)
                    self._group.errors.append(self._element_error(problem, node, None, 0, "group"))
                continue
            if cursor == "st":
                if self._set is not None:
                    self._set.element_codes.append({1: "6", 2: "7"}.get(spec.ele_pos, "6"))
                    self._set.add(self._element_error(problem, node, None, 0, "set"))
                continue
            if not isinstance(cursor, tuple) or cursor[4] is None:
                if self._group is not None:
                    self._group.set_errors = True
                continue
            group = self._record_group()
            cursor[4].seg_error_records.add(group)
            cursor[4].add(self._element_error(problem, node, cursor[1], group, "element"))

    def _element_error(
        self,
        problem: ElementError,
        node: SegNode,
        position_in_set: int | None,
        group: int,
        level: Level,
    ) -> StructureError:
        spec = problem.spec
        assert spec is not None
        return StructureError(
            level=level,
            code=problem.code,
            message=problem.message,
            position=self._position,
            position_in_set=position_in_set if position_in_set is not None else self._seg_count,
            segment_id=node.id,
            loop_id=node.loop_id,
            element=spec.refdes,
            element_position=spec.ele_pos,
            component_position=spec.sub_pos,
            data_element=spec.data_ele,
            group=group,
            bad_value=problem.bad_value,
        )

    # -- sets, groups, interchanges ----------------------------------------------------------------
    def _open_set(self, segment: Segment, elements: tuple[str, ...]) -> None:
        self._set = _Set(
            control=elements[2] if len(elements) > 2 else "",
            first_position=segment.position,
            tsid=elements[1] if len(elements) > 1 else "",
            reference=elements[3] if len(elements) > 3 else "",
            limits=self.limits,
        )
        self.extra.reset()

    def _close_set(self, segment: Segment) -> None:
        current = self._set
        if current is None:
            return
        current.last_position = segment.position
        current.status = "R" if (current.set_codes or current.seg_error_records) else "A"
        for finding in self.extra.finish():
            current.finding_count += 1
            if len(current.findings) < self.limits.max_findings_per_set:
                current.findings.append(finding)

    def _set_verdict(self, current: _Set, unclosed: bool) -> SetVerdict:
        codes = set(current.set_codes) | set(current.element_codes)
        if current.seg_error_records:
            codes.add("5")
        status: Status = current.status or "R"
        return SetVerdict(
            st_control=current.control,
            status=status,
            errors=tuple(current.errors),
            first_position=current.first_position,
            last_position=current.last_position or self._position,
            transaction_set_id=current.tsid,
            implementation_reference=current.reference,
            error_count=current.error_count,
            ik5_codes=tuple(sorted(codes)[:5]),
            findings=tuple(current.findings),
            finding_count=current.finding_count,
            closed=not unclosed,
        )

    def _emit_set(self, out: list[Verdict], unclosed: bool = False) -> None:
        current = self._set
        if current is None or self._group is None:
            return
        verdict = self._set_verdict(current, unclosed)
        if current.status is None:
            current.status = "R"
        if current.set_codes or current.seg_error_records:
            self._group.set_errors = True
        self._group.sets.append(verdict)
        out.append(verdict)

    def _close_group(self, segment: Segment) -> None:
        group = self._group
        if group is None:
            return
        current = self._set
        if current is not None and (current.set_codes or current.seg_error_records):
            group.set_errors = True
        group.status = "R" if (group.codes or group.set_errors) else "A"
        elements = segment.elements
        group.declared = _int(elements[1] if len(elements) > 1 else None) or 0
        group.received = self._st_count

    def _group_verdict(self, group: _Group, out: list[Verdict]) -> GroupVerdict:
        current = self._set
        if current is not None and current.status is None:
            self._emit_set(out, unclosed=True)
        closed = group.status is not None
        status: Status = group.status or "R"
        failed = sum(1 for s in group.sets if s.status not in ("A", "E"))
        codes = sorted(set(group.codes) | set(group.element_codes))[:5]
        return GroupVerdict(
            gs_control=group.control,
            functional_id=group.fic,
            version=group.version,
            status=status,
            sets=tuple(group.sets),
            st_count_declared=group.declared,
            st_count_received=group.received,
            st_count_accepted=max(group.received - failed, 0),
            ak9_codes=tuple(codes),
            errors=tuple(group.errors),
            first_position=group.first_position,
            sender=group.sender,
            receiver=group.receiver,
            closed=closed,
        )

    def _emit_group(self, out: list[Verdict]) -> None:
        group = self._group
        if group is None or self._isa is None:
            return
        verdict = self._group_verdict(group, out)
        self._isa.groups.append(verdict)
        out.append(verdict)
        self._group = None
        self._set = None

    def _close_isa(self, segment: Segment, out: list[Verdict]) -> None:
        if self._group is not None:
            self._emit_group(out)

    def _interchange_verdict(self, closed: bool) -> InterchangeVerdict:
        isa = self._isa
        assert isa is not None
        fields = isa.fields
        notes = isa.notes
        return InterchangeVerdict(
            isa_control=isa.control,
            status="R" if notes else "A",
            ta1_note=notes[0] if notes else "000",
            ta1_requested=fields[13] == "1",
            groups=tuple(isa.groups),
            errors=tuple(isa.errors),
            first_position=isa.first_position,
            isa_date=fields[8],
            isa_time=fields[9],
            sender_qualifier=fields[4],
            sender_id=fields[5],
            receiver_qualifier=fields[6],
            receiver_id=fields[7],
            usage=fields[14] or "P",
            version=fields[11],
            closed=closed,
        )

    def _emit_isa(self, out: list[Verdict], closed: bool = True) -> None:
        if self._isa is None:
            return
        verdict = self._interchange_verdict(closed)
        self._result.interchanges.append(verdict)
        out.append(verdict)
        self._isa = None
        self._group = None
        self._set = None
        self._node = -1

    def _close_open(self, missing_trailers: bool) -> list[Verdict]:
        out: list[Verdict] = []
        for kind, _ in reversed(self._loops):
            if kind == "ST":
                if self._set is not None:
                    self._set.set_codes.append("2")
                    self._set.add(
                        StructureError(
                            level="set",
                            code="2",
                            message="SE is missing",
                            position=self._position,
                            position_in_set=self._seg_count,
                        )
                    )
            elif kind == "GS":
                if self._group is not None:
                    self._group.codes.append("3")
                    self._group.errors.append(
                        StructureError(
                            level="group",
                            code="3",
                            message="GE is missing",
                            position=self._position,
                        )
                    )
            elif kind == "ISA":
                self._envelope_error("023", "IEA is missing")
        self._loops = []
        if self._set is not None and self._set.status is None:
            self._emit_set(out, unclosed=True)
        if self._group is not None:
            self._emit_group(out)
        self._emit_isa(out, closed=False)
        return out

    def _finish(self) -> list[Verdict]:
        self._finished = True
        self._pop_reader_errors()
        if self._isa is None:
            return []
        return self._close_open(missing_trailers=True)


def validate_segments(
    segments: object, *, limits: ValidatorLimits | None = None
) -> ValidationResult:
    """Validate an iterable of segments (tests and small inputs)."""
    validator = StructureValidator(limits=limits)
    for segment in segments:  # type: ignore[attr-defined]
        validator.feed(segment)
    validator.close()
    return validator.result


def _open_parent(stack: list[int], parent: int | None) -> bool:
    """Whether ``parent`` is an open HL. The stack only ever grows by a number larger than
    all it holds (HL01 counts up), so it is sorted: a binary search keeps a deep chain of
    nested HLs linear overall instead of quadratic."""
    if parent is None:
        return False
    index = bisect_left(stack, parent)
    return index < len(stack) and stack[index] == parent
