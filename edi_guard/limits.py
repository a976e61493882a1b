"""Caps that keep memory and time bounded whatever arrives at the door.

A preprocessor in front of a clearinghouse reads files it did not choose: a transfer that
never sends a terminator, an element of 10 MB, a transaction set of ten million segments, a
file of a hundred million claims. Each cap below turns such input into an acknowledgement and
a message (a TA1 for the tokenizer caps, a 999 for the per-set cap, a TA1 for the per-file
claim cap) instead of an out-of-memory. The defaults are far above anything a real 837P needs
and far below what would hurt a worker with 1 GB of memory.

``Limits`` is a frozen value: build one from configuration, pass it down; nothing mutates it.
"""

from __future__ import annotations

from dataclasses import dataclass

from edi_guard.errors import EdiGuardError

MIB = 1 << 20
KIB = 1 << 10


@dataclass(frozen=True, slots=True)
class Limits:
    """The caps, each with the acknowledgement that exceeding it yields.

    - ``max_segment_bytes``: bytes of one segment, terminator excluded (the tokenizer's
      buffer bound). Exceeded: ``X12SyntaxError``, TA1 R with note 024, nothing after it read.
      No 837P segment comes near 1 MiB (the longest, an SV1 or CLM, stays under 1 KiB).
    - ``max_element_bytes``: bytes of one element (a composite counts whole). The tokenizer
      refuses a longer element as soon as it has buffered this much of it, so a 10 MB element
      costs 256 KiB of memory, not 10 MB, and the message names an element, not a segment.
      Elements up to this size are read and judged by the validator (999 IK4 code 5, too long:
      the longest 005010X222A1 element allows 264 characters).
    - ``max_segments_per_set``: segments from ST to SE. Exceeded: the set is rejected (999
      IK5 R, IK502 2 or 5 per the validator) and its claims reported rejected; the validator's
      per-set state (HL stack, error records) stays bounded. The 837P guide recommends at most
      5,000 claims per set, about 150,000 segments for typical claims.
    - ``max_claims_per_file``: CLM segments in one input. Exceeded: the interchange holding
      the claim over the cap is rejected (TA1 R, note 024) with a message naming the cap, and
      reading stops; reports that hold one row per claim stay bounded. Ten million claims is
      a batch of about 5 GB: memory does not depend on it (outcomes wait on disk), the disk
      the reports take does.
    """

    max_segment_bytes: int = 1 * MIB
    max_element_bytes: int = 256 * KIB
    max_segments_per_set: int = 1_000_000
    max_claims_per_file: int = 10_000_000

    def __post_init__(self) -> None:
        for name in ("max_segment_bytes", "max_element_bytes", "max_segments_per_set"):
            if getattr(self, name) < 1:
                raise EdiGuardError(f"limit {name} must be at least 1")
        if self.max_claims_per_file < 1:
            raise EdiGuardError("limit max_claims_per_file must be at least 1")
        if self.max_segment_bytes < 106:
            raise EdiGuardError("limit max_segment_bytes must be at least 106 (the ISA's width)")


DEFAULT_LIMITS = Limits()
