"""``make demo``: run the main job (``fix``) on the shipped fixtures and say what happened.

Uses the in-memory history (nothing to set up, no server) and writes to ./demo-out.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from edi_guard import logs
from edi_guard.api import process
from edi_guard.history.store import HistoryStore, open_store
from edi_guard.outcome import ClaimOutcome

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "demo"
OUT = Path.cwd() / "demo-out"


def _describe(outcome: ClaimOutcome) -> str:
    # The demo prints CLM01: it is the submitter's own report, shown on their terminal.
    head = f"  claim {outcome.position} ({outcome.claim_id}): {outcome.status}"
    lines = [head]
    for finding in outcome.findings:
        where = f" line {finding.line}" if finding.line else ""
        stc = f" [{', '.join(finding.stc)}]" if finding.stc else ""
        lines.append(f"    {finding.rule} {finding.outcome.value}{where}{stc}: {finding.message}")
    return "\n".join(lines)


def main() -> int:
    logs.configure("console")
    inputs = sorted(FIXTURES.glob("*.x12"))
    if not inputs:
        print(f"no fixtures found in {FIXTURES}", file=sys.stderr)
        return 2
    # The embedded SQLite history lives with the outputs; each demo starts afresh.
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    history = open_store(f"sqlite://{OUT / 'history.sqlite3'}")
    try:
        _run(inputs, history, OUT)
        print(f"\nThe same file sent again ({inputs[0].name}), as a retrying uploader would:")
        _run(inputs[:1], history, OUT / "resent")
    finally:
        history.close()
    print(f"\nOutputs are in {OUT}")
    return 0


def _run(inputs: list[Path], history: HistoryStore, out: Path) -> None:
    for path in inputs:
        print(f"{path.relative_to(REPO)}:")
        result = process(path, out_dir=out, history=history, on_claim=lambda o: print(_describe(o)))
        s = result.summary
        print(
            f"  => {s.claims_in} claims: {s.claims_accepted} accepted, "
            f"{s.claims_corrected} corrected, {s.claims_rejected} rejected; "
            f"${s.charge_out} of ${s.charge_in} goes out, ${s.charge_rejected} held back"
        )
        for message in result.messages:
            print(f"  {message}")
        for written in result.written:
            print(f"  wrote {written}")


if __name__ == "__main__":
    raise SystemExit(main())
