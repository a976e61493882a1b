"""Compile pyx12's 005010X222A1 map into a compact tree of slotted nodes.

The XML maps shipped inside pyx12 (``837.5010.X222.A1.xml``, ``x12.control.00501.xml``,
``dataele.xml``, ``codes.xml``) encode the implementation guide. They are read once with lxml,
resolved (data element types and lengths, internal and external code lists, syntax rules,
qualifiers used to tell repeated segments apart, counter keys) and pickled into a user cache
directory keyed by the pyx12 version and the map files' contents. A process loads the compiled
form once (``load_compiled``).

Everything pyx12's walker decides from the map is precomputed here, mirroring
``pyx12.map_if``: children ordered by position with loops before segments at equal
positions, "wrapper" loops (whose first child is a loop), the element that identifies a
segment (first required ID element, first component of an ID composite, HL03, ENT02), and
the counter key of each node (pyx12 counts by path string, so two segments with the same id
at different positions of one loop share a counter, exactly as there).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import version as package_version
from importlib.resources import files
from pathlib import Path
from typing import Any

from lxml import etree

from edi_guard.errors import EdiGuardError

COMPILER_VERSION = "1"
MAP_837P = "837.5010.X222.A1.xml"
CONTROL_MAP = "x12.control.00501.xml"
MAXINT = 2147483647


class MapCompileError(EdiGuardError):
    """pyx12's map files are missing or do not have the shape the compiler expects."""


@dataclass(slots=True)
class ElementSpec:
    """One simple element (or one component of a composite)."""

    refdes: str
    name: str
    data_ele: str
    usage: str
    seq: int
    data_type: str
    min_len: int
    max_len: int
    codes: frozenset[str] | None  # internal codes, external codes merged in; None: any value
    code_list: tuple[str, ...]  # internal codes in map order (1250 type lists)
    regex: str | None
    in_composite: bool
    composite_usage: str | None
    ele_pos: int
    sub_pos: int | None


@dataclass(slots=True)
class CompositeSpec:
    refdes: str
    name: str
    usage: str
    seq: int
    children: tuple[ElementSpec, ...]


@dataclass(slots=True)
class SegNode:
    index: int
    id: str
    name: str
    usage: str
    pos: int
    max_use: int
    parent: int  # loop index
    key: int  # counter key
    children: tuple[ElementSpec | CompositeSpec, ...]
    syntax: tuple[tuple[str, tuple[int, ...]], ...]
    qualifier: tuple[int, int | None, frozenset[str]] | None  # (element, component, codes)
    loop_id: str
    is_loop = False


@dataclass(slots=True)
class LoopNode:
    index: int
    id: str
    name: str
    usage: str
    pos: int
    max_repeat: int
    parent: int  # loop index, -1 for the map root
    key: int
    children: tuple[tuple[int, bool, int], ...] = ()  # (pos, is_loop, index), walk order
    first_is_loop: bool = False
    first_seg: int = -1  # the first child, when it is a segment
    first_pos: int = 0  # pos of the first child node
    first_id: str = ""  # id of the first child node
    is_loop = True


@dataclass(slots=True)
class CompiledMap:
    """A compiled 837P map plus the control map's ISA."""

    loops: list[LoopNode]
    segs: list[SegNode]
    root_children: tuple[tuple[int, bool, int], ...]
    key_paths: list[str]
    key_parent: list[int]  # counter key of the enclosing loop, -1 at the top
    key_is_loop: list[bool]
    isa: SegNode  # from the control map (its ISA11 list is right for 5010)
    gs: int  # segment index of /ISA_LOOP/GS_LOOP/GS in the 837P map
    isa_loop: int
    gs_loop: int
    by_tag: dict[str, tuple[int, ...]] = field(default_factory=dict)
    fingerprint: str = ""


def _text(elem: Any, name: str) -> str | None:
    value = elem.get(name)
    if value:
        return str(value)
    found = elem.findtext(name)
    return None if found is None else str(found)


def _int_repeat(value: str | None) -> int:
    if value is None or value in (">1", "&gt;1"):
        return MAXINT
    return int(value)


