"""The registry of benchmark variants: the baselines and our code.

A variant is a name, a loader and a few flags. The loader imports what the variant needs and
returns its body: a function that takes the input path, does the whole job, and returns a
count (segments, claim units, findings...). A loader raises ImportError or AttributeError
when the code it measures does not exist yet; the variant is then skipped with a note.

To add a variant: write a loader below and add one ``Variant`` line to ``REGISTRY``.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import baselines
from baselines import Body


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    kind: Literal["baseline", "ours"]
    load: Callable[[], Body]
    description: str
    repeat: int = 5
    """Timed runs in one process (the median is reported); slow variants run once."""
    slow: bool = False
    """pyx12's validation: minutes per 10 MB, so only on the 10,000-claim file."""


def _count(items: Iterable[Any]) -> int:
    return sum(1 for _ in items)


def _size(result: object) -> int:
    """A count from whatever a pipeline function returns (a sized result, a number, or 0)."""
    if isinstance(result, bool):
        return int(result)
    if isinstance(result, int):
        return result
    try:
        return len(result)  # type: ignore[arg-type]
    except TypeError:
        return 0


def _attribute(module: str, name: str) -> Any:
    """``module.name``, looked up at run time: code still being written is typed loosely here
    and raises ImportError or AttributeError until it exists."""
    return getattr(importlib.import_module(module), name)


def _fixed(body: Body) -> Callable[[], Body]:
    return lambda: body


# --- our code ----------------------------------------------------------------------------------


def _tokenizer() -> Body:
    from edi_guard.x12 import iter_segments

    def run(path: Path) -> int:
        with path.open("rb") as stream:
            return _count(iter_segments(stream))

    return run


def _tokenizer_elements() -> Body:
    from edi_guard.x12 import iter_segments

    def run(path: Path) -> int:
        with path.open("rb") as stream:
            return sum(len(segment.elements) for segment in iter_segments(stream))

    return run


def _assemble() -> Body:
    from edi_guard.assemble import assemble
    from edi_guard.x12 import iter_segments

    def run(path: Path) -> int:
        with path.open("rb") as stream:
            return _count(assemble(iter_segments(stream)))

    return run


def _writer() -> Body:
    from edi_guard.x12 import iter_segments
    from edi_guard.x12.writer import SegmentWriter

    def run(path: Path) -> int:
        with path.open("rb") as stream, tempfile.TemporaryFile() as sink:
            writer = SegmentWriter(sink)
            for segment in iter_segments(stream):
                writer.write(segment)
            return writer.segments_written

    return run


def _roundtrip(**options: bool) -> Callable[[], Body]:
    """A loader of ``edi_guard.roundtrip.roundtrip`` with ``options``: the core alone (none),
    the engine (``edit=True``), the engine with an empty registry (and ``rules=False``)."""

    def load() -> Body:
        roundtrip = _attribute("edi_guard.roundtrip", "roundtrip")

        def run(path: Path) -> int:
            with tempfile.TemporaryDirectory() as tmp:
                return _size(roundtrip(path, Path(tmp) / "out.x12", **options))

        return run

    return load


def _validate() -> Body:
    validate_file = _attribute("edi_guard.validate", "validate_file")

    def run(path: Path) -> int:
        return _size(validate_file(path))

    return run


def _process() -> Body:
    process = _attribute("edi_guard", "process")

    open_store = _attribute("edi_guard.history.store", "open_store")

    def run(path: Path) -> int:
        # The history as `edi-guard fix` keeps it by default: SQLite on disk. (The in-memory
        # store holds every reservation of an interchange until its IEA.)
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(f"sqlite://{tmp}/history.sqlite3")
            try:
                return int(process(path, out_dir=Path(tmp), history=store).summary.claims_in)
            finally:
                store.close()

    return run


REGISTRY: tuple[Variant, ...] = (
    Variant("split", "baseline", _fixed(baselines.split_terminators), "bytes.split on '~'"),
    Variant("split+elements", "baseline", _fixed(baselines.split_elements), "segments, elements"),
    Variant("pyx12 X12Reader", "baseline", _fixed(baselines.pyx12_reader), "pyx12 segments", 3),
    Variant(
        "pyx12 x12n_document",
        "baseline",
        _fixed(baselines.pyx12_validate),
        "pyx12 full validation + 999",
        repeat=1,
        slow=True,
    ),
    Variant(
        "pyx12 x12valid",
        "baseline",
        _fixed(baselines.pyx12_x12valid),
        "x12valid's main(): x12n_document, 999 copied to PATH.997",
        repeat=1,
        slow=True,
    ),
    Variant("tokenizer", "ours", _tokenizer, "edi_guard.x12.iter_segments"),
    Variant("tokenizer+elements", "ours", _tokenizer_elements, "iter_segments, .elements"),
    Variant("assemble", "ours", _assemble, "iter_segments -> assemble (claim units)"),
    Variant("writer", "ours", _writer, "iter_segments -> SegmentWriter to a temp file"),
    Variant("roundtrip", "ours", _roundtrip(), "roundtrip: read, assemble, write", 3),
    Variant("edit", "ours", _roundtrip(edit=True), "read, assemble, engine (every rule), write", 3),
    Variant(
        "edit-no-rules",
        "ours",
        _roundtrip(edit=True, rules=False),
        "edit with an empty registry",
        3,
    ),
    Variant("validate", "ours", _validate, "edi_guard.validate.validate_file", 1),
    Variant("process", "ours", _process, "edi_guard.process: the whole fix", 1),
)

BY_NAME = {variant.name: variant for variant in REGISTRY}
