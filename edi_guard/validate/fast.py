"""A sound fast path for element validation: one compiled bytes regex per segment node.

For each map segment (and each set of delimiters) a regular expression is built that fully
matches a segment's raw bytes only if ``check_segment`` would report nothing: lengths,
character set, small internal code lists, dates, times, required and not-used elements,
composites. Large code lists (external ones), ``<regex>`` rules and syntax rules are checked
on capture groups afterwards. A segment the fast path does not accept is simply checked by
the exact (slow) path, so the fast path only has to be sound, never complete: anything
unusual (a leap day, padded values, ISA) goes the slow way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from edi_guard.validate.compiler import CompiledMap, CompositeSpec, ElementSpec, SegNode
from edi_guard.validate.elements import check_element
from edi_guard.x12.delimiters import Delimiters
from edi_guard.x12.segment import Segment

_E5 = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    "!\"&'()*+,-./:;?= %~@[]_{}\\|<>^`#$"
)
SMALL_CODE_LIST = 2000
_DAY28 = rb"(?:0[1-9]|1[0-9]|2[0-8])"
_DATE8 = (
    rb"(?:1[89][0-9][0-9]|[2-9][0-9][0-9][0-9])"
    rb"(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)"
    rb"|02" + _DAY28 + rb")"
)
_TIME = rb"(?:[01][0-9]|2[0-3])[0-5][0-9](?:[0-5][0-9](?:[0-9]{1,2})?)?"
_TYPE_REGEX = {"D8": _DATE8, "RD8": _DATE8 + b"-" + _DATE8, "TM": _TIME}
_NEVER = b"(?!)"

Post = Callable[[tuple[bytes | None, ...]], bool]


@lru_cache(maxsize=64)
def _classes(element: bytes, component: bytes, terminator: bytes) -> tuple[bytes, bytes]:
    """The character classes of a value's bytes (and of its last byte, no space): the
    extended character set less the delimiters. Runs of bytes are written as ranges: every
    AN element repeats the class, and the regex parser (pure Python) pays per character."""
    banned = {element, component, terminator}
    allowed = sorted(ch for ch in _E5.encode() if bytes([ch]) not in banned)
    return _class(allowed), _class([ch for ch in allowed if ch != 32])


def _class(allowed: list[int]) -> bytes:
    out = b""
    start = 0
    while start < len(allowed):
        end = start
        while end + 1 < len(allowed) and allowed[end + 1] == allowed[end] + 1:
            end += 1
        first = re.escape(bytes([allowed[start]]))
        if end - start >= 2:
            out += first + b"-" + re.escape(bytes([allowed[end]]))
        else:
            out += b"".join(re.escape(bytes([ch])) for ch in allowed[start : end + 1])
        start = end + 1
    return b"[" + out + b"]"


class _Builder:
    def __init__(self, delimiters: Delimiters) -> None:
        self.e = delimiters.element
        self.c = delimiters.component
        self.cls, self.cls_ns = _classes(
            delimiters.element, delimiters.component, delimiters.terminator
        )
        self.groups = 0
        self.checks: list[tuple[str, int, object]] = []

    def group(self, body: bytes) -> tuple[bytes, int]:
        self.groups += 1
        return b"(" + body + b")", self.groups

    def value(self, spec: ElementSpec, type_list: tuple[str, ...] = ()) -> bytes:
        """A non-empty valid value of ``spec`` (sound: never matches an invalid one)."""
        data_type = spec.data_type
        lo, hi = spec.min_len, spec.max_len
        if spec.codes is not None and len(spec.codes) <= SMALL_CODE_LIST and not type_list:
            good = [c for c in spec.codes if c and not check_element(spec, c, 1)]
            if not good:
                return _NEVER
            return _trie([c.encode("latin-1") for c in good])
        if data_type in ("AN", "ID"):
            if lo < 1 or hi < 1:
                return _NEVER
            body = self.cls + b"{%d,%d}" % (lo - 1, hi - 1) + self.cls_ns
        elif data_type[:1] == "N":
            body = b"-?[0-9]{%d,%d}" % (max(lo, 1), hi)
        elif data_type == "R":
            lookahead = (lo if lo <= 1 else lo + 1, hi)
            body = b"-?(?=[0-9.]{%d,%d}(?![0-9.]))(?:[0-9]+(?:\\.[0-9]+)?|\\.[0-9]+)" % lookahead
        elif data_type == "DT" and lo == hi == 8:
            body = _DATE8
        elif data_type == "TM":
            body = b"(?=[0-9]{%d,%d}(?![0-9]))" % (max(lo, 1), hi) + _TIME
        else:
            return _NEVER
        if type_list:
            if any(t in ("DT", "D6") for t in type_list):
                return _NEVER
            typed = [_TYPE_REGEX[t] for t in type_list if t in _TYPE_REGEX]
            if any(t in ("D8", "RD8", "TM") for t in type_list):
                if not typed:
                    return _NEVER
                lengths_ok = all(lo <= n <= hi for n in (8, 17) if n)  # D8/RD8 lengths
                if data_type not in ("AN", "ID") or not lengths_ok:
                    return _NEVER
                body = b"(?:" + b"|".join(typed) + b")"
        if spec.codes is not None:
            body, index = self.group(body)
            codes = frozenset(c.encode("latin-1") for c in spec.codes)
            self.checks.append(("in", index, codes))
        if spec.regex is not None:
            body, index = self.group(body)
            self.checks.append(("re", index, re.compile(spec.regex, re.S)))
        return body

    def simple(self, spec: ElementSpec, type_list: tuple[str, ...] = ()) -> tuple[bytes, bool]:
        """(regex, required) for a simple element or a component."""
        if spec.usage == "N":
            return b"", False
        body = self.value(spec, type_list)
        required = spec.usage == "R" and (
            spec.seq != 1 or not spec.in_composite or spec.composite_usage == "R"
        )
        return (body if required else b"(?:" + body + b")?"), required

    def sequence(self, pieces: list[tuple[bytes, bool]], separator: bytes) -> bytes:
        """pieces[0] then ``separator piece`` for each other, trailing optional ones nested."""
        last_required = max((i for i, (_, req) in enumerate(pieces) if req), default=0)
        sep = re.escape(separator)
        out = pieces[0][0] if pieces else b""
        for i in range(1, last_required + 1):
            out += sep + pieces[i][0]
        tail = b""
        for i in range(len(pieces) - 1, last_required, -1):
            tail = b"(?:" + sep + pieces[i][0] + tail + b")?"
        return out + tail

    def composite(self, spec: CompositeSpec) -> tuple[bytes, bool]:
        c = re.escape(self.c)
        if spec.usage == "N":
            return c + b"*", False
        parts = [self.simple(child) for child in spec.children]
        full = self.sequence(parts, self.c)
        if spec.usage == "R":
            e = re.escape(self.e)
            return b"(?!" + c + b"*(?:" + e + b"|\\Z))" + full, True
        return b"(?:" + full + b"|" + c + b"*)", False

    def element(
        self, child: ElementSpec | CompositeSpec, type_list: tuple[str, ...]
    ) -> tuple[bytes, bool]:
        if isinstance(child, CompositeSpec):
            return self.composite(child)
        return self.simple(child, type_list)


def _trie(words: list[bytes]) -> bytes:
    """``words`` as a prefix tree (the regex engine tries alternatives one by one)."""
    if not words:
        return _NEVER
    ends = b"" in words
    heads: dict[int, list[bytes]] = {}
    for word in words:
        if word:
            heads.setdefault(word[0], []).append(word[1:])
    branches = [re.escape(bytes([h])) + _trie(rest) for h, rest in sorted(heads.items())]
    if not branches:
        return b""
    body = b"(?:" + b"|".join(branches) + b")"
    return b"(?:" + body + b")?" if ends else body


def _present(group: int) -> bytes:
    return b"(?(%d)|(?!))" % group


def _absent(group: int) -> bytes:
    return b"(?(%d)(?!)|)" % group


def _any_present(groups: tuple[int, ...]) -> bytes:
    out = b"(?!)"
    for group in reversed(groups):
        out = b"(?(%d)|" % group + out + b")"
    return out


def _syntax(rule: str, groups: tuple[int, ...]) -> bytes:
    """A zero-width assertion for an X12 syntax rule over groups that capture presence."""
    first, rest = groups[0], groups[1:]
    if rule == "P":
        return b"".join(
            b"(?(%d)" % a + _present(b) + b"|" + _absent(b) + b")"
            for a, b in zip(groups, rest, strict=False)
        )
    if rule == "R":
        return _any_present(groups)
    if rule == "E":
        return b"".join(
            b"(?(%d)" % a + _absent(b) + b"|)"
            for i, a in enumerate(groups)
            for b in groups[i + 1 :]
        )
    if rule == "C":
        return b"(?(%d)" % first + b"".join(_present(g) for g in rest) + b"|)"
    if rule == "L":
        return b"(?(%d)" % first + _any_present(rest) + b"|)"
    return _NEVER


def build(
    node: SegNode, delimiters: Delimiters, strict: bool = False
) -> tuple[re.Pattern[bytes], Post | None] | None:
    """The fast matcher of ``node`` for ``delimiters``, or None when it has none.

    ``strict`` also refuses what X12Reader reports besides element errors: a segment ending
    with an element separator, a segment with nothing but separators after its id.
    """
    if node.id == "ISA":
        return None
    builder = _Builder(delimiters)
    needs_group = {i for _, indexes in node.syntax for i in indexes}
    group_of: dict[int, int] = {}
    type_list: list[str] = []
    pieces: list[tuple[bytes, bool]] = [(re.escape(node.id.encode("latin-1")), True)]
    c = re.escape(builder.c)
    e = re.escape(builder.e)
    for position, child in enumerate(node.children, 1):
        if node.id == "DTP" and position == 3:
            continue  # built with DTP02 below
        listed: tuple[str, ...] = ()
        if isinstance(child, ElementSpec):
            if child.data_ele == "1251" and type_list:
                listed = tuple(type_list)
            if child.data_ele == "1250":
                type_list.extend(child.code_list)
        if position in needs_group:
            # The group captures only a present (non-empty) value, for the syntax assertions.
            if isinstance(child, CompositeSpec):
                if child.usage == "N":
                    body, required = builder.composite(child)
                else:
                    parts = [builder.simple(x) for x in child.children]
                    full = builder.sequence(parts, builder.c)
                    nonempty = b"(?!" + c + b"*(?:" + e + b"|\\Z))" + full
                    inner, index = builder.group(nonempty)
                    required = child.usage == "R"
                    body = inner if required else b"(?:" + inner + b"|" + c + b"*)"
            else:
                if child.usage == "N":
                    builder.groups += 1
                    index = builder.groups
                    body, required = b"(?:(?!)())?", False  # a group that never takes part
                else:
                    value = builder.value(child, listed)
                    inner, index = builder.group(value)
                    required = child.usage == "R"
                    body = inner if required else b"(?:" + inner + b")?"
            group_of[position] = index
        else:
            body, required = builder.element(child, listed)
        pieces.append((body, required))
    if node.id == "DTP":
        if len(node.children) != 3 or not isinstance(node.children[1], ElementSpec):
            return None
        qualifier, date = node.children[1], node.children[2]
        if not isinstance(date, ElementSpec) or 2 in needs_group or 3 in needs_group:
            return None
        choices = []
        for code in sorted(qualifier.codes or (), key=len, reverse=True):
            if check_element(qualifier, code, 1):
                continue
            listed = (code,) if code in ("RD8", "D8", "D6", "DT", "TM") else ()
            body, _ = builder.simple(date, listed)
            choices.append(re.escape(code.encode()) + e + body)
        if not choices:
            return None
        pieces[2] = (b"(?:" + b"|".join(choices) + b")", True)
        pieces = pieces[:3]
    pattern = builder.sequence(pieces, builder.e)
    for rule, indexes in node.syntax:
        if not all(i in group_of for i in indexes):
            return None
        pattern += _syntax(rule, tuple(group_of[i] for i in indexes))
    if strict:
        blank = b"(?:" + e + b"|" + c + b")*"
        pattern = b"(?!" + re.escape(node.id.encode("latin-1")) + blank + b"\\Z)" + pattern
        pattern += b"(?<!" + e + b")"
    checks = list(builder.checks)
    compiled = re.compile(pattern, re.S)
    if not checks:
        return compiled, None

    def post(groups: tuple[bytes | None, ...]) -> bool:
        for kind, index, payload in checks:
            value = groups[index - 1]
            if value is None:
                continue
            if kind == "in":
                if value not in payload:  # type: ignore[operator]
                    return False
            elif payload.search(value.decode("latin-1")) is None:  # type: ignore[attr-defined]
                return False
        return True

    return compiled, post


_Table = list[tuple[re.Pattern[bytes], Post | None] | bool | None]
_Tables = dict[Delimiters, _Table]
_MAX_DELIMITER_SETS = 16
# Matchers are a pure function of (map, node, delimiters, strictness) and compiling them is
# most of a validator's start-up (the regex compiler is pure Python): every validator of a
# map shares them, whatever the number of files a process reads. Keyed by the map's id, the
# map itself kept alive beside its tables so that the id stays its own.
_SHARED: dict[int, tuple[CompiledMap, _Tables, _Tables]] = {}


def _shared_tables(compiled: CompiledMap) -> tuple[_Tables, _Tables]:
    entry = _SHARED.get(id(compiled))
    if entry is None or entry[0] is not compiled:
        if len(_SHARED) >= 4:
            _SHARED.clear()
        entry = _SHARED[id(compiled)] = (compiled, {}, {})
    return entry[1], entry[2]


class FastPaths:
    """Per-node matchers for the delimiters in use, built on first need."""

    def __init__(self, compiled: CompiledMap) -> None:
        self.map = compiled
        self._delimiters: Delimiters | None = None
        self._table: _Table = []
        self._by_delimiters, self._strict_by_delimiters = _shared_tables(compiled)

    def _tables_for(self, tables: _Tables, delimiters: Delimiters) -> _Table:
        table = tables.get(delimiters)
        if table is None:
            if len(tables) >= _MAX_DELIMITER_SETS:
                tables.clear()  # each interchange may choose its own: bounded whatever the input
            table = tables[delimiters] = [False] * len(self.map.segs)
        return table

    def matcher(
        self, node: SegNode, delimiters: Delimiters, strict: bool = False
    ) -> tuple[re.Pattern[bytes], Post | None] | None:
        """The fast matcher of ``node`` for ``delimiters`` (None: always the exact path)."""
        tables = self._strict_by_delimiters if strict else self._by_delimiters
        table = self._tables_for(tables, delimiters)
        entry = table[node.index]
        if entry is False:
            entry = build(node, delimiters, strict)
            table[node.index] = entry
        if entry is None or entry is True:
            return None
        return entry

    def is_valid(self, node: SegNode, segment: Segment) -> bool:
        delimiters = segment.delimiters
        if delimiters is not self._delimiters:
            self._delimiters = delimiters
            self._table = self._tables_for(self._by_delimiters, delimiters)
        entry = self._table[node.index]
        if entry is False:
            entry = build(node, delimiters)
            self._table[node.index] = entry
        if entry is None or entry is True:
            return False
        pattern, post = entry
        found = pattern.fullmatch(segment.raw)
        if found is None:
            return False
        return post is None or post(found.groups())
