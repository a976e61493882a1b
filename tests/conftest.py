"""Shared fixtures: the public corpus and the shared 837P example.

The public corpus lives beside the repository (``../shared/corpus/public``). A developer
checkout without it skips the corpus tests with a reason; CI (``CI=true``) fails instead, so
a missing corpus can never turn the golden tests green by skipping them. Helpers used at
collection time (the manifest, reading and writing X12) live in ``x12_builders``. Under CI,
property tests draw fixed examples (the ``ci`` hypothesis profile).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings
from x12_builders import CORPUS, EXAMPLE_837P

# CI draws the same examples on every run (derived from each test), so a red CI names a
# change, not a lucky draw; developers' runs keep exploring new examples, and hypothesis
# keeps any failure it finds in .hypothesis/ and replays it first next time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _private_data_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commands run without --history use the per-user database under $XDG_DATA_HOME: a
    test must never read or write the real one (nor see another version's schema there)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))


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
