"""Differential tests against pyx12 4.0.0 (the oracle) on the public corpus and on mutants."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from test_validate_support import (
    CLEAN_837P,
    UNBOUNDED,
    mutate,
    normalise_999,
    ours_999,
    pyx12_999,
    require_corpus,
)

from edi_guard.validate.api import validate_bytes

MUTANTS = 550
SEED = 20261127
KNOWN = Path(__file__).with_name("validator_known_differences.tsv")


def _corpus_files() -> list[Path]:
    from test_validate_support import CORPUS

    folder = CORPUS / "837p"
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.mark.corpus
@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.name)
def test_same_verdicts_and_errors_as_pyx12(path: Path) -> None:
    require_corpus()
    data = path.read_bytes()
    theirs = pyx12_999(data)
    if theirs is None:
        pytest.skip("pyx12 crashes on this file (see MANIFEST.tsv)")
    ours = ours_999(validate_bytes(data, limits=UNBOUNDED))
    assert normalise_999(ours) == normalise_999(theirs)


def _known_mutants() -> set[str]:
    lines = KNOWN.read_text().splitlines()[1:]
    return {line.split("\t", 1)[0] for line in lines if line.startswith("mutant ")}


@pytest.mark.corpus
@pytest.mark.slow
def test_mutants_agree_with_pyx12() -> None:
    folder = require_corpus() / "837p"
    rng = random.Random(SEED)
    files = [(name, (folder / name).read_bytes()) for name in CLEAN_837P]
    compared = agreed = 0
    unexplained: list[str] = []
    known = _known_mutants()
    for index in range(MUTANTS):
        _, data = rng.choice(files)
        description, mutant = mutate(data, rng)
        theirs = pyx12_999(mutant)
        if theirs is None:
            continue  # pyx12 crashed: nothing to compare
        compared += 1
        ours = ours_999(validate_bytes(mutant, limits=UNBOUNDED))
        if normalise_999(ours) == normalise_999(theirs):
            agreed += 1
        elif f"mutant {index}" not in known:
            unexplained.append(f"mutant {index}: {description}")
    assert compared >= 500
    assert agreed >= 0.99 * compared
    assert not unexplained, "disagreements missing from validator_known_differences.tsv"
