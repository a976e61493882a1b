"""The vocabularies rules read: muscles, drugs, code lists, fees.

All of it is data in ``schemas/`` (rules.md: "The vocabulary is data in schemas/, not code");
this module loads each file once, validates it against its JSON Schema, and answers the
questions the rules ask. Free text is matched on whole words, case-insensitively, so that
"QL" never fires inside another word and "Kenalog-40" is found as "kenalog".

Muscle counting (TPI007) follows rules.md: a distinct muscle is (muscle, side). How sides
attach to muscles, and how mentions of one muscle in several places combine, is documented
on :func:`count_muscles` and :meth:`MuscleVocabulary.count`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Final

from edi_guard.data import read_json, schema_file, validate

# Words, and the punctuation that matters: connectors (, & / +), parentheses (ignored as
# filler) and clause breaks (. ; : ! ? newline). Everything else separates words.
_MEMO_SIZE: Final = 4096
"""Notes remembered per vocabulary (a few MB at most)."""
_TOKEN: Final = re.compile(r"[a-z0-9]+|[,&/+()]|[.;:!?\n]")
_BREAKS: Final = frozenset(".;:!?\n")
_ICD10CM: Final = re.compile(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}")
_J_CODE: Final = re.compile(r"J[0-9]{4}")


class Side(StrEnum):
    """A body side. "Bilateral" is not a side: it names both, and counts twice."""

    LEFT = "left"
    RIGHT = "right"


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int
    end: int


def _tokens(text: str, glued_dot_words: frozenset[str]) -> list[_Token]:
    """Lower-cased tokens; a '.' glued to an abbreviation ('lt.', 'm.') is not a clause break."""
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text.lower()):
        token = _Token(match.group(), match.start(), match.end())
        if (
            token.text == "."
            and tokens
            and tokens[-1].end == token.start
            and tokens[-1].text in glued_dot_words
        ):
            continue
        tokens.append(token)
    return tokens


def _phrase_key(phrase: str) -> tuple[str, ...]:
    return tuple(match.group() for match in _TOKEN.finditer(phrase.lower()))


class _PhraseIndex:
    """Longest-match lookup of multi-word phrases over a token list."""

    __slots__ = ("_longest", "_phrases")

    def __init__(self, phrases: Mapping[tuple[str, ...], str]) -> None:
        self._phrases = dict(phrases)
        self._longest = max((len(key) for key in self._phrases), default=0)

    def match(self, words: Sequence[str], at: int) -> tuple[str, int] | None:
        """(value, length) of the longest phrase starting at ``words[at]``, if any."""
        for length in range(min(self._longest, len(words) - at), 0, -1):
            value = self._phrases.get(tuple(words[at : at + length]))
            if value is not None:
                return value, length
        return None

    def find_all(self, words: Sequence[str]) -> Iterator[tuple[str, int, int]]:
        """Non-overlapping (value, start, length), scanning left to right."""
        at = 0
        while at < len(words):
            found = self.match(words, at)
            if found is None:
                at += 1
                continue
            yield found[0], at, found[1]
            at += found[1]


def _plurals(phrase: str) -> tuple[tuple[str, ...], ...]:
    """The phrase, and with an 's' on its last word: full names only, never abbreviations,
    whose plurals are listed in the data (so "QL" stays two letters wide)."""
    key = _phrase_key(phrase)
    if not key or key[-1].endswith("s") or not key[-1].isalpha():
        return (key,)
    return key, (*key[:-1], key[-1] + "s")


# --------------------------------------------------------------------------- muscles


@dataclass(frozen=True, slots=True)
class Muscle:
    """One muscle (or a group of muscles named as one, e.g. "rhomboids").

    A group mention counts once; when a member of the group is named on the same side, the
    group mention is subsumed by the member (see :meth:`MuscleVocabulary.count`).
    """

    name: str
    synonyms: tuple[str, ...]
    abbreviations: tuple[str, ...] = ()
    is_group: bool = False
    member_of: str | None = None


MusclePair = tuple[str, Side | None]

_SIDE_BY_VALUE: Final[dict[str, Side | None]] = {"": None, **{side.value: side for side in Side}}

_StoredPairs = tuple[tuple[str, str], ...]
"""(muscle, side) pairs as the memos keep them: the side as its text, "" when not stated.

