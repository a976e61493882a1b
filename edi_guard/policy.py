"""The policy: which rules run, and how the switchable ones decide.

rules.md leaves some outcomes to the user (``muscle_shortfall``, ``em_without_25``,
``drug_line_missing``), lets rules be switched off, and lets all of it differ per payer. A
policy file (JSON or TOML) is validated against ``schemas/policy.schema.json``; anything
unknown or out of range is refused with a :class:`PolicyError` naming the key path and the
allowed values, because a typo in a policy silently ignored would change claim outcomes.

Effective settings merge in three layers: the shipped ``schemas/policy.defaults.json``, then
the file's top level, then ``payers.<payer id>`` (2010BB NM109) for that payer's claims.
``rules`` merges code by code; every other key is replaced whole.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from edi_guard.data import DataFileError, read_json, schema_file, schema_problems
from edi_guard.errors import PolicyError

#: Every rule code of rules.md, in catalog order. Codes never change meaning once shipped.
RULE_CODES: Final[tuple[str, ...]] = ("CLM001", "CLM002", *(f"TPI{n:03d}" for n in range(1, 21)))

_SCHEMA: Final = "policy.schema.json"
_DEFAULTS: Final = "policy.defaults.json"
_PATH_KEYS: Final = ("ptp_table", "muscle_vocabulary", "drug_vocabulary")


class MuscleShortfall(StrEnum):
    """TPI007 outcome when a 20553 line's notes name only 1-2 distinct muscles."""

    REJECT = "reject"
    DOWNCODE = "downcode-to-20552"
    WARN = "warn"


class RejectOrWarn(StrEnum):
    """Outcome of a switch that may only reject or warn (``em_without_25``, ``drug_line_missing``).

    Neither may correct: the fix would attest a clinical fact (modifier 25) or invent a drug line.
    """

    REJECT = "reject"
    WARN = "warn"


@dataclass(frozen=True, slots=True)
class Policy:
    """Effective settings for one scope: all payers, or one payer after its override.

    ``payers`` holds the already merged policy of every payer that has an override; use
    :meth:`for_payer` rather than reading it. Paths are absolute (resolved against the
    policy file's directory); ``None`` means the data shipped in ``schemas/``.
    """

    disabled_rules: frozenset[str]
    muscle_shortfall: MuscleShortfall
    em_without_25: RejectOrWarn
    drug_line_missing: RejectOrWarn
    medicare_payer_codes: frozenset[str]
    covered_diagnoses: tuple[str, ...]
    ptp_table: Path | None = None
    muscle_vocabulary: Path | None = None
    drug_vocabulary: Path | None = None
    payer_id: str | None = None
    payers: Mapping[str, Policy] = field(
        default_factory=lambda: MappingProxyType({}), hash=False, repr=False
    )

    def __post_init__(self) -> None:
        unknown = self.disabled_rules - set(RULE_CODES)
        if unknown:
            raise PolicyError(f"unknown rule code(s): {', '.join(sorted(unknown))}")

    @classmethod
    def default(cls) -> Policy:
        """The shipped defaults (``schemas/policy.defaults.json``)."""
        return cls.load(None)

    @classmethod
    def load(cls, path: Path | None) -> Policy:
        """Read a policy file (``.json`` or ``.toml``) over the defaults; ``None`` = defaults."""
        if path is None:
            return cls.from_mapping({}, origin="defaults")
        return cls.from_mapping(_read_policy_file(path), origin=str(path), base_dir=path.parent)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, origin: str = "policy", base_dir: Path | None = None
    ) -> Policy:
        """Validate ``data`` (a parsed policy file) and merge it over the defaults.

        ``origin`` names the source in error messages; ``base_dir`` anchors relative paths.
        """
        _check(data, origin)
        defaults = _shipped_defaults()
        top = _merge(defaults, data)
        payers = {
            str(payer): _build(_merge(top, override), base_dir, payer_id=str(payer))
            for payer, override in dict(data.get("payers", {})).items()
        }
        return _build(top, base_dir, payer_id=None, payers=payers)

    def for_payer(self, payer_id: str) -> Policy:
        """The effective policy for claims to ``payer_id`` (2010BB NM109): self if no override."""
        return self.payers.get(payer_id.strip(), self)

    def rule_enabled(self, code: str) -> bool:
        """Whether rule ``code`` runs; an unknown code is a programming error and raises."""
        if code not in RULE_CODES:
            raise PolicyError(f"unknown rule code {code!r}; known codes: {', '.join(RULE_CODES)}")
        return code not in self.disabled_rules

    def is_medicare(self, claim_filing_indicator: str) -> bool:
        """Whether SBR09 makes the claim a Medicare claim (TPI009, TPI016)."""
        return claim_filing_indicator.strip().upper() in self.medicare_payer_codes


