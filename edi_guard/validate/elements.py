"""Element, composite and segment checks, ported from pyx12 4.0.0 with the same outcomes.

``check_segment`` mirrors ``segment_if.is_valid_errors`` (and the element and composite
validators it calls): the same error codes, in the same order, for the same inputs. Where
pyx12 crashes on an input (too many components in a composite, an RD8 value with two
dashes) we report the error it meant to report instead; those cases are listed in
tests/validator_known_differences.tsv.

Messages never contain element values (they may be patient data); the offending value is
carried separately, for IK404 in the 999 only.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from edi_guard.validate.compiler import CompositeSpec, ElementSpec, SegNode

_N = re.compile(r"-?[0-9]+", re.S | re.ASCII)
_R = re.compile(r"-?[0-9]*(\.[0-9]+)?", re.S | re.ASCII)
_ID_E5 = re.compile(r"""[^A-Z0-9!"&'()*+,\-\./:;?= a-z%~@\[\]_{}\\|<>^`#$]""", re.S | re.ASCII)
_NOT_DIGIT = re.compile(r"[^0-9]+", re.S | re.ASCII)
_CONTROL = {
    "\x07": "BEL", "\x09": "HT", "\x0a": "LF", "\x0b": "VT", "\x0c": "FF", "\x0d": "CR",
    "\x1c": "FS", "\x1d": "GS", "\x1e": "RS", "\x1f": "US", "\x01": "SOH", "\x02": "STX",
    "\x03": "ETX", "\x04": "EOT", "\x05": "ENQ", "\x06": "ACK", "\x11": "DC1", "\x12": "DC2",
    "\x13": "DC3", "\x14": "DC4", "\x15": "NAK", "\x16": "SYN", "\x17": "ETB",
}  # fmt: skip
_CONTROL_RE = re.compile("[" + "".join(re.escape(c) for c in _CONTROL) + "]")
DATE_TYPES = ("RD8", "DT", "D8", "D6")


class ElementError(NamedTuple):
    """One finding of ``check_segment``.

    ``spec`` is the element (or component) at fault; None for segment-level findings (too
    many elements, a composite missing or not used, a syntax rule), which pyx12 reports as
    IK3 code 8 without an IK4.
    """

    code: str
    spec: ElementSpec | None
    message: str
    bad_value: str | None
    refdes: str


def _fullmatch(pattern: re.Pattern[str], value: str) -> bool:
    found = pattern.match(value)
    return found is not None and found.group(0) == value


def is_valid_time(value: str) -> bool:
    if _NOT_DIGIT.search(value):
        return False
    if value[0:2] > "23" or value[2:4] > "59":
        return False
    return len(value) <= 4 or not (len(value) < 6 or value[4:6] > "59" or len(value) > 8)


def is_valid_date(data_type: str, value: str) -> bool:
    if (data_type == "D8" and len(value) != 8) or (data_type == "D6" and len(value) != 6):
        return False
    if _NOT_DIGIT.search(value) or len(value) not in (6, 8, 12):
        return False
    if len(value) == 6:
        value = ("20" if int(value[0:2]) < 50 else "19") + value
    year, month, day = int(value[0:4]), int(value[4:6]), int(value[6:8])
    if year < 1800 or month < 1 or month > 12:
        return False
    if month in (1, 3, 5, 7, 8, 10, 12):
        last = 31
    elif month in (4, 6, 9, 11):
        last = 30
    elif not year % 4 and not (not year % 100 and year % 400):
        last = 29
    else:
        last = 28
    if day < 1 or day > last:
        return False
    return not (len(value) == 12 and not is_valid_time(value[8:12]))


