"""Find the map node of each segment, as pyx12's ``walk_tree.walk_errors`` does.

The search is pyx12's: from the current segment's loop, scan children at or after its
position (loops before segments at equal positions), popping to parent loops; wrapper loops
(first child a loop) match when a child loop matches; entering a loop resets the counters
below it; "mandatory segment/loop missing" notes are held until the next match and dropped
when nothing matches. Counters are keyed by pyx12's path strings (compiled to ints); a reset
clears only the keys touched since the last reset, so its cost is amortised O(1).

Walk errors come back as ``WalkError`` tuples: ``node`` None means "attach to the error
cursor" (pyx12's usage-N errors), else a new error-segment record is opened.
"""

from __future__ import annotations

from typing import NamedTuple

from edi_guard.validate.compiler import CompiledMap, LoopNode, SegNode
from edi_guard.x12.segment import Segment, shown_tag


class WalkError(NamedTuple):
    code: str
    seg_id: str  # the segment id reported in IK301
    loop_id: str | None
    message: str
    new_record: bool  # False: attach to the current cursor (pyx12 map_node=None)


class _Missing(NamedTuple):
    seg_id: str
    loop_id: str
    pos: int
    message: str


def qualifier_value(node: SegNode, elements: tuple[str, ...], component: str) -> str | None:
    """The value pyx12 compares with the node's qualifier codes, or None when absent."""
    qualifier = node.qualifier
    assert qualifier is not None
    index, sub, _ = qualifier
    if index >= len(elements):
        return None
    value = elements[index]
    if sub is None:
        return value.rstrip(component) if component in value else value
    return value.split(component, 1)[0]


