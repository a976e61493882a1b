"""Reference points: how fast can bytes be split at all, and how fast is pyx12.

Each ``time_*`` function reads the file at ``path`` and returns a ``Measurement`` (seconds,
MB/s, claims/s). The work itself is in the matching body function (``split_terminators``...),
which takes a path and returns a count (segments, elements, or 1 for a clean validation), so
that ``measure.py`` can run the very same code in a fresh process for its peak RSS.

(a) ``split_terminators``: ``bytes.split`` on the segment terminator, 1 MB chunks.
(b) ``split_elements``: (a), then each segment split on the element separator.
(c) ``pyx12_reader``: ``pyx12.x12file.X12Reader`` iterating every segment (it also checks
    envelope counts and HL numbering).
(d) ``pyx12_validate``: ``pyx12.x12n_document.x12n_document``, full 005010X222A1 validation,
    its 999 written to a temporary file. Slow (about 0.3 MB/s): run it on the 10,000-claim file.
(e) ``pyx12_x12valid``: the ``x12valid`` command's own ``main`` (it calls (d) with default
    params, then copies the 999 to ``PATH.997`` beside the input, as the command does).
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
ISA_LENGTH = 106

Body = Callable[[Path], int]


@dataclass(frozen=True, slots=True)
class Measurement:
    seconds: float
    megabytes: float
    claims: int

    @property
    def mb_per_s(self) -> float:
        return self.megabytes / self.seconds if self.seconds else float("inf")

    @property
    def claims_per_s(self) -> float:
        return self.claims / self.seconds if self.seconds else float("inf")


def delimiters(path: Path) -> tuple[bytes, bytes]:
    """(element separator, segment terminator) from the file's fixed-width ISA."""
    with path.open("rb") as stream:
        isa = stream.read(ISA_LENGTH)
    if len(isa) < ISA_LENGTH or not isa.startswith(b"ISA"):
        raise ValueError(f"{path}: expected a 106-byte ISA at the start")
    return isa[3:4], isa[105:106]


def _segments(path: Path) -> Iterator[list[bytes]]:
    """Lists of raw segments, chunk by chunk, with a partial segment carried over."""
    _, terminator = delimiters(path)
    rest = b""
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            parts = (rest + chunk).split(terminator)
            rest = parts.pop()
            yield parts
    if rest.strip():
        yield [rest]


def count_claims(path: Path) -> int:
    """The number of CLM segments in the file."""
    return sum(1 for parts in _segments(path) for s in parts if s.lstrip().startswith(b"CLM"))


# --- bodies ------------------------------------------------------------------------------------


def split_terminators(path: Path) -> int:
    """(a) Segments by ``bytes.split`` on the terminator; returns the segment count."""
    return sum(len(parts) for parts in _segments(path))


def split_elements(path: Path) -> int:
    """(b) Segments, then elements; returns the element count."""
    separator, _ = delimiters(path)
    count = 0
    for parts in _segments(path):
        for segment in parts:
            count += len(segment.split(separator))
    return count


def pyx12_reader(path: Path) -> int:
    """(c) pyx12's X12Reader over every segment; returns the segment count."""
    from pyx12.x12file import X12Reader

    reader = X12Reader(str(path))
    try:
        return sum(1 for _ in reader)
    finally:
        reader.close()


def pyx12_validate(path: Path) -> int:
    """(d) pyx12's full validation with a 999 to a temporary file; 1 when valid, else 0."""
    import pyx12.params
    import pyx12.x12n_document

    with tempfile.TemporaryFile(mode="w+", encoding="ascii") as ack:
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(),
            src_file=str(path),
            fd_997=ack,
            fd_html=None,
        )
    return int(bool(valid))


def pyx12_x12valid(path: Path) -> int:
    """(e) What ``x12valid --quiet PATH`` does, in this process; writes ``PATH.997``."""
    from unittest import mock

    from pyx12.scripts import x12valid

    logger = logging.getLogger("pyx12")
    handlers = list(logger.handlers)
    try:
        with mock.patch.object(sys, "argv", ["x12valid", "--quiet", str(path)]):
            return int(bool(x12valid.main()))
    finally:
        # main() adds a stream handler per call; leave the logger as we found it.
        for handler in logger.handlers[len(handlers) :]:
            logger.removeHandler(handler)


# --- timing ------------------------------------------------------------------------------------


def timed(body: Body, path: Path, *, repeat: int = 1, claims: int | None = None) -> Measurement:
    """The median time of ``repeat`` runs of ``body`` on ``path``."""
    if claims is None:
        claims = count_claims(path)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        body(path)
        times.append(time.perf_counter() - start)
    return Measurement(statistics.median(times), path.stat().st_size / 1e6, claims)


def time_split_terminators(path: Path, repeat: int = 5) -> Measurement:
    return timed(split_terminators, path, repeat=repeat)


def time_split_elements(path: Path, repeat: int = 5) -> Measurement:
    return timed(split_elements, path, repeat=repeat)


def time_pyx12_reader(path: Path, repeat: int = 3) -> Measurement:
    return timed(pyx12_reader, path, repeat=repeat)


def time_pyx12_validate(path: Path) -> Measurement:
    return timed(pyx12_validate, path)


def time_pyx12_x12valid(path: Path) -> Measurement:
    return timed(pyx12_x12valid, path)


if __name__ == "__main__":
    target = Path(sys.argv[1])
    for name, function in (
        ("split_terminators", time_split_terminators),
        ("split_elements", time_split_elements),
        ("pyx12_reader", time_pyx12_reader),
    ):
        result = function(target)
        print(f"{name:20} {result.mb_per_s:8.2f} MB/s {result.claims_per_s:10.0f} claims/s")
