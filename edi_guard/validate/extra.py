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

from functools import lru_cache

from edi_guard.validate.model import Finding
from edi_guard.x12.segment import Segment

DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})
_DIAGNOSIS_QUALIFIERS_BYTES = frozenset(q.encode("latin-1") for q in DIAGNOSIS_QUALIFIERS)


def npi_is_valid(npi: str) -> bool:
    """Luhn over the 80840 prefix plus the first nine digits (CMS NPI standard)."""
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():  # '²'.isdigit() is True
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


DIGEST_BAD_NPI, DIGEST_DIAGNOSES, DIGEST_POINTERS = 1, 2, 3


@lru_cache(maxsize=4096)
def _npi_is_valid_cached(npi: str) -> bool:
    return npi_is_valid(npi)  # a file names the same few providers again and again


class ExtraChecks:
    tags: frozenset[str] = frozenset({"HL", "CLM", "HI", "SV1", "NM1"})

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        # open HLs: (HL01, HL04, had a child, file position, position in set)
        self._stack: list[tuple[str, str, bool, int, int]] = []
        self.diagnoses = 0  # HI diagnosis codes of the current claim (SV107 bound)

    def feed(self, segment: Segment, loop_id: str, position_in_set: int) -> list[Finding]:
        tag = segment.tag
        if tag == "HL":
            return self._hl(segment, position_in_set)
        if tag == "CLM":
            self.diagnoses = 0
            return []
        if tag == "HI":
            if loop_id == "2300":
                separator = segment.delimiters.component_str
                for value in segment.elements[1:]:
                    if value.split(separator, 1)[0] in DIAGNOSIS_QUALIFIERS:
                        self.diagnoses += 1
            return []
        if tag == "SV1":
            return self._sv107(segment, position_in_set)
        if tag == "NM1" and segment.element(8) == "XX" and not npi_is_valid(segment.element(9)):
            return [
                Finding("npi-check-digit", "NM109 is not a valid NPI (Luhn check digit with the "
                        "80840 prefix)", segment.position, position_in_set, "NM1", "NM109")
            ]  # fmt: skip
        return []

    @staticmethod
    def digest(tag: str, parts: list[bytes], component: bytes, loop_id: str) -> tuple[int, int]:
        """What the checks need of an NM1, HI or SV1 (a function of its bytes and loop), for
        ``apply_digest``: (0, 0) when nothing, (``DIGEST_BAD_NPI``, 0), (``DIGEST_DIAGNOSES``,
        how many), (``DIGEST_POINTERS``, the highest SV107 pointer or -1 when one is bad)."""
        if tag == "NM1":
            if len(parts) > 8 and parts[8] == b"XX":
                npi = parts[9].decode("latin-1") if len(parts) > 9 else ""
                if not _npi_is_valid_cached(npi):
                    return DIGEST_BAD_NPI, 0
            return 0, 0
        if tag == "HI":
            if loop_id != "2300":
                return 0, 0
            count = 0
            for value in parts[1:]:
                if value.split(component, 1)[0] in _DIAGNOSIS_QUALIFIERS_BYTES:
                    count += 1
            return (DIGEST_DIAGNOSES, count) if count else (0, 0)
        if tag == "SV1":
            pointers = parts[7].decode("latin-1") if len(parts) > 7 else ""
            if not pointers:
                return 0, 0
            highest = 0
            for pointer in pointers.split(component.decode("latin-1")):
                if not pointer:
                    continue
                if not pointer.isascii() or not pointer.isdigit() or int(pointer) < 1:
                    return DIGEST_POINTERS, -1
                highest = max(highest, int(pointer))
            return DIGEST_POINTERS, highest
        return 0, 0

    def apply_digest(
        self, digest: int, value: int, position: int, position_in_set: int
    ) -> list[Finding]:
        """``feed`` for a segment known by its ``digest``."""
        if digest == DIGEST_BAD_NPI:
            return [
                Finding("npi-check-digit", "NM109 is not a valid NPI (Luhn check digit with the "
                        "80840 prefix)", position, position_in_set, "NM1", "NM109")
            ]  # fmt: skip
        if digest == DIGEST_DIAGNOSES:
            self.diagnoses += value
            return []
        if digest == DIGEST_POINTERS and (value < 0 or value > self.diagnoses):
            return [
                Finding("sv107-pointer", "SV107 points beyond the claim's HI diagnosis codes",
                        position, position_in_set, "SV1", "SV107")
            ]  # fmt: skip
        return []

    def claim(self) -> None:
        """``feed`` for a CLM."""
        self.diagnoses = 0  # HI diagnosis codes of the current claim (SV107 bound)

    def feed_parts(
        self,
        tag: str,
        parts: list[bytes],
        component: bytes,
        loop_id: str,
        position: int,
        position_in_set: int,
    ) -> list[Finding]:
        """``feed`` for a segment already split into raw elements (``parts[0]`` the tag)."""
        if tag == "NM1":
            if len(parts) > 8 and parts[8] == b"XX":
                npi = parts[9].decode("latin-1") if len(parts) > 9 else ""
                if not _npi_is_valid_cached(npi):
                    return [
                        Finding("npi-check-digit", "NM109 is not a valid NPI (Luhn check digit "
                                "with the 80840 prefix)", position, position_in_set, "NM1",
                                "NM109")
                    ]  # fmt: skip
            return []
        if tag == "SV1":
            pointers = parts[7].decode("latin-1") if len(parts) > 7 else ""
            return self._pointers(pointers, component.decode("latin-1"), position, position_in_set)
        if tag == "HI":
            if loop_id == "2300":
                for value in parts[1:]:
                    if value.split(component, 1)[0] in _DIAGNOSIS_QUALIFIERS_BYTES:
                        self.diagnoses += 1
            return []
        if tag == "CLM":
            self.diagnoses = 0
            return []
        if tag == "HL":

            def get(index: int) -> str:
                return parts[index].decode("latin-1") if index < len(parts) else ""

            return self.hl(get(1), get(2), get(4), position, position_in_set)
        return []

    def _hl(self, segment: Segment, position_in_set: int) -> list[Finding]:
        ident, parent, flag = segment.element(1), segment.element(2), segment.element(4)
        return self.hl(ident, parent, flag, segment.position, position_in_set)

    def hl(
        self, ident: str, parent: str, flag: str, position: int, position_in_set: int
    ) -> list[Finding]:
        out: list[Finding] = []
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
        stack.append((ident, flag, False, position, position_in_set))
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
        return self._pointers(
            segment.element(7), segment.delimiters.component_str, segment.position,
            position_in_set,
        )  # fmt: skip

    def _pointers(
        self, pointers: str, component: str, position: int, position_in_set: int
    ) -> list[Finding]:
        if not pointers:
            return []
        for pointer in pointers.split(component):
            if pointer and (
                not pointer.isascii()
                or not pointer.isdigit()
                or not 1 <= int(pointer) <= self.diagnoses
            ):
                return [
                    Finding("sv107-pointer", "SV107 points beyond the claim's HI diagnosis codes",
                            position, position_in_set, "SV1", "SV107")
                ]  # fmt: skip
        return []
