"""Version 2: interchanges seen (duplicate detection) and our own control numbers.

- ``edi_guard_interchanges``: one row per (sender, ISA13) taken for processing. ``state`` is
  ``processing`` while a live run holds it (the row goes with the run if the run dies) and
  ``accepted`` once its interchange went out; a rejected interchange's row is deleted, so
  that a corrected resend is processed. Sender ids are trading-partner ids, not patient data.
- ``edi_guard_control_numbers``: the last ISA13/GS06 we used per receiver, so every TA1, 999
  and 277CA we write carries a unique, increasing number, across runs and workers.
"""

from __future__ import annotations

NAME = "interchanges and control numbers"

_INTERCHANGES = """CREATE TABLE edi_guard_interchanges (
        sender TEXT NOT NULL,
        control TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('processing', 'accepted')),
        run_id TEXT REFERENCES edi_guard_runs (run_id) ON DELETE CASCADE,
        seen_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (sender, control),
        CHECK ((state = 'processing') = (run_id IS NOT NULL))
    )"""

SQLITE: tuple[str, ...] = (
    _INTERCHANGES,
    """CREATE TABLE edi_guard_control_numbers (
        receiver TEXT PRIMARY KEY,
        last INTEGER NOT NULL
    )""",
)

POSTGRESQL: tuple[str, ...] = (
    _INTERCHANGES,
    """CREATE TABLE edi_guard_control_numbers (
        receiver TEXT PRIMARY KEY,
        last BIGINT NOT NULL
    )""",
)
