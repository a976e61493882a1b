"""Shared fixtures: the public corpus and the shared 837P example.

The public corpus lives beside the repository (``../shared/corpus/public``). A developer
checkout without it skips the corpus tests with a reason; CI (``CI=true``) fails instead, so
a missing corpus can never turn the golden tests green by skipping them. Helpers used at
collection time (the manifest, reading and writing X12) live in ``x12_builders``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from x12_builders import CORPUS, EXAMPLE_837P


def _missing(what: Path) -> None:
    reason = f"public corpus not found at {what} (expected beside the repository)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The public corpus directory; skips (or fails under CI) when it is missing."""
    if not (CORPUS / "MANIFEST.tsv").is_file():
        _missing(CORPUS)
    return CORPUS


@pytest.fixture(scope="session")
def example_837p() -> bytes:
    """The shared 837P example (pyx12 validates it clean)."""
    if not EXAMPLE_837P.is_file():
        _missing(EXAMPLE_837P)
    return EXAMPLE_837P.read_bytes()
