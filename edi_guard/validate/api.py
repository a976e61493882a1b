"""Whole-input entry points: ``validate_file`` and ``validate_bytes``."""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from edi_guard.errors import X12SyntaxError
from edi_guard.limits import DEFAULT_LIMITS as DEFAULT_INPUT_LIMITS
from edi_guard.validate.model import ValidationResult, ValidatorLimits
from edi_guard.validate.validator import StructureValidator
from edi_guard.x12.tokenizer import Tokenizer

CHUNK = 1 << 20


def validate_chunks(
    chunks: Iterable[bytes], *, limits: ValidatorLimits | None = None
) -> ValidationResult:
    validator = StructureValidator(limits=limits)
    # The input caps (segment and element length) of edi_guard.limits, as `fix` applies them.
    tokenizer = Tokenizer.from_limits(DEFAULT_INPUT_LIMITS)
    feed_many = validator.feed_many
    try:
        for chunk in chunks:
            for segments in tokenizer.feed_pieces(chunk):
                feed_many(segments)
        feed_many(tokenizer.close())
    except X12SyntaxError as error:
        validator.fail(error)
        return validator.result
    validator.close()
    return validator.result


def validate_bytes(data: bytes, *, limits: ValidatorLimits | None = None) -> ValidationResult:
    return validate_chunks([data], limits=limits)


def validate_file(
    path: str | os.PathLike[str], *, limits: ValidatorLimits | None = None
) -> ValidationResult:
    """Validate a file in one streaming pass; memory stays flat whatever its size."""

    # The file is closed here, not by a generator left suspended when validation stops
    # early: that one would be closed only when garbage collected.
    with Path(path).open("rb") as handle:
        return validate_chunks(iter(partial(handle.read, CHUNK), b""), limits=limits)
