"""Checks beyond pyx12, each named and reported as a ``Finding``; none changes a verdict.

- ``hl-child-flag``: HL04 says whether child HLs follow (1) or not (0); the HLs that follow
  must agree (pyx12 does not check HL04).
- ``sv107-pointer``: each SV107 diagnosis pointer must name one of the claim's HI codes
  (1..the number of HI diagnosis codes); pyx12 does not compare them.
- ``npi-check-digit``: an NM1 identifier with qualifier XX is an NPI; its tenth digit is a
  Luhn check digit computed over "80840" + the first nine digits.

Memory is bounded by the HL nesting depth (the open-parent stack), not by the file.
"""

from __future__ import annotations

from edi_guard.validate.model import Finding
from edi_guard.x12.segment import Segment

DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})


def npi_is_valid(npi: str) -> bool:
    """Luhn over the 80840 prefix plus the first nine digits (CMS NPI standard)."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    digits = [int(c) for c in "80840" + npi[:9]]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


class ExtraChecks:
    tags: frozenset[str] = frozenset({"HL", "CLM", "HI", "SV1", "NM1"})

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        # open HLs: (HL01, HL04, had a child, file position, position in set)
        self._stack: list[tuple[str, str, bool, int, int]] = []
        self._diagnoses = 0

    def feed(self, segment: Segment, loop_id: str, position_in_set: int) -> list[Finding]:
        tag = segment.tag
        if tag == "HL":
            return self._hl(segment, position_in_set)
        if tag == "CLM":
            self._diagnoses = 0
            return []
        if tag == "HI":
            if loop_id == "2300":
                separator = segment.delimiters.component_str
                for value in segment.elements[1:]:
                    if value.split(separator, 1)[0] in DIAGNOSIS_QUALIFIERS:
                        self._diagnoses += 1
            return []
        if tag == "SV1":
            return self._sv107(segment, position_in_set)
        if tag == "NM1" and segment.element(8) == "XX" and not npi_is_valid(segment.element(9)):
            return [
                Finding("npi-check-digit", "NM109 is not a valid NPI (Luhn check digit with the "
                        "80840 prefix)", segment.position, position_in_set, "NM1", "NM109")
            ]  # fmt: skip
        return []

    def _hl(self, segment: Segment, position_in_set: int) -> list[Finding]:
        out: list[Finding] = []
        ident, parent, flag = segment.element(1), segment.element(2), segment.element(4)
        stack = self._stack
        while stack and stack[-1][0] != parent:
            out += self._close(stack.pop())
        if stack:
            top = stack[-1]
            if not top[2]:
                stack[-1] = (top[0], top[1], True, top[3], top[4])
                if top[1] == "0":
                    out.append(
                        Finding("hl-child-flag", "HL04 is 0 but a child HL follows",
                                top[3], top[4], "HL", "HL04")
                    )  # fmt: skip
        stack.append((ident, flag, False, segment.position, position_in_set))
        return out

    def _close(self, entry: tuple[str, str, bool, int, int]) -> list[Finding]:
        _, flag, had_child, position, position_in_set = entry
        if flag == "1" and not had_child:
            return [
                Finding("hl-child-flag", "HL04 is 1 but no child HL follows", position,
                        position_in_set, "HL", "HL04")
            ]  # fmt: skip
        return []

    def finish(self) -> list[Finding]:
        """At SE: close the HLs still open."""
        out: list[Finding] = []
        while self._stack:
            out += self._close(self._stack.pop())
        return out

    def _sv107(self, segment: Segment, position_in_set: int) -> list[Finding]:
        pointers = segment.element(7)
        if not pointers:
            return []
        for pointer in pointers.split(segment.delimiters.component_str):
            if pointer and (not pointer.isdigit() or not 1 <= int(pointer) <= self._diagnoses):
                return [
                    Finding("sv107-pointer", "SV107 points beyond the claim's HI diagnosis codes",
                            segment.position, position_in_set, "SV1", "SV107")
                ]  # fmt: skip
        return []