def is_valid_data_type(value: str, data_type: str) -> bool:
    """pyx12's ``IsValidDataType`` with the extended 00501 character set."""
    if not data_type:
        return True
    if data_type[0] == "N":
        return _fullmatch(_N, value)
    if data_type == "R":
        return _fullmatch(_R, value)
    if data_type in ("ID", "AN"):
        return _ID_E5.search(value) is None
    if data_type == "RD8":
        parts = value.split("-")
        # pyx12 raises ValueError on more than one dash; that is simply not a valid range.
        return len(parts) == 2 and is_valid_date("D8", parts[0]) and is_valid_date("D8", parts[1])
    if data_type in ("DT", "D8", "D6"):
        return is_valid_date(data_type, value)
    if data_type == "TM":
        return is_valid_time(value)
    return data_type == "B"


def check_element(
    spec: ElementSpec, value: str | None, components: int, type_list: tuple[str, ...] = ()
) -> list[ElementError]:
    """``element_if.is_valid_errors``: ``components`` > 1 means a composite was sent."""
    ref = spec.refdes
    if components > 1:
        return [ElementError("6", spec, f"{ref} is sent as a composite", value, ref)]
    if not value:
        if spec.usage in ("N", "S"):
            return []
        if spec.usage == "R" and (
            spec.seq != 1 or not spec.in_composite or spec.composite_usage == "R"
        ):
            return [ElementError("1", spec, f"{ref} is required and missing", None, ref)]
        return []
    if spec.usage == "N":
        return [ElementError("10", spec, f"{ref} is marked not used", None, ref)]
    errors: list[ElementError] = []
    data_type = spec.data_type
    measured = value
    if data_type == "R" or data_type[:1] == "N":
        measured = value.replace("-", "").replace(".", "")
    length = len(measured)
    if length < spec.min_len:
        errors.append(
            ElementError("4", spec, f"{ref} is too short (minimum {spec.min_len})", value, ref)
        )
    if length > spec.max_len:
        errors.append(
            ElementError("5", spec, f"{ref} is too long (maximum {spec.max_len})", value, ref)
        )
    control = _CONTROL_RE.search(value)
    if control is not None:
        name = next(f"<{n}>" for c, n in _CONTROL.items() if c in value)
        errors.append(ElementError("6", spec, f"{ref} contains a control character", name, ref))
        return errors
    if data_type in ("AN", "ID") and value[-1] == " " and len(value.rstrip()) >= spec.min_len:
        errors.append(ElementError("6", spec, f"{ref} has trailing spaces", value, ref))
    codes = spec.codes
    if codes is not None and value not in codes:
        errors.append(ElementError("7", spec, f"{ref} is not a valid code", value, ref))
    if not is_valid_data_type(value, data_type):
        if data_type in DATE_TYPES:
            errors.append(ElementError("8", spec, f"{ref} is not a valid date", value, ref))
        elif data_type == "TM":
            errors.append(ElementError("9", spec, f"{ref} is not a valid time", value, ref))
        else:
            errors.append(
                ElementError(
                    "6", spec, f"{ref} has a character not allowed in type {data_type}", value, ref
                )
            )
    if type_list and not any(is_valid_data_type(value, t) for t in type_list if t):
        if "TM" in type_list:
            errors.append(ElementError("9", spec, f"{ref} is not a valid time", value, ref))
        elif any(t in type_list for t in DATE_TYPES):
            errors.append(ElementError("8", spec, f"{ref} is not a valid date", value, ref))
    if spec.regex is not None and re.search(spec.regex, value, re.S) is None:
        errors.append(
            ElementError("7", spec, f"{ref} does not have the required format", value, ref)
        )
    return errors


def _format_composite(value: str, separator: str) -> str:
    """pyx12 ``Composite.format``: trailing empty components dropped."""
    return value.rstrip(separator) if separator in value else value


def check_composite(spec: CompositeSpec, value: str | None, separator: str) -> list[ElementError]:
    """``composite_if.is_valid_errors``."""
    parts = value.split(separator) if value is not None else None
    empty = parts is None or all(not p for p in parts)
    if empty and spec.usage in ("N", "S"):
        return []
    if spec.usage == "R" and empty:
        return [
            ElementError("1", None, f"{spec.refdes} is required and missing", None, spec.refdes)
        ]
    assert parts is not None
    if spec.usage == "N":
        return [ElementError("5", None, f"{spec.refdes} is marked not used", None, spec.refdes)]
    errors: list[ElementError] = []
    children = spec.children
    if len(parts) > len(children):
        errors.append(
            ElementError("3", None, f"{spec.refdes} has too many components", None, spec.refdes)
        )
    shared = min(len(parts), len(children))
    for i in range(shared):
        errors += check_element(children[i], parts[i], 1)
    for i in range(shared, len(children)):
        errors += check_element(children[i], None, 1)
    return errors


