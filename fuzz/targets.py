"""The fuzz invariants, as plain functions: bytes in; our outputs or our own error out.

Each ``check_*`` function is one target's invariant. It returns normally when the input was
handled (segments, verdicts, outputs, or an ``EdiGuardError`` with a message) and raises
``InvariantBrokenError`` (or lets any other exception escape) when it was not. The atheris wrappers
(``fuzz_tokenizer.py``, ``fuzz_validator.py``, ``fuzz_fix.py``) call these under coverage
instrumentation; ``tests/test_fuzz.py`` replays every kept regression case through them.

The invariant, per target:

- tokenizer: feeding the bytes whole and in chunks (sizes drawn from the input) gives the same
  segments or the same ``X12SyntaxError``; segments point at their own bytes; nothing else is
  raised; the buffer never holds more than the segment limit plus one chunk.
- validator: tokenizer plus ``StructureValidator`` never raise; the 999 and the TA1s written
  for the result are ASCII X12 that our tokenizer reads back, one interchange each.
- fix: ``process()`` returns a result or raises ``EdiGuardError``; every claim that came in is
  accepted, corrected or rejected (counted once); the outputs it says it wrote exist; messages
  and the log carry no element value of the input's patient segments.

Hangs and memory are bounded by the runner (libFuzzer's -timeout and -rss_limit_mb).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path

from structlog.testing import capture_logs

from edi_guard.errors import EdiGuardError, X12SyntaxError
from edi_guard.x12.segment import Segment
from edi_guard.x12.tokenizer import Tokenizer

SEGMENT_LIMIT = 4096
"""A small segment limit for the fuzzers, so that the limit paths are reached often."""

NOW = datetime(2026, 1, 15, 9, 30)
TARGETS = ("tokenizer", "validator", "fix")


class InvariantBrokenError(AssertionError):
    """The code under test answered, but not the way the invariant demands."""


Signature = tuple[str, bytes, int, int, bytes]


def _signature(segment: Segment) -> Signature:
    return (segment.tag, segment.raw, segment.position, segment.offset, segment.lead)


def tokenize(
    chunks: list[bytes], *, limit: int = SEGMENT_LIMIT
) -> tuple[list[Segment], X12SyntaxError | None]:
    """All segments of ``chunks`` until the end or the first X12SyntaxError."""
    tokenizer = Tokenizer(max_segment_bytes=limit)
    segments: list[Segment] = []
    biggest = max((len(chunk) for chunk in chunks), default=0)
    try:
        for chunk in chunks:
            segments += tokenizer.feed(chunk)
            # The buffer holds at most one unfinished segment (or ISA) plus the new chunk.
            held = len(tokenizer._buffer)
            if held > limit + biggest + 106:
                raise InvariantBrokenError(f"the tokenizer buffers {held} bytes (limit {limit})")
        segments += tokenizer.close()
    except X12SyntaxError as error:
        return segments, error
    return segments, None


def split(data: bytes, sizes: bytes) -> list[bytes]:
    """``data`` cut into chunks whose sizes cycle through ``sizes`` (0 counts as 1)."""
    if not sizes:
        return [data]
    chunks, at, index = [], 0, 0
    while at < len(data):
        size = sizes[index % len(sizes)] or 1
        chunks.append(data[at : at + size])
        at += size
        index += 1
    return chunks


def check_tokenizer(data: bytes) -> None:
    """Same outcome whole and chunked; every segment is exactly its bytes in the input."""
    sizes, body = data[:4], data[4:]
    whole, whole_error = tokenize([body])
    parts, parts_error = tokenize(split(body, sizes))
    if str(whole_error) != str(parts_error):
        raise InvariantBrokenError(
            f"the outcome depends on the chunking: {whole_error} / {parts_error}"
        )
    # Segments completed before an error are returned by the feeds that came before it, so
    # with an error only the segments themselves are checked, not how many came out.
    if whole_error is None and [_signature(s) for s in whole] != [_signature(s) for s in parts]:
        raise InvariantBrokenError("the segments depend on the chunking")
    for segment in parts:
        start = segment.offset
        if body[start : start + len(segment.raw)] != segment.raw:
            raise InvariantBrokenError(f"segment {segment.position} does not match its input bytes")
        if body[start - len(segment.lead) : start] != segment.lead:
            raise InvariantBrokenError(f"segment {segment.position}'s lead is not its input bytes")
        segment.elements  # noqa: B018 - splitting must not fail either
    if whole_error is not None and not str(whole_error):
        raise InvariantBrokenError("an X12SyntaxError without a message")


def check_validator(data: bytes) -> None:
    """Validate, then write the 999 and TA1s; both must be ASCII X12 we can read back."""
    from edi_guard.acks import write_999, write_ta1
    from edi_guard.validate import StructureValidator

    share_fast_paths()
    validator = StructureValidator()
    segments, error = tokenize([data])
    for segment in segments:
        validator.feed(segment)
    if error is not None:
        validator.fail(error)
    else:
        validator.close()
    result = validator.result
    if error is not None and not result.fatal:
        raise InvariantBrokenError("a syntax error left no fatal message in the result")
    acks = [write_999(result, control_number=1, now=NOW)]
    acks += [
        write_ta1(interchange, control_number=2, now=NOW)
        for interchange in result.interchanges
        if interchange.needs_ta1
    ]
    if not result.interchanges:
        acks.append(write_ta1(None, control_number=2, now=NOW))
    for ack in acks:
        _check_ack(ack)


def _check_ack(ack: bytes) -> None:
    if not ack.isascii():
        raise InvariantBrokenError("an acknowledgement is not ASCII")
    segments, error = tokenize([ack], limit=1 << 20)
    if error is not None:
        raise InvariantBrokenError(f"an acknowledgement is not X12: {error}")
    tags = [segment.tag for segment in segments]
    if tags.count("ISA") != 1 or tags.count("IEA") != 1 or tags[-1] != "IEA":
        raise InvariantBrokenError(f"an acknowledgement is not one interchange: {tags[:3]}...")
    known = {"ISA", "IEA", "GS", "GE", "ST", "SE", "TA1", "AK1", "AK2", "IK3", "IK4", "IK5", "AK9"}
    unknown = set(tags) - known
    if unknown:
        raise InvariantBrokenError(
            f"an acknowledgement holds unexpected segments {sorted(unknown)}"
        )


@cache
def share_fast_paths() -> None:
    """One ``FastPaths`` for every validator of the process.

    It is a pure cache of compiled regular expressions (per segment node and delimiters), but
    each ``StructureValidator`` builds its own, about 40 ms per input: shared, a campaign runs
    several times more inputs. What it accepts does not depend on earlier inputs.
    """
    from edi_guard.validate import validator
    from edi_guard.validate.compiler import load_compiled
    from edi_guard.validate.fast import FastPaths

    shared = FastPaths(load_compiled())
    validator.FastPaths = lambda _compiled: shared  # type: ignore[attr-defined,assignment]


@cache
def _settings() -> tuple[object, object]:
    from edi_guard.policy import Policy
    from edi_guard.ptp import load as load_ptp

    policy = Policy.load(None)
    return policy, load_ptp(policy.ptp_table)


@cache
def _out_dir() -> Path:
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    return Path(tempfile.mkdtemp(prefix="edi-guard-fuzz-", dir=base))


def check_fix(data: bytes) -> None:
    """``process()`` answers every input; claims in = accepted + corrected + rejected."""
    from edi_guard.api import process
    from edi_guard.policy import Policy
    from edi_guard.ptp import PtpTable

    share_fast_paths()
    policy, ptp = _settings()
    assert isinstance(policy, Policy) and isinstance(ptp, PtpTable)
    out = _out_dir()
    try:
        with capture_logs() as events:
            result = process(
                io.BytesIO(data), out_dir=out, name="fuzz.x12", policy=policy, ptp=ptp, now=NOW
            )
    except EdiGuardError as error:
        if not str(error):
            raise InvariantBrokenError("an EdiGuardError without a message") from error
        return
    leaked = leaked_values(data, [*result.messages, repr(events)])
    if leaked:
        raise InvariantBrokenError(f"{len(leaked)} identity values appear in the messages")
    summary = result.summary
    counted = summary.claims_accepted + summary.claims_corrected + summary.claims_rejected
    if counted != summary.claims_in:
        raise InvariantBrokenError(f"{summary.claims_in} claims in, {counted} answered")
    for path in result.written:
        if not path.is_file():
            raise InvariantBrokenError(f"{path.name} reported written but missing")
    if not any(path.suffix in (".999", ".ta1") for path in result.written):
        raise InvariantBrokenError("neither a 999 nor a TA1 was written")
    for path in result.written:
        if path.suffix in (".999", ".ta1"):
            for ack in _interchanges(path.read_bytes()):
                _check_ack(ack)


def _interchanges(data: bytes) -> list[bytes]:
    """Split our own acknowledgement files (one segment per line) into interchanges."""
    found: list[bytes] = []
    for line in data.splitlines(keepends=True):
        if line.startswith(b"ISA"):
            found.append(b"")
        if found:
            found[-1] += line
    return found


def identity_values(segments: list[Segment], *, shortest: int = 8) -> set[str]:
    """Names, member ids, birth dates, addresses, CLM01 and diagnosis codes in the segments.

    Only values of ``shortest`` characters or more, with a letter or a digit, that are not
    words our own messages use: a fuzzed input could name a patient "segment" or "005010X222A1".
    """
    values: set[str] = set()
    controls: set[str] = set()  # ISA13, GS06, ST02: messages name envelopes by them
    for segment in segments:
        tag = segment.tag
        if tag in ("ISA", "GS", "ST"):
            controls.add(segment.element({"ISA": 13, "GS": 6, "ST": 2}[tag]).strip())
        if tag == "NM1" and segment.element(1) in {"IL", "QC"}:
            values.update(segment.element(i) for i in (3, 4, 9))
        elif tag in ("DMG", "N3", "CLM"):
            values.add(segment.element(2 if tag == "DMG" else 1))
        elif tag == "HI":
            for index in range(1, len(segment) + 1):
                parts = segment.components(index)
                if len(parts) > 1:
                    values.add(parts[1])
    return {
        value
        for value in values
        if len(value.strip()) >= shortest
        and any(c.isalnum() for c in value)
        and value.lower() not in OUR_WORDS
        and value.strip() not in controls
    }


OUR_WORDS = frozenset({"005010x222a1", "005010x231a1", "005010x222", "transaction", "interchange"})


OUR_OWN_TEXT = ("005010X222A1", "005010X231A1", "005010X214")
"""Words our messages carry whatever the input: a fuzzed name that is a piece of one of them
(the fuzzer's dictionary holds them) is found in a message without having leaked."""


def leaked_values(data: bytes, texts: list[str]) -> set[str]:
    """The identity values of ``data`` (as far as it tokenizes) found in any of ``texts``."""
    segments, _ = tokenize([data], limit=1 << 20)
    values = identity_values(segments)
    joined = "\n".join(texts)
    return {
        value
        for value in values
        if value in joined and not any(value in own for own in OUR_OWN_TEXT)
    }


Check = Callable[[bytes], None]
CHECKS: dict[str, Check] = {
    "tokenizer": check_tokenizer,
    "validator": check_validator,
    "fix": check_fix,
}