class Walker:
    def __init__(self, compiled: CompiledMap) -> None:
        self.map = compiled
        self.loops: list[LoopNode] = compiled.loops
        self.segs: list[SegNode] = compiled.segs
        self.counts: dict[int, int] = {}
        self.touched: dict[int, list[int]] = {}
        self.registered: set[int] = set()
        self.key_parent = compiled.key_parent
        self.key_is_loop = compiled.key_is_loop
        self._tag = ""
        self._elements: tuple[str, ...] = ()
        self._component = ":"
        self._plans: dict[tuple[object, ...], _Plan] = {}
        self._qualifier_positions: dict[str, tuple[tuple[int, int | None], ...]] = {}
        self._checks: list[tuple[int, _Missing]] = []
        self._raw_modes: dict[str, int] = {}

    # -- counters ---------------------------------------------------------------------------
    def count(self, key: int) -> int:
        return self.counts.get(key, 0)

    def increment(self, key: int) -> int:
        value = self.counts.get(key)
        if value is None:
            self.counts[key] = 1
            self._register(key)
            return 1
        value += 1
        self.counts[key] = value
        return value

    def _register(self, key: int) -> None:
        parent = self.key_parent[key]
        if parent in self.registered:
            bucket = self.touched.get(parent)
            if bucket is None:
                self.touched[parent] = [key]
            else:
                bucket.append(key)
            return
        while parent >= 0:
            bucket = self.touched.get(parent)
            if bucket is None:
                bucket = self.touched[parent] = []
            bucket.append(key)
            if parent in self.registered:
                return
            self.registered.add(parent)
            key = parent
            parent = self.key_parent[key]

    def reset_below(self, key: int) -> None:
        """pyx12 ``NodeCounter.reset_to_node``: forget every count below ``key``."""
        bucket = self.touched.pop(key, None)
        if not bucket:
            return
        counts = self.counts
        for child in bucket:
            counts.pop(child, None)
            if child in self.registered:
                self.registered.discard(child)
                self.reset_below(child)

    def force_loop_start(self, loop: int, seg: int) -> None:
        """``forceWalkCounterToLoopStart`` (ISA and GS)."""
        key = self.loops[loop].key
        self.reset_below(key)
        self.increment(key)
        self.increment(self.segs[seg].key)

    # -- matching ----------------------------------------------------------------------------
    def _matches(self, seg: SegNode) -> bool:
        if seg.id != self._tag:
            return False
        qualifier = seg.qualifier
        if qualifier is None:
            return True
        return qualifier_value(seg, self._elements, self._component) in qualifier[2]

    def _plan_key(
        self, start: int, tag: str, elements: tuple[str, ...], component: str
    ) -> tuple[object, ...]:
        positions = self._positions(tag)
        if not positions:
            return (start, tag)
        values: list[object] = [start, tag]
        for index, sub in positions:
            if index >= len(elements):
                values.append(None)
                continue
            value = elements[index]
            if sub is None:
                values.append(value.rstrip(component) if component in value else value)
            else:
                values.append(value.split(component, 1)[0])
        return tuple(values)

    def raw_key(
        self, start: int, tag: str, raw: bytes, separator: bytes, component: bytes
    ) -> tuple[object, ...] | None:
        """The plan key from raw bytes, for tags whose only qualifier is element 01 (or none)."""
        mode = self._raw_modes.get(tag)
        if mode is None:
            positions = self._positions(tag)
            mode = (
                0
                if not positions
                else (1 if positions == ((1, None),) else (2 if positions == ((1, 1),) else 3))
            )
            self._raw_modes[tag] = mode
        if mode == 0:
            return (start, tag)
        if mode == 3:
            return None
        parts = raw.split(separator, 2)
        if len(parts) < 2:
            return (start, tag, None)
        value = parts[1]
        if component in value:
            value = value.rstrip(component) if mode == 1 else value.split(component, 1)[0]
        return (start, tag, value.decode("latin-1"))

    def _positions(self, tag: str) -> tuple[tuple[int, int | None], ...]:
        positions = self._qualifier_positions.get(tag)
        if positions is None:
            found: list[tuple[int, int | None]] = []
            for index in self.map.by_tag.get(tag, ()):
                qualifier = self.segs[index].qualifier
                if qualifier is not None and qualifier[:2] not in found:
                    found.append(qualifier[:2])
            positions = self._qualifier_positions[tag] = tuple(found)
        return positions

    def walk(
        self,
        start: int,
        tag: str,
        elements: tuple[str, ...],
        component: str,
        key: tuple[object, ...] | None = None,
        source: Segment | None = None,
    ) -> tuple[int | None, list[WalkError]]:
        """Return the matching segment node (or None) and the walk errors, in pyx12's order.

        The walk's path (which nodes are looked at, which one matches) depends only on the
        start node, the tag and the qualifier values, so it is planned once and cached; the
        counters only decide which "missing" and "too many" errors the plan emits.
        """
        if key is None:
            key = self._plan_key(start, tag, elements, component)
        plan = self._plans.get(key)
        if plan is None:
            if source is not None:
                elements, component = source.elements, source.delimiters.component_str
            plan = self.plan(start, tag, elements, component, key)
        return self.apply(plan, start, tag)

    def plan(
        self,
        start: int,
        tag: str,
        elements: tuple[str, ...],
        component: str,
        key: tuple[object, ...] | None = None,
    ) -> _Plan:
        """The (cached) walk plan from ``start`` for a segment (no counter is touched)."""
        if key is None:
            key = self._plan_key(start, tag, elements, component)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) > 65536:
                self._plans.clear()  # bounded whatever the input
            plan = self._plan(start, tag, elements, component)
            self._plans[key] = plan
        return plan

    def enter(self, loop_key: int, first_key: int, loop_parent: int) -> None:
        """Counters of an error-free loop entry: reset below the loop, count it and its first
        segment (``walk``'s ``_ENTER`` branch without its error checks). ``loop_parent`` is
        ``key_parent[loop_key]``; ``first_key`` must be a child of ``loop_key``."""
        touched = self.touched
        counts = self.counts
        registered = self.registered
        bucket = touched.pop(loop_key, None)
        if bucket:
            self.reset_bucket(bucket)
        count = counts.get(loop_key)
        if count is None:
            counts[loop_key] = 1
            parent_bucket = touched.get(loop_parent)
            if parent_bucket is None:
                self._register(loop_key)
            else:  # a bucket exists only for a registered key: _register's first case
                parent_bucket.append(loop_key)
        else:
            counts[loop_key] = count + 1
        counts[first_key] = 1  # below the loop: reset just now
        if loop_key in registered:
            touched[loop_key] = [first_key]
        else:
            self._register(first_key)

    def reset_bucket(self, bucket: list[int]) -> None:
        """The rest of ``reset_below(key)`` once ``key``'s bucket is popped, iteratively."""
        touched = self.touched
        registered = self.registered
        pop = self.counts.pop
        buckets = [bucket]
        while buckets:
            for child in buckets.pop():
                pop(child, None)
                if child in registered:
                    registered.discard(child)
                    inner = touched.pop(child, None)
                    if inner:
                        buckets.append(inner)

    def apply(self, plan: _Plan, start: int, tag: str) -> tuple[int | None, list[WalkError]]:
        """Run ``plan``: update the counters, return the node found and the walk errors."""
        checks, kind, target, first = plan
        counts = self.counts
        pending = [m for k, m in checks if counts.get(k, 0) < 1] if checks else _NO_PENDING
        if kind == _SEGMENT:
            seg = self.segs[target]
            seg_key = seg.key
            count = counts.get(seg_key)
            if count is None:
                count = 1
                counts[seg_key] = 1
                self._register(seg_key)
            else:
                count += 1
                counts[seg_key] = count
            if count <= seg.max_use and not pending and seg.usage != "N":
                return target, _NO_ERRORS
            errors: list[WalkError] = []
            if seg.usage == "N":
                errors.append(
                    WalkError("2", seg.id, seg.loop_id, f"{seg.id} is marked not used", False)
                )
            elif count > seg.max_use:
                errors.append(
                    WalkError(
                        "5",
                        tag,
                        seg.loop_id,
                        f"{seg.id} occurs more than {seg.max_use} times",
                        True,
                    )
                )
            pending = [m for m in pending if not (m.seg_id == seg.id and m.loop_id == seg.loop_id)]
            errors += [_missing_error(m) for m in pending if m.pos != seg.pos]
            return target, errors
        if kind == _ENTER:
            loop = self.loops[target]
            errors = []
            if loop.usage == "N":
                errors.append(
                    WalkError(
                        "2",
                        self.segs[first].id,
                        loop.id,
                        f"loop {loop.id} is marked not used",
                        False,
                    )
                )
            else:
                self.reset_below(loop.key)
                count = self.increment(loop.key)
                if count > loop.max_repeat:
                    errors.append(
                        WalkError(
                            "4",
                            tag,
                            loop.id,
                            f"loop {loop.id} occurs more than {loop.max_repeat} times",
                            True,
                        )
                    )
            self.increment(self.segs[first].key)
            if pending:
                errors += [_missing_error(m) for m in pending]
            return first, errors or _NO_ERRORS
        if kind == _SILENT:
            return None, []
        orig = self.segs[start]
        return None, [
            WalkError(
                "1", tag, orig.loop_id, f"segment {shown_tag(tag)} is not expected here", True
            )
        ]

    # -- planning (no counter is read or written here) -----------------------------------------
    def _plan(self, start: int, tag: str, elements: tuple[str, ...], component: str) -> _Plan:
        self._tag = tag
        self._elements = elements
        self._component = component
        self._checks = []
        node = self.segs[start]
        loop = node.parent
        node_pos = node.pos
        while True:
            found = self._scan(loop, node_pos)
            if found is not None:
                kind, target, first = found
                return (tuple(self._checks), kind, target, first)
            if loop < 0:
                return (tuple(self._checks), _NOT_FOUND, -1, -1)
            node_pos = self.loops[loop].pos
            loop = self.loops[loop].parent

    def _children(self, loop: int) -> tuple[tuple[int, bool, int], ...]:
        return self.loops[loop].children if loop >= 0 else self.map.root_children

    def _scan(self, loop: int, node_pos: int) -> tuple[int, int, int] | None:
        for pos, is_loop, index in self._children(loop):
            if pos < node_pos:
                continue
            if not is_loop:
                seg = self.segs[index]
                if self._matches(seg):
                    if loop >= 0 and self._is_loop_match(self.loops[loop]):
                        return self._goto(self.loops[loop]) or (_SILENT, -1, -1)
                    return (_SEGMENT, index, index)
                if seg.usage == "R":
                    self._checks.append(
                        (
                            seg.key,
                            _Missing(
                                seg.id,
                                seg.loop_id,
                                seg.pos,
                                f"required segment {seg.id} is missing",
                            ),
                        )
                    )
            else:
                child = self.loops[index]
                if self._is_loop_match(child):
                    return self._goto(child) or (_SILENT, -1, -1)
        return None

    def _is_loop_match(self, loop: LoopNode) -> bool:
        if not loop.children:
            return False
        if loop.first_is_loop:
            for _, is_loop, index in loop.children:
                if is_loop and self._is_loop_match(self.loops[index]):
                    return True
            return False
        if self._matches(self.segs[loop.first_seg]):
            return True
        if loop.usage == "R":
            self._checks.append(
                (
                    loop.key,
                    _Missing(
                        loop.first_id,
                        loop.id,
                        loop.first_pos,
                        f"required loop {loop.id} is missing",
                    ),
                )
            )
        return False

    def _goto(self, loop: LoopNode) -> tuple[int, int, int] | None:
        if not loop.first_is_loop and loop.first_seg >= 0:
            first = self.segs[loop.first_seg]
            if self._matches(first):
                return (_ENTER, loop.index, first.index)
        for _, is_loop, index in loop.children:
            if is_loop:
                found = self._goto(self.loops[index])
                if found is not None:
                    return found
        return None


_SEGMENT, _ENTER, _NOT_FOUND, _SILENT = 0, 1, 2, 3
_NO_ERRORS: list[WalkError] = []
_NO_PENDING: list[_Missing] = []
_Plan = tuple[tuple[tuple[int, _Missing], ...], int, int, int]


def _missing_error(missing: _Missing) -> WalkError:
    return WalkError("3", missing.seg_id, missing.loop_id, missing.message, True)