def _read_policy_file(path: Path) -> Mapping[str, Any]:
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise PolicyError(f"{path}: policy file must end in .json or .toml, found {suffix!r}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc.strerror or exc}") from None
    try:
        data: Any = tomllib.loads(raw.decode()) if suffix == ".toml" else json.loads(raw)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid {suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: expected an object (table) at the top level")
    return data


def _check(data: Mapping[str, Any], origin: str) -> None:
    try:
        problems = schema_problems(dict(data), _SCHEMA)
    except DataFileError as exc:
        raise PolicyError(f"policy schema unusable: {exc}") from None
    if problems:
        raise PolicyError(f"{origin}: " + "; ".join(problems))


def _shipped_defaults() -> Mapping[str, Any]:
    try:
        path = schema_file(_DEFAULTS)
        data = read_json(path)
    except DataFileError as exc:
        raise PolicyError(f"policy defaults unusable: {exc}") from None
    _check(data, str(path))
    missing = [key for key in _setting_keys() if key not in data]
    if missing:
        raise PolicyError(f"{path}: defaults must set every key; missing: {', '.join(missing)}")
    return {key: value for key, value in data.items() if key not in ("$schema", "payers")}


def _setting_keys() -> tuple[str, ...]:
    return (
        "rules",
        "muscle_shortfall",
        "em_without_25",
        "drug_line_missing",
        "medicare_payer_codes",
        "covered_diagnoses",
        *_PATH_KEYS,
    )


def _merge(base: Mapping[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key in _setting_keys():
        if key not in layer:
            continue
        if key == "rules":
            merged["rules"] = {**base.get("rules", {}), **layer["rules"]}
        else:
            merged[key] = layer[key]
    return merged


def _build(
    settings: Mapping[str, Any],
    base_dir: Path | None,
    *,
    payer_id: str | None,
    payers: Mapping[str, Policy] | None = None,
) -> Policy:
    rules: Mapping[str, bool] = settings["rules"]
    return Policy(
        disabled_rules=frozenset(code for code, on in rules.items() if not on),
        muscle_shortfall=MuscleShortfall(settings["muscle_shortfall"]),
        em_without_25=RejectOrWarn(settings["em_without_25"]),
        drug_line_missing=RejectOrWarn(settings["drug_line_missing"]),
        medicare_payer_codes=frozenset(settings["medicare_payer_codes"]),
        covered_diagnoses=_normalized_patterns(settings["covered_diagnoses"]),
        ptp_table=_path(settings["ptp_table"], base_dir),
        muscle_vocabulary=_path(settings["muscle_vocabulary"], base_dir),
        drug_vocabulary=_path(settings["drug_vocabulary"], base_dir),
        payer_id=payer_id,
        payers=MappingProxyType(dict(payers or {})),
    )


def _normalized_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    """Upper case, no decimal point: the form HI carries (``M79.1*`` -> ``M791*``)."""
    return tuple(pattern.replace(".", "").upper() for pattern in patterns)


def _path(value: str | None, base_dir: Path | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path.resolve()