class _Builder:
    def __init__(
        self, dataele: dict[str, tuple[str, int, int, str]], codes: dict[str, frozenset[str]]
    ):
        self.dataele = dataele
        self.codes = codes
        self.loops: list[LoopNode] = []
        self.segs: list[SegNode] = []
        self.key_index: dict[str, int] = {}
        self.key_paths: list[str] = []

    def key(self, path: str) -> int:
        found = self.key_index.get(path)
        if found is None:
            found = len(self.key_paths)
            self.key_index[path] = found
            self.key_paths.append(path)
        return found

    def element(
        self, elem: Any, composite: CompositeSpec | None, comp_usage: str | None
    ) -> ElementSpec:
        refdes = _text(elem, "xid") or ""
        data_ele = _text(elem, "data_ele") or ""
        if data_ele not in self.dataele:
            raise MapCompileError(f"data element {data_ele!r} of {refdes} is not in dataele.xml")
        data_type, min_len, max_len, _ = self.dataele[data_ele]
        code_list: list[str] = []
        external = None
        valid = elem.find("valid_codes")
        if valid is not None:
            external = valid.get("external")
            code_list = [c.text or "" for c in valid.findall("code")]
        codes: frozenset[str] | None = None
        if code_list or external is not None:
            merged = set(code_list)
            if external is not None:
                if external not in self.codes:
                    raise MapCompileError(f"external code list {external!r} is not in codes.xml")
                merged |= self.codes[external]
            codes = frozenset(merged)
        seq = int(_text(elem, "seq") or "0")
        regex = elem.findtext("regex") or None
        return ElementSpec(
            refdes=refdes,
            name=_text(elem, "name") or "",
            data_ele=data_ele,
            usage=_text(elem, "usage") or "",
            seq=seq,
            data_type=data_type,
            min_len=min_len,
            max_len=max_len,
            codes=codes,
            code_list=tuple(code_list),
            regex=regex,
            in_composite=composite is not None,
            composite_usage=comp_usage,
            ele_pos=composite.seq if composite is not None else seq,
            sub_pos=seq if composite is not None else None,
        )

    def segment(self, elem: Any, parent: LoopNode | None, parent_path: str) -> SegNode:
        seg_id = _text(elem, "xid") or ""
        children_map: dict[int, Any] = {}
        for child in elem:
            if child.tag in ("element", "composite"):
                children_map[int(_text(child, "seq") or "0")] = child
        children: list[ElementSpec | CompositeSpec] = []
        for seq in sorted(children_map):
            child = children_map[seq]
            if child.tag == "element":
                children.append(self.element(child, None, None))
            else:
                comp = CompositeSpec(
                    refdes=(child.findtext("refdes") or _text(child, "xid") or ""),
                    name=_text(child, "name") or "",
                    usage=_text(child, "usage") or "",
                    seq=seq,
                    children=(),
                )
                comp.children = tuple(
                    self.element(e, comp, comp.usage) for e in child.findall("element")
                )
                children.append(comp)
        for number, child in enumerate(children, 1):
            if child.seq != number:
                raise MapCompileError(f"{seg_id}: element positions are not contiguous")
        syntax: list[tuple[str, tuple[int, ...]]] = []
        for s in elem.findall("syntax"):
            text = s.text or ""
            if text and text[0] in "PRCLE":
                syntax.append(
                    (
                        text[0],
                        tuple(int(text[i * 2 + 1 : i * 2 + 3]) for i in range(len(text[1:]) // 2)),
                    )
                )
        node = SegNode(
            index=len(self.segs),
            id=seg_id,
            name=_text(elem, "name") or "",
            usage=_text(elem, "usage") or "",
            pos=int(_text(elem, "pos") or "0"),
            max_use=_int_repeat(_text(elem, "max_use")),
            parent=parent.index if parent is not None else -1,
            key=-1,
            children=tuple(children),
            syntax=tuple(syntax),
            qualifier=_qualifier(seg_id, children),
            loop_id=parent.id if parent is not None else "",
        )
        self.segs.append(node)
        return node

    def loop(self, elem: Any, parent: LoopNode | None, parent_path: str) -> LoopNode:
        loop_id = _text(elem, "xid") or ""
        path = ("/" if parent_path == "/" else parent_path + "/") + loop_id
        node = LoopNode(
            index=len(self.loops),
            id=loop_id,
            name=_text(elem, "name") or "",
            usage=_text(elem, "usage") or "",
            pos=int(_text(elem, "pos") or "0"),
            max_repeat=_int_repeat(_text(elem, "repeat")),
            parent=parent.index if parent is not None else -1,
            key=self.key(path),
        )
        self.loops.append(node)
        node.children = self.children(elem, node, path)
        return node

    def children(
        self, elem: Any, parent: LoopNode | None, path: str
    ) -> tuple[tuple[int, bool, int], ...]:
        pos_map: dict[int, list[tuple[bool, int]]] = {}
        for child in elem.findall("loop"):
            loop = self.loop(child, parent, path)
            pos_map.setdefault(loop.pos, []).append((True, loop.index))
        segs: list[SegNode] = []
        for child in elem.findall("segment"):
            seg = self.segment(child, parent, path)
            segs.append(seg)
            pos_map.setdefault(seg.pos, []).append((False, seg.index))
        # Path names: segments sharing an ordinal get "[first code]" (pyx12's loop_if).
        for seg in segs:
            name = seg.id
            if len(pos_map[seg.pos]) > 1:
                guess = _guess_key_codes(seg.id, seg.children)
                if guess is not None:
                    name = f"{seg.id}[{guess}]"
            seg.key = self.key(("/" if path == "/" else path + "/") + name)
        ordered = tuple(
            (pos, is_loop, index) for pos in sorted(pos_map) for is_loop, index in pos_map[pos]
        )
        if parent is not None and ordered:
            _, first_is_loop, first_index = ordered[0]
            parent.first_is_loop = first_is_loop
            parent.first_pos = ordered[0][0]
            if first_is_loop:
                parent.first_id = self.loops[first_index].id
            else:
                parent.first_seg = first_index
                parent.first_id = self.segs[first_index].id
        return ordered


def _qualifier(
    seg_id: str, children: list[ElementSpec | CompositeSpec]
) -> tuple[int, int | None, frozenset[str]] | None:
    """pyx12's ``segment_if._resolve_unique_key_field(with_qual=False)``."""
    c0 = children[0] if children else None
    c1 = children[1] if len(children) > 1 else None
    c2 = children[2] if len(children) > 2 else None
    if isinstance(c0, ElementSpec) and c0.data_type == "ID" and c0.usage == "R" and c0.code_list:
        return (1, None, frozenset(c0.code_list))
    if seg_id == "ENT" and isinstance(c1, ElementSpec) and c1.data_type == "ID" and c1.code_list:
        return (2, None, frozenset(c1.code_list))
    if seg_id == "CTX" and isinstance(c0, CompositeSpec):
        first = c0.children[0]
        if first.data_type == "AN" and first.code_list:
            return (1, 1, frozenset(first.code_list))
    if isinstance(c0, CompositeSpec):
        first = c0.children[0]
        if first.data_type == "ID" and first.code_list:
            return (1, 1, frozenset(first.code_list))
    if seg_id == "HL" and isinstance(c2, ElementSpec) and c2.code_list:
        return (3, None, frozenset(c2.code_list))
    return None


def _guess_key_codes(seg_id: str, children: tuple[ElementSpec | CompositeSpec, ...]) -> str | None:
    """pyx12's ``guess_unique_key_id_element``: the first code names the counter path."""
    c0 = children[0] if children else None
    c1 = children[1] if len(children) > 1 else None
    c2 = children[2] if len(children) > 2 else None
    if isinstance(c0, ElementSpec) and c0.data_type == "ID" and c0.code_list:
        return c0.code_list[0]
    if seg_id == "ENT" and isinstance(c1, ElementSpec) and c1.data_type == "ID" and c1.code_list:
        return c1.code_list[0]
    if (
        isinstance(c0, CompositeSpec)
        and c0.children[0].data_type == "ID"
        and c0.children[0].code_list
    ):
        return c0.children[0].code_list[0]
    if seg_id == "HL" and isinstance(c2, ElementSpec) and c2.code_list:
        return c2.code_list[0]
    return None


def _map_dir() -> Path:
    return Path(str(files("pyx12").joinpath("map")))


def _parse(path: Path) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    return etree.parse(str(path), parser).getroot()


def _read_dataele(path: Path) -> dict[str, tuple[str, int, int, str]]:
    out: dict[str, tuple[str, int, int, str]] = {}
    for elem in _parse(path).iter("data_ele"):
        out[str(elem.get("ele_num"))] = (
            str(elem.get("data_type") or ""),
            int(elem.get("min_len")),
            int(elem.get("max_len")),
            str(elem.get("name") or ""),
        )
    return out


def _read_codes(path: Path) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for elem in _parse(path).iter("codeset"):
        ident = elem.findtext("id") or ""
        out[ident] = frozenset((c.text or "") for c in elem.iterfind("version/code"))
    return out


def compile_map(map_dir: Path | None = None) -> CompiledMap:
    """Read pyx12's XML files with lxml and build the compiled map (no cache)."""
    base = map_dir or _map_dir()
    try:
        dataele = _read_dataele(base / "dataele.xml")
        codes = _read_codes(base / "codes.xml")
        root = _parse(base / MAP_837P)
        control = _parse(base / CONTROL_MAP)
    except (OSError, etree.XMLSyntaxError) as exc:
        raise MapCompileError(f"cannot read pyx12's map files: {exc}") from None
    builder = _Builder(dataele, codes)
    root_children = builder.children(root, None, "/")
    control_builder = _Builder(dataele, codes)
    control_builder.children(control, None, "/")
    isa = next(s for s in control_builder.segs if s.id == "ISA")
    key_parent: list[int] = []
    key_is_loop: list[bool] = []
    index = builder.key_index
    loop_keys = {loop.key for loop in builder.loops}
    for path in builder.key_paths:
        parent_path = path.rsplit("/", 1)[0]
        key_parent.append(index.get(parent_path, -1) if parent_path else -1)
        key_is_loop.append(index[path] in loop_keys)

    def find_loop(loop_id: str) -> int:
        return next(loop.index for loop in builder.loops if loop.id == loop_id)

    gs_loop = find_loop("GS_LOOP")
    gs = next(s.index for s in builder.segs if s.id == "GS" and s.parent == gs_loop)
    by_tag: dict[str, list[int]] = {}
    for seg in builder.segs:
        by_tag.setdefault(seg.id, []).append(seg.index)
    return CompiledMap(
        loops=builder.loops,
        segs=builder.segs,
        root_children=root_children,
        key_paths=builder.key_paths,
        key_parent=key_parent,
        key_is_loop=key_is_loop,
        isa=isa,
        gs=gs,
        isa_loop=find_loop("ISA_LOOP"),
        gs_loop=gs_loop,
        by_tag={tag: tuple(v) for tag, v in by_tag.items()},
    )


def _fingerprint(base: Path) -> str:
    digest = hashlib.sha256(f"{COMPILER_VERSION}:{package_version('pyx12')}".encode())
    # The compiled form is made of this package's classes: a change to their code must not
    # meet a pickle of the old ones.
    digest.update(Path(__file__).read_bytes())
    for name in (MAP_837P, CONTROL_MAP, "dataele.xml", "codes.xml"):
        digest.update((base / name).read_bytes())
    return digest.hexdigest()[:24]


def cache_dir() -> Path:
    """The user cache directory (``$XDG_CACHE_HOME/edi_guard`` or ``~/.cache/edi_guard``)."""
    configured = os.environ.get("EDI_GUARD_CACHE_DIR")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "edi_guard"


@lru_cache(maxsize=1)
def load_compiled() -> CompiledMap:
    """The compiled 837P map: from the cache when fresh, else compiled and cached."""
    base = _map_dir()
    fingerprint = _fingerprint(base)
    path = cache_dir() / f"x222a1-{fingerprint}.pickle"
    try:
        with path.open("rb") as handle:
            cached = pickle.load(handle)
        if isinstance(cached, CompiledMap) and cached.fingerprint == fingerprint:
            return cached
    except Exception:  # any unreadable or foreign cache is only recompiled, never fatal
        pass
    compiled = compile_map(base)
    compiled.fingerprint = fingerprint
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            pickle.dump(compiled, handle, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(path)
    except OSError:
        pass  # a read-only home directory only costs the compile time on each start
    return compiled


def element_regex(spec: ElementSpec) -> re.Pattern[str] | None:
    return re.compile(spec.regex, re.S) if spec.regex else None
