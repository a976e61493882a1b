"""Helpers for the pipeline tests: the pyx12 oracle and identity values to hunt in logs."""

from __future__ import annotations

import gc
import io
import logging
import warnings
from pathlib import Path

from edi_guard.x12.tokenizer import iter_segments

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"


def pyx12_accepts(path: Path) -> bool:
    """True when pyx12's full validation (x12n_document) finds no error in ``path``.

    pyx12 crashes on some inputs (non-ASCII bytes, a BOM, an unknown GS08): that counts as
    not accepted, which is what its users experience.
    """
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    param = pyx12.params.params()
    sink = io.StringIO()
    with warnings.catch_warnings():
        # pyx12 leaves its input open when it crashes; that is its leak, not ours.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return bool(
                pyx12.x12n_document.x12n_document(
                    param=param, src_file=str(path), fd_997=sink, fd_html=None, fd_xmldoc=None
                )
            )
        except Exception:  # the oracle's own crashes are verdicts here, not test errors
            return False
        finally:
            gc.collect()


def identity_values(path: Path) -> set[str]:
    """Names, member ids, birth dates, addresses, CLM01 and diagnosis codes in an 837."""
    values: set[str] = set()
    with path.open("rb") as stream:
        for segment in iter_segments(stream):
            tag = segment.tag
            if tag == "NM1" and segment.element(1) in {"IL", "QC"}:
                values.update(segment.element(i) for i in (3, 4, 9))
            elif tag == "DMG":
                values.add(segment.element(2))
            elif tag == "N3" or tag == "CLM":
                values.add(segment.element(1))
            elif tag == "HI":
                for index in range(1, len(segment) + 1):
                    parts = segment.components(index)
                    if len(parts) > 1:
                        values.add(parts[1])
    # Short values (a one-letter first name, a 3-character code) would match by accident.
    return {value for value in values if len(value) >= 5}


def tpi_fixture_files() -> list[Path]:
    files = sorted((FIXTURES / "demo").glob("*.x12"))
    files += sorted((FIXTURES / "rules").glob("*/*.x12"))
    return files
