"""The 999 (005010X231A1) for a validation result: AK1, AK2, IK3, IK4, IK5, AK9.

One interchange, one FA group, one 999 transaction set per received functional group (as
pyx12 lays it out). IK3/IK4 reproduce pyx12's error tree: one IK3 per code of each error
segment record (IK304 8 added when its elements have errors), one IK4 per element error code.
IK404 copies the bad value only when it is printable ASCII without delimiters (max 99).
Unlike pyx12, GS08 is 005010X231A1, control numbers come from the caller, and no TA1 is put
inside: TA1s are written by ``write_ta1`` as interchanges of their own.
"""

from __future__ import annotations

from datetime import datetime

from edi_guard.acks.envelope import (
    Party,
    check_control_number,
    echo,
    iea,
    isa,
    safe_value,
    segment,
)
from edi_guard.validate.model import (
    IK3_CODES,
    IK4_CODES,
    GroupVerdict,
    SetVerdict,
    StructureError,
    ValidationResult,
)

X231A1 = "005010X231A1"


def _application_code(value: str, fallback: str) -> str:
    value = value.strip()
    return value if 2 <= len(value) <= 15 and safe_value(value) == value else fallback


def _ik3_lines(verdict: SetVerdict) -> list[str]:
    lines: list[str] = []
    records: dict[int, list[StructureError]] = {}
    for error in verdict.errors:
        if error.level in ("segment", "element"):
            records.setdefault(error.group, []).append(error)
    for errors in records.values():
        first = errors[0]
        segment_id = safe_value(first.segment_id[:3]) or ""
        if len(segment_id) < 2 or not segment_id.isalnum():
            continue  # no IK301 to name (an empty or garbled segment id): IK5 still says R
        codes: list[str] = []
        for error in errors:
            if error.level == "segment":
                code = "8" if error.code == "SEG1" else error.code
                if code not in codes:
                    codes.append(code)
        has_elements = any(e.level == "element" for e in errors)
        ik3 = [c for c in codes if c in IK3_CODES]
        if has_elements and "8" not in codes:
            ik3.append("8")
        for code in sorted(ik3):
            lines.append(segment("IK3", segment_id, str(first.position_in_set), "", code))
        for error in errors:
            if error.level != "element" or error.code not in IK4_CODES:
                continue
            position = str(error.element_position or 0)
            if error.component_position:
                position += f":{error.component_position}"
            lines.append(
                segment("IK4", position, error.data_element or "", error.code,
                        safe_value(error.bad_value) or "")
            )  # fmt: skip
    return lines


def _group_lines(group: GroupVerdict) -> list[str]:
    lines = [
        segment("AK1", echo(group.functional_id, 2), echo(group.gs_control, 9),
                echo(group.version, 12))
    ]  # fmt: skip
    for verdict in group.sets:
        lines.append(
            segment("AK2", echo(verdict.transaction_set_id, 3), echo(verdict.st_control.strip(), 9),
                    echo(verdict.implementation_reference, 35))
        )  # fmt: skip
        lines += _ik3_lines(verdict)
        lines.append(segment("IK5", verdict.status, *verdict.ik5_codes))
    lines.append(
        segment("AK9", group.status, str(group.st_count_declared), str(group.st_count_received),
                str(group.st_count_accepted), *group.ak9_codes)
    )  # fmt: skip
    return lines


def write_999(
    result: ValidationResult,
    *,
    control_number: int,
    now: datetime,
    group_control_number: int | None = None,
    sender: Party | None = None,
    receiver: Party | None = None,
    application_sender: str | None = None,
    application_receiver: str | None = None,
) -> bytes:
    """The 999 bytes; sender/receiver default to the received ISA's receiver/sender."""
    check_control_number(control_number)
    gs06 = check_control_number(group_control_number or control_number)
    interchanges = result.interchanges
    first = interchanges[0] if interchanges else None
    groups = [g for i in interchanges for g in i.groups]
    if sender is None:
        sender = (
            Party(first.receiver_qualifier, first.receiver_id) if first else Party("ZZ", "EDIGUARD")
        )
    if receiver is None:
        receiver = (
            Party(first.sender_qualifier, first.sender_id) if first else Party("ZZ", "UNKNOWN")
        )
    first_group = groups[0] if groups else None
    gs02 = application_sender or (
        first_group.receiver if first_group else sender.identifier.strip()
    )
    gs03 = application_receiver or (
        first_group.sender if first_group else receiver.identifier.strip()
    )
    usage = first.usage if first else "P"
    out = [
        isa(sender, receiver, control_number, now, usage),
        segment("GS", "FA", _application_code(gs02, "EDIGUARD"), _application_code(gs03, "UNKNOWN"),
                now.strftime("%Y%m%d"), now.strftime("%H%M"), str(gs06), "X", X231A1),
    ]  # fmt: skip
    for number, group in enumerate(groups, 1):
        body = [segment("ST", "999", f"{number:04d}", X231A1), *_group_lines(group)]
        body.append(segment("SE", str(len(body) + 1), f"{number:04d}"))
        out += body
    out.append(segment("GE", str(len(groups)), str(gs06)))
    out.append(iea(1, control_number))
    return ("\n".join(out) + "\n").encode("ascii")
