"""Our 999 and TA1 validate under pyx12's own 999 (005010X231A1) map."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from test_validate_support import CORPUS, NOW, require_corpus

from edi_guard.acks import CounterControlNumbers, write_999, write_ta1
from edi_guard.validate.api import validate_bytes

FILES = (
    "stupidedi__X222A1-oxygen.edi",
    "stupidedi__X222A1-ambulance.edi",
    "imsweb-x12-parser__x12_segments_out_of_order.txt",
    "imsweb-x12-parser__x12_multiple_gs.txt",
    "stupidedi__prototype-test.txt",
)


def _pyx12_clean(text: str) -> bool:
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL + 1)
    return bool(
        pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), None, None)
    )


@pytest.mark.corpus
@pytest.mark.parametrize("name", FILES)
def test_999_validates_under_pyx12s_999_map(name: str) -> None:
    data = (require_corpus() / "837p" / name).read_bytes()
    ack = write_999(validate_bytes(data), control_number=12, now=NOW).decode("ascii")
    assert "*005010X231A1~" in ack.splitlines()[1]
    assert "TA1*" not in ack
    assert _pyx12_clean(ack)


def test_ta1_is_its_own_interchange() -> None:
    data = (require_corpus() / "837p" / FILES[0]).read_bytes()
    interchange = validate_bytes(data).interchanges[0]
    ta1 = write_ta1(interchange, control_number=99, now=NOW).decode("ascii").splitlines()
    assert ta1[0].startswith("ISA*") and ta1[1].startswith("TA1*") and ta1[2] == "IEA*0*000000099~"
    assert write_ta1(None, control_number=1, now=NOW).count(b"*R*024~") == 1


def test_control_numbers_come_from_the_caller() -> None:
    numbers = CounterControlNumbers(41)
    assert (numbers.next_interchange(), numbers.next_group()) == (41, 42)
    with pytest.raises(ValueError):
        CounterControlNumbers(0)
    assert CORPUS.name == "public"
    assert isinstance(Path(), Path)