The memos remember thousands of notes for the life of the process. Tuples made only of
strings are untracked by the cyclic garbage collector after its first look at them, where
frozensets and enum members stay tracked, and every tracked object is visited again by each
full collection: stored as frozensets of (str, Side) tuples, the memos of a 10,000-claim
file made each full collection about three times slower (edi_guard is compiled and
allocation-heavy: the collector runs often)."""


def _stored(pairs: Iterable[MusclePair]) -> _StoredPairs:
    return tuple(sorted((muscle, side.value if side else "") for muscle, side in pairs))


def _pairs(stored: _StoredPairs) -> Iterator[MusclePair]:
    return ((muscle, _SIDE_BY_VALUE[side]) for muscle, side in stored)


class MuscleCount:
    """Distinct muscles a set of notes names, as (muscle, side); side None = not stated.

    A plain class over strings (see ``_StoredPairs``): one is remembered per distinct set of
    notes, so it must not hold objects the garbage collector keeps tracking.
    """

    __slots__ = ("_pairs", "_regions")

    def __init__(self, pairs: _StoredPairs, regions: tuple[str, ...] = ()) -> None:
        self._pairs: Final = pairs
        self._regions: Final = regions

    @property
    def muscles(self) -> frozenset[MusclePair]:
        return frozenset(_pairs(self._pairs))

    @property
    def region_words(self) -> frozenset[str]:
        return frozenset(self._regions)

    @property
    def count(self) -> int:
        """The number of distinct (muscle, side) pairs: what 20552 (1-2) vs 20553 (3+) counts."""
        return len(self._pairs)

    @property
    def region_only(self) -> bool:
        """Regions ("neck", "upper back") were named and no muscle was: TPI007 warns."""
        return bool(self._regions) and not self._pairs

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MuscleCount):
            return NotImplemented
        return self._pairs == other._pairs and self._regions == other._regions

    def __hash__(self) -> int:
        return hash((self._pairs, self._regions))

    def __repr__(self) -> str:
        return f"MuscleCount(muscles={sorted(self._pairs)!r}, region_words={self._regions!r})"


_LEFT_RIGHT: Final = frozenset({Side.LEFT, Side.RIGHT})


@dataclass(slots=True)
class _Item:
    kind: str  # "M" muscle, "S" side set, "C" connector
    text: str = ""
    muscle: str = ""
    sides: frozenset[Side] = frozenset()
    explicit: frozenset[Side] | None = None
    backward: frozenset[Side] | None = None
    forward: frozenset[Side] | None = None


@dataclass(frozen=True, slots=True, eq=False)
class MuscleVocabulary:
    """The muscle vocabulary (``schemas/muscles.json``) and the counter built from it."""

    source: str
    year: int
    muscles: tuple[Muscle, ...]
    sides: Mapping[str, frozenset[Side]]
    connector_words: frozenset[str]
    filler_words: frozenset[str]
    region_words: frozenset[str]
    _muscle_index: _PhraseIndex = field(init=False, repr=False, compare=False)
    _region_index: _PhraseIndex = field(init=False, repr=False, compare=False)
    _members: Mapping[str, frozenset[str]] = field(init=False, repr=False, compare=False)
    _glued: frozenset[str] = field(init=False, repr=False, compare=False)
    _memo: dict[str, tuple[_StoredPairs, tuple[str, ...]]] = field(
        init=False, repr=False, compare=False
    )
    _count_memo: dict[tuple[str, ...], MuscleCount] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        phrases: dict[tuple[str, ...], str] = {}
        for muscle in self.muscles:
            keys = [key for phrase in (muscle.name, *muscle.synonyms) for key in _plurals(phrase)]
            keys += [_phrase_key(abbreviation) for abbreviation in muscle.abbreviations]
            for key in keys:
                if phrases.setdefault(key, muscle.name) != muscle.name:
                    raise ValueError(
                        f"phrase {' '.join(key)!r} names both {phrases[key]!r} and {muscle.name!r}"
                    )
        groups = {muscle.name for muscle in self.muscles if muscle.is_group}
        members: dict[str, set[str]] = {}
        for muscle in self.muscles:
            if muscle.member_of is not None:
                if muscle.member_of not in groups:
                    raise ValueError(
                        f"{muscle.name!r} is member_of unknown group {muscle.member_of!r}"
                    )
                members.setdefault(muscle.member_of, set()).add(muscle.name)
        regions = {_phrase_key(word): word for word in self.region_words}
        object.__setattr__(self, "_muscle_index", _PhraseIndex(phrases))
        object.__setattr__(self, "_region_index", _PhraseIndex(regions))
        object.__setattr__(self, "_members", {g: frozenset(m) for g, m in members.items()})
        object.__setattr__(self, "_glued", frozenset(self.sides) | self.filler_words)
        object.__setattr__(self, "_memo", {})
        object.__setattr__(self, "_count_memo", {})

    def count(self, texts: Iterable[str]) -> MuscleCount:
        """Count distinct (muscle, side) pairs over all ``texts`` (NTE02s, SV101-7...).

        How a side attaches, within a run of muscle, side, connector and filler words (any
        other word or a clause break ends the run):

        - a side word right before a muscle is that muscle's side ("left trapezius"), and
          carries forward over a coordinated list until another side word
          ("bilateral trapezius and levator scapulae": both bilateral);
        - a side word not followed by a muscle belongs to the muscle before it
          ("trapezius, left", "SCM bilaterally") and carries back over a list
          ("trapezius and levator scapulae bilaterally"); where both apply, the trailing
          one wins;
        - side words joined by "and", "/", "&" combine ("left and right trapezius", "b/l");
          "bilateral", "both" and their abbreviations mean left and right, counting twice.

        Across mentions: a muscle named without a side is subsumed by a sided mention of
        the same muscle ("trapezius ... left trapezius" counts one), and a group mention
        ("rhomboids") by a member on the same or an unstated side ("rhomboid major").
        Negation ("no injection to the SCM") and counts in words ("3 muscles") are not read:
        rules.md counts the muscles a note names.
        """
        key = tuple(texts)
        memo = self._count_memo
        counted = memo.get(key)
        if counted is None:
            found: set[MusclePair] = set()
            regions: set[str] = set()
            for text in key:
                muscles, named_regions = self._read(text)
                found.update(_pairs(muscles))
                regions.update(named_regions)
            counted = MuscleCount(_stored(self._subsume(found)), tuple(sorted(regions)))
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[key] = counted
        return counted

    def _read(self, text: str) -> tuple[_StoredPairs, tuple[str, ...]]:
        """What one note names, memoised: billing systems send the same note templates over
        and over, and reading a note is the costliest step of the TPI rules."""
        memo = self._memo
        known = memo.get(text)
        if known is None:
            words = [token.text for token in _tokens(text, self._glued)]
            known = (
                _stored(set(self._count_words(words))),
                tuple(sorted({region for region, _, _ in self._region_index.find_all(words)})),
            )
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[text] = known
        return known

    def _count_words(self, words: Sequence[str]) -> Iterator[tuple[str, Side | None]]:
        for run in self._runs(words):
            yield from self._assign_sides(run)

    def _runs(self, words: Sequence[str]) -> Iterator[list[_Item]]:
        """Split words into runs of muscle/side/connector items (filler dropped)."""
        run: list[_Item] = []
        at = 0
        while at < len(words):
            word = words[at]
            muscle = self._muscle_index.match(words, at)
            if muscle is not None:
                run.append(_Item("M", muscle=muscle[0]))
                at += muscle[1]
                continue
            at += 1
            if word in self.sides:
                run.append(_Item("S", text=word, sides=self.sides[word]))
            elif word in self.connector_words:
                run.append(_Item("C", text=word))
            elif word not in self.filler_words:
                if run:
                    yield run
                run = []
        if run:
            yield run

    def _assign_sides(self, run: list[_Item]) -> Iterator[tuple[str, Side | None]]:
        items = _merge_side_sets(run)
        for index, item in enumerate(items):
            if item.kind != "S":
                continue
            after = items[index + 1] if index + 1 < len(items) else None
            if after is not None and after.kind == "M":
                after.explicit = item.sides
                continue
            before = _previous_muscle(items, index)
            if before is not None:
                target = items[before]
                target.explicit = (target.explicit or frozenset()) | item.sides
                _spread(items, before - 1, -1, item.sides, "backward")
        for index, item in enumerate(items):
            if item.kind == "M" and index > 0 and items[index - 1].kind == "S":
                _spread(items, index + 1, 1, items[index - 1].sides, "forward")
        for item in items:
            if item.kind == "M":
                sides = item.explicit or item.backward or item.forward
                if sides:
                    for side in sides:
                        yield item.muscle, side
                else:
                    yield item.muscle, None

    def _subsume(self, found: set[tuple[str, Side | None]]) -> frozenset[tuple[str, Side | None]]:
        sided = {muscle for muscle, side in found if side is not None}
        kept = {(muscle, side) for muscle, side in found if side is not None or muscle not in sided}
        result = set(kept)
        for group, side in kept:
            members = self._members.get(group, frozenset())
            if any(
                (member, member_side) in kept
                for member in members
                for member_side in (side, None, *_LEFT_RIGHT)
                if member_side is None or side is None or member_side == side
            ):
                result.discard((group, side))
        return frozenset(result)


def _merge_side_sets(run: list[_Item]) -> list[_Item]:
    """Join side words linked by a non-comma connector ("left and right", "b/l")."""
    items: list[_Item] = []
    for item in run:
        if (
            item.kind == "S"
            and len(items) >= 2
            and items[-1].kind == "C"
            and items[-1].text != ","
            and items[-2].kind == "S"
        ):
            items.pop()
            items[-1] = _Item("S", text=items[-1].text, sides=items[-1].sides | item.sides)
        elif item.kind == "C" and items and items[-1].kind == "C":
            continue
        else:
            items.append(item)
    return items


def _previous_muscle(items: Sequence[_Item], index: int) -> int | None:
    """The muscle a trailing side word belongs to: just before it, a connector between at most."""
    for back in (index - 1, index - 2):
        if back < 0:
            return None
        if items[back].kind == "M":
            return back
        if items[back].kind != "C":
            return None
    return None


def _spread(items: list[_Item], start: int, step: int, sides: frozenset[Side], slot: str) -> None:
    """Carry ``sides`` over a coordinated list (muscles joined by connectors) from ``start``."""
    index = start
    while 0 <= index < len(items):
        item = items[index]
        if item.kind == "S" or (item.kind == "M" and item.explicit is not None):
            return
        if item.kind == "M" and getattr(item, slot) is None:
            setattr(item, slot, sides)
        index += step


# --------------------------------------------------------------------------- drugs


@dataclass(frozen=True, slots=True)
class Drug:
    """An injectable drug billed separately from 20552/20553, with its J-codes."""

    name: str
    drug_class: str
    hcpcs: tuple[str, ...]
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True, eq=False)
class DrugVocabulary:
    """The drug vocabulary (``schemas/drugs.json``)."""

    source: str
    year: int
    drugs: tuple[Drug, ...]
    generic_terms: Mapping[str, tuple[str, ...]]
    local_anesthetics: Mapping[str, tuple[str, ...]]
    single_dose_vial_codes: frozenset[str]
    waste_modifiers: frozenset[str]
    noc_codes: frozenset[str]
    facility_only_codes: frozenset[str]
    _named: _PhraseIndex = field(init=False, repr=False, compare=False)
    _generic: _PhraseIndex = field(init=False, repr=False, compare=False)
    _anesthetics: _PhraseIndex = field(init=False, repr=False, compare=False)
    _billable_codes: frozenset[str] = field(init=False, repr=False, compare=False)
    _memo: dict[tuple[str, bool], tuple[str, ...]] = field(init=False, repr=False, compare=False)
    """Note -> the drugs it names: tuples of strings, untracked by the garbage collector
    (see ``_StoredPairs``)."""

    def __post_init__(self) -> None:
        named = {_phrase_key(w): drug.name for drug in self.drugs for w in drug.words}
        object.__setattr__(self, "_named", _PhraseIndex(named))
        object.__setattr__(self, "_generic", _PhraseIndex(_word_map(self.generic_terms)))
        object.__setattr__(self, "_anesthetics", _PhraseIndex(_word_map(self.local_anesthetics)))
        codes = frozenset(code for drug in self.drugs for code in drug.hcpcs)
        object.__setattr__(self, "_billable_codes", codes)
        object.__setattr__(self, "_memo", {})

    def mentioned(self, texts: Iterable[str], *, include_generic: bool = False) -> frozenset[str]:
        """Separately billable drugs named in ``texts`` (canonical names, e.g. "ketorolac
        tromethamine"); never local anesthetics, which are bundled. Class words ("steroid")
        only with ``include_generic``, as "corticosteroid (unnamed)" and the like."""
        names: set[str] = set()
        memo = self._memo
        for text in texts:
            key = (text, include_generic)
            known = memo.get(key)
            if known is None:
                words = _phrase_key(text)
                found = {name for name, _, _ in self._named.find_all(words)}
                if include_generic:
                    found.update(name for name, _, _ in self._generic.find_all(words))
                known = tuple(sorted(found))
                if len(memo) >= _MEMO_SIZE:
                    memo.clear()
                memo[key] = known  # notes repeat: billing systems send the same templates
            names.update(known)
        return frozenset(names)

    def anesthetics_mentioned(self, texts: Iterable[str]) -> frozenset[str]:
        """Local anesthetics named in ``texts``: bundled, so no drug line is expected."""
        return frozenset(
            name for text in texts for name, _, _ in self._anesthetics.find_all(_phrase_key(text))
        )

    def is_separately_billable(self, hcpcs: str) -> bool:
        """Whether ``hcpcs`` is the J-code of a listed separately billable drug."""
        return hcpcs.strip().upper() in self._billable_codes

    def drug_for_code(self, hcpcs: str) -> Drug | None:
        """The listed drug billed under ``hcpcs``, if any."""
        code = hcpcs.strip().upper()
        return next((drug for drug in self.drugs if code in drug.hcpcs), None)


def _word_map(named: Mapping[str, tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    return {_phrase_key(word): name for name, words in named.items() for word in words}


# --------------------------------------------------------------------------- codes


@dataclass(frozen=True, slots=True)
class CodeVocabulary:
    """Procedure, modifier and diagnosis code lists (``schemas/codes.json``)."""

    source: str
    year: int
    tpi_codes: frozenset[str]
    em_codes: frozenset[str]
    anesthesia_first: str
    anesthesia_last: str
    imaging_guidance_codes: frozenset[str]
    advance_notice_modifiers: frozenset[str]
    ncci_associated_modifiers: frozenset[str]
    non_billable_diagnoses: frozenset[str]
    lcd_covered_diagnoses: frozenset[str]


# --------------------------------------------------------------------------- fees


@dataclass(frozen=True, slots=True)
class Fee:
    """Medicare national amount at stake for a TPI claim in one place of service."""

    place_of_service: str
    amount: Decimal
    basis: str
    source: str
    year: int
    verified: bool
    setting: str = ""


# --------------------------------------------------------------------------- loading


@cache
def load_muscles(path: Path | None = None) -> MuscleVocabulary:
    """The muscle vocabulary: shipped ``schemas/muscles.json``, or ``path`` (policy override)."""
    data = _load(path, "muscles.json", "muscles.schema.json")
    sides: dict[str, frozenset[Side]] = {}
    for key, members in (
        ("left", {Side.LEFT}),
        ("right", {Side.RIGHT}),
        ("bilateral", _LEFT_RIGHT),
    ):
        for word in data["laterality"][key]:
            sides[word.lower()] = frozenset(members)
    muscles = tuple(
        Muscle(
            name=entry["name"],
            synonyms=tuple(entry["synonyms"]),
            abbreviations=tuple(entry["abbreviations"]),
            is_group=entry.get("group", False),
            member_of=entry.get("member_of"),
        )
        for entry in data["muscles"]
    )
    return MuscleVocabulary(
        source=data["source"],
        year=data["year"],
        muscles=muscles,
        sides=sides,
        connector_words=_lower_set(data["connector_words"]),
        filler_words=_lower_set(data["filler_words"]),
        region_words=_lower_set(data["region_words"]),
    )


@cache
def load_drugs(path: Path | None = None) -> DrugVocabulary:
    """The drug vocabulary: shipped ``schemas/drugs.json``, or ``path`` (policy override)."""
    data = _load(path, "drugs.json", "drugs.schema.json")
    return DrugVocabulary(
        source=data["source"],
        year=data["year"],
        drugs=tuple(
            Drug(d["name"], d["class"], tuple(d["hcpcs"]), tuple(d["words"])) for d in data["drugs"]
        ),
        generic_terms={g["name"]: tuple(g["words"]) for g in data["generic_terms"]},
        local_anesthetics={a["name"]: tuple(a["words"]) for a in data["local_anesthetics"]},
        single_dose_vial_codes=frozenset(data["single_dose_vial_codes"]),
        waste_modifiers=frozenset(data["waste_modifiers"]),
        noc_codes=frozenset(data["noc_codes"]),
        facility_only_codes=frozenset(data["facility_only_codes"]),
    )


@cache
def load_codes() -> CodeVocabulary:
    """The code lists shipped in ``schemas/codes.json``."""
    data = _load(None, "codes.json", "codes.schema.json")
    diagnoses = data["diagnoses"]
    return CodeVocabulary(
        source=data["source"],
        year=data["year"],
        tpi_codes=frozenset(data["tpi_codes"]),
        em_codes=frozenset(data["em_codes"]),
        anesthesia_first=data["anesthesia_range"]["first"],
        anesthesia_last=data["anesthesia_range"]["last"],
        imaging_guidance_codes=frozenset(data["imaging_guidance_codes"]),
        advance_notice_modifiers=frozenset(data["advance_notice_modifiers"]),
        ncci_associated_modifiers=frozenset(data["ncci_associated_modifiers"]),
        non_billable_diagnoses=frozenset(_icd(c) for c in diagnoses["non_billable_headers"]),
        lcd_covered_diagnoses=frozenset(_icd(c) for c in diagnoses["lcd_covered"]),
    )


@cache
def load_fees() -> Mapping[str, Fee]:
    """Amounts at stake by place of service, from ``schemas/fees.json``."""
    data = _load(None, "fees.json", "fees.schema.json")
    return {
        row["place_of_service"]: Fee(
            place_of_service=row["place_of_service"],
            amount=Decimal(row["amount"]),
            basis=row["basis"],
            source=data["source"],
            year=data["year"],
            verified=row["verified"],
            setting=row.get("setting", ""),
        )
        for row in data["amounts"]
    }


def _load(path: Path | None, shipped: str, schema: str) -> Any:
    path = path if path is not None else schema_file(shipped)
    data = read_json(path)
    validate(data, schema, origin=str(path))
    return data


def _lower_set(words: Iterable[str]) -> frozenset[str]:
    return frozenset(word.lower() for word in words)


def _icd(code: str) -> str:
    return code.replace(".", "").strip().upper()


def _code(code: str) -> str:
    return code.strip().upper()


# --------------------------------------------------------------------------- questions


def count_muscles(texts: Iterable[str], vocabulary: MuscleVocabulary | None = None) -> MuscleCount:
    """Distinct (muscle, side) pairs named in ``texts`` (TPI007); see MuscleVocabulary.count."""
    return (vocabulary or load_muscles()).count(texts)


def drugs_mentioned(
    texts: Iterable[str],
    vocabulary: DrugVocabulary | None = None,
    *,
    include_generic: bool = False,
) -> frozenset[str]:
    """Separately billable injectable drugs named in ``texts`` (TPI011); not local anesthetics."""
    return (vocabulary or load_drugs()).mentioned(texts, include_generic=include_generic)


def is_separately_billable_drug_code(hcpcs: str) -> bool:
    """Whether ``hcpcs`` bills one of the listed separately billable drugs (e.g. J3301)."""
    return load_drugs().is_separately_billable(hcpcs)


def is_single_dose_vial(hcpcs: str) -> bool:
    """Whether ``hcpcs`` is on the single-dose-container list that needs JW or JZ (TPI016)."""
    return _code(hcpcs) in load_drugs().single_dose_vial_codes


def is_noc_drug(hcpcs: str) -> bool:
    """J3490 / J3590: SV101-7 must describe the drug (TPI013, TPI014)."""
    return _code(hcpcs) in load_drugs().noc_codes


def is_facility_only_drug(hcpcs: str) -> bool:
    """C9399: never on an 837P (TPI015)."""
    return _code(hcpcs) in load_drugs().facility_only_codes


def is_j_code(hcpcs: str) -> bool:
    """A HCPCS J-code, which rules.md calls a drug line."""
    return _J_CODE.fullmatch(_code(hcpcs)) is not None


def is_tpi(code: str) -> bool:
    """20552 or 20553."""
    return _code(code) in load_codes().tpi_codes


def is_em(code: str) -> bool:
    """An office/outpatient E/M code (99202-99205, 99211-99215)."""
    return _code(code) in load_codes().em_codes


def is_anesthesia(code: str) -> bool:
    """An anesthesia code, 00100-01999 (TPI017)."""
    code = _code(code)
    codes = load_codes()
    return (
        len(code) == 5
        and code.isdigit()
        and codes.anesthesia_first <= code <= codes.anesthesia_last
    )


def is_imaging_guidance(code: str) -> bool:
    """76942, 77002 or 77021 (TPI018)."""
    return _code(code) in load_codes().imaging_guidance_codes


def is_ncci_associated_modifier(modifier: str) -> bool:
    """A modifier that may bypass a PTP edit with indicator 1 (TPI019)."""
    return _code(modifier) in load_codes().ncci_associated_modifiers


def is_advance_notice_modifier(modifier: str) -> bool:
    """GA or GZ (TPI009, TPI018)."""
    return _code(modifier) in load_codes().advance_notice_modifiers


_BILLABLE: Final[dict[str, bool]] = {}
"""HI code as received -> billable: a file carries a few hundred distinct codes (bounded)."""


def diagnosis_billable(code: str) -> bool:
    """Whether an ICD-10-CM code, as HI carries it ("M7918", no point), is billable.

    Malformed codes and the listed header codes (e.g. "M791") are not. The header list is
    partial, so a well-formed code not on it is taken as billable (codes.json notes).
    """
    known = _BILLABLE.get(code)
    if known is None:
        normalised = _icd(code)
        known = (
            _ICD10CM.fullmatch(normalised) is not None
            and normalised not in load_codes().non_billable_diagnoses
        )
        if len(_BILLABLE) >= 16_384:
            _BILLABLE.clear()
        _BILLABLE[code] = known
    return known


def diagnosis_covered(code: str, covered_patterns: Iterable[str]) -> bool:
    """Whether ``code`` matches a covered pattern: exact, or a prefix when it ends in ``*``.

    Points and case are ignored on both sides: "M79.1*" covers "M7918" and "m79.18".
    """
    patterns = covered_patterns if isinstance(covered_patterns, tuple) else tuple(covered_patterns)
    return _covered_by(patterns).covers(code)


class _CoveredPatterns:
    """One covered-diagnosis list, normalised once, and the codes it was asked about."""

    __slots__ = ("_exact", "_prefixes", "_seen", "patterns")

    def __init__(self, patterns: tuple[str, ...]) -> None:
        normalised = [_icd(pattern) for pattern in patterns]
        self.patterns: Final = patterns
        self._exact: Final = frozenset(p for p in normalised if not p.endswith("*"))
        self._prefixes: Final = tuple(p[:-1] for p in normalised if p.endswith("*"))
        self._seen: Final[dict[str, bool]] = {}

    def covers(self, code: str) -> bool:
        known = self._seen.get(code)
        if known is None:
            normalised = _icd(code)
            known = normalised in self._exact or normalised.startswith(self._prefixes)
            if len(self._seen) >= 16_384:
                self._seen.clear()
            self._seen[code] = known
        return known


_LAST_COVERED: Final[list[_CoveredPatterns]] = []
"""The list asked about last (a policy's tuple: the same object claim after claim)."""


def _covered_by(patterns: tuple[str, ...]) -> _CoveredPatterns:
    last = _LAST_COVERED[0] if _LAST_COVERED else None
    if last is not None and (last.patterns is patterns or last.patterns == patterns):
        return last
    covered = _CoveredPatterns(patterns)
    _LAST_COVERED[:] = [covered]
    return covered


def amount_at_stake(place_of_service: str) -> Fee | None:
    """The Medicare national amount at stake for a TPI claim at ``place_of_service``."""
    return load_fees().get(place_of_service.strip())


def money_at_stake(place_of_service: str) -> Decimal | None:
    """Just the amount of :func:`amount_at_stake`, for reports that print a number."""
    fee = amount_at_stake(place_of_service)
    return None if fee is None else fee.amount