def check_syntax(rule: str, indexes: tuple[int, ...], present: list[bool], tag: str) -> str | None:
    """``pyx12.syntax.is_syntax_valid``: None when satisfied, else a message."""
    count = sum(1 for i in indexes if present[i])
    names = ", ".join(f"{tag}{i:02d}" for i in indexes)
    if rule == "P":
        if count not in (0, len(indexes)):
            return f"if any of {names} is present, all are required"
    elif rule == "R":
        if count == 0:
            return f"at least one of {names} is required"
    elif rule == "E":
        if count > 1:
            return f"at most one of {names} may be present"
    elif rule == "C" and present[indexes[0]]:
        if sum(1 for i in indexes[1:] if present[i]) != len(indexes) - 1:
            return f"if {tag}{indexes[0]:02d} is present, {names} are required"
    elif rule == "L" and present[indexes[0]] and not any(present[i] for i in indexes[1:]):
        return f"if {tag}{indexes[0]:02d} is present, one of the others in {names} is required"
    return None


def check_segment(
    node: SegNode, elements: tuple[str, ...] | list[str], component: str
) -> list[ElementError]:
    """``segment_if.is_valid_errors`` over ``elements`` (elements[0] is the tag)."""
    errors: list[ElementError] = []
    tag = node.id
    children = node.children
    count = len(elements) - 1
    child_count = len(children)
    is_isa = tag == "ISA"
    if count > child_count:
        ref = f"{child_count + 1:02d}"
        errors.append(
            ElementError(
                "3", None, f"{tag} has {count} elements, at most {child_count} are defined",
                elements[child_count + 1], ref,
            )
        )  # fmt: skip
    dtype: tuple[str, ...] = ()
    type_list: list[str] = []
    for i in range(min(count, child_count)):
        child = children[i]
        value = elements[i + 1]
        if isinstance(child, CompositeSpec):
            parts = 1 if is_isa else value.count(component) + 1
            if parts > len(child.children) and child.usage != "N":
                # pyx12 raises IndexError here; the composite check below reports it.
                pass
            errors += check_composite(child, value, component if not is_isa else "\x00")
            continue
        if i == 1 and tag == "DTP" and value in ("RD8", "D8", "D6", "DT", "TM"):
            dtype = (value,)
        if child.data_ele == "1250":
            type_list.extend(child.code_list)
        parts = 1 if is_isa or component not in value else value.count(component) + 1
        shown = _format_composite(value, component) if parts > 1 else value
        if i == 2 and tag == "DTP":
            errors += check_element(child, shown, parts, dtype)
        elif child.data_ele == "1251" and type_list:
            errors += check_element(child, shown, parts, tuple(type_list))
        else:
            errors += check_element(child, shown, parts)
    for i in range(min(count, child_count), child_count):
        child = children[i]
        if isinstance(child, CompositeSpec):
            errors += check_composite(child, None, component)
        else:
            errors += check_element(child, None, 1)
    if node.syntax:
        present = [False] * (max(child_count, count) + 2)
        for i in range(1, count + 1):
            value = elements[i]
            if value and (component not in value or is_isa or value.strip(component)):
                present[i] = True
        for rule, indexes in node.syntax:
            if max(indexes) >= len(present):
                continue
            problem = check_syntax(rule, indexes, present, tag)
            if problem is not None:
                code = "10" if rule == "E" else "2"
                errors.append(
                    ElementError(code, None, f"{tag}: {problem}", None, f"{indexes[0]:02d}")
                )
    return errors
