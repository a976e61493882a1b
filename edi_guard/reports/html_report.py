"""The HTML report: one self-contained page a biller reads (no script, no external asset).

Top of the page: the counts, then the Medicare amount at stake by place of service for
rejected or warned TPI claims (from the fee table, ``schemas/fees.json``). Then the claims
with findings (rejected, corrected or warned), each finding with its rule, outcome, line,
277CA code and message; then the claims accepted without findings; then the source of every
rule named. Rows are written to spools as outcomes arrive and copied under the summary at
:meth:`HtmlReportWriter.finish`, so memory stays flat. ``max_rows`` caps each claims table
(the page says how many rows it left out; the JSON report has them all).

Everything from the input or the rules is escaped (``html.escape``, quotes included) and
stripped of characters HTML cannot carry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from html import escape
from tempfile import SpooledTemporaryFile
from typing import Any, BinaryIO, TextIO

from edi_guard.outcome import ClaimOutcome, Summary
from edi_guard.reports._common import AmountAtStake, TextBatch, money, text_writer, xml_text
from edi_guard.reports._protocol import ReportWriter
from edi_guard.reports._records import (
    ClaimEntry,
    ClaimRecord,
    FindingRecord,
    StakeTotals,
    claim_entry,
)
from edi_guard.vocab import Fee, amount_at_stake

DEFAULT_MAX_ROWS = 10_000
_SPOOL_MEMORY = 1 << 20
_COPY_CHUNK = 1 << 16

_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#1d2330}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.8em 0 .5em}
.meta{color:#555;font-size:.9em;word-break:break-all}
table{border-collapse:collapse;margin:.3em 0}
th,td{border:1px solid #cfd4dc;padding:.3em .55em;text-align:left;vertical-align:top}
th{background:#eef1f5}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:.8em}
.card{border:1px solid #cfd4dc;border-radius:6px;padding:.6em 1em;min-width:8em}
.card b{display:block;font-size:1.5em}
.status{font-weight:600;padding:0 .4em;border-radius:4px}
.accepted{background:#e3f4e6;color:#1c6b2c}.corrected{background:#e5eefb;color:#1f4f99}
.rejected{background:#fbe4e4;color:#9a1c1c}
.reject{color:#9a1c1c}.correct{color:#1f4f99}.warn{color:#8a5a00}
ul.findings{margin:0;padding-left:1.1em}.note,.src{color:#555;font-size:.9em}
"""


class HtmlReportWriter(ReportWriter):
    """Stream the HTML report to ``sink`` (text or binary; binary gets UTF-8)."""

    def __init__(
        self,
        sink: TextIO | BinaryIO,
        *,
        file_name: str,
        sha256_provider: Callable[[], str] | None = None,
        extra: Callable[[], Mapping[str, Any]] | None = None,
        fees: AmountAtStake = amount_at_stake,
        max_rows: int | None = DEFAULT_MAX_ROWS,
    ) -> None:
        self._write = text_writer(sink)
        self._file_name = file_name
        self._sha256 = sha256_provider
        self._extra = extra
        self._stake = StakeTotals(fees)
        self._max_rows = max_rows
        self._findings_rows = _RowSpool()
        self._clean_rows = _RowSpool()
        self._findings_count = 0
        self._clean_count = 0
        self._sources: dict[str, str] = {}
        """Rule code -> source: bounded by the catalog, not by the claims."""
        self._finished = False

    def add(self, outcome: ClaimOutcome) -> None:
        self.add_entry(claim_entry(outcome, self._stake.fees))

    def add_entry(self, entry: ClaimEntry) -> None:
        """:meth:`add` for a claim whose record is already built (shared by the writers)."""
        if self._finished:
            raise RuntimeError("HtmlReportWriter.add after finish")
        self._stake.count(entry)
        record = entry.record
        for finding in record["findings"]:
            if finding["source"]:
                self._sources.setdefault(finding["rule"], finding["source"])
        if record["findings"] or record["status"] != "accepted":
            self._findings_count += 1
            if self._max_rows is None or self._findings_count <= self._max_rows:
                self._findings_rows.write(_finding_row(record))
        else:
            self._clean_count += 1
            if self._max_rows is None or self._clean_count <= self._max_rows:
                self._clean_rows.write(_clean_row(record))

    def close(self) -> None:
        """Release the spools without writing (the run failed); safe after ``finish``."""
        self._findings_rows.close()
        self._clean_rows.close()

    def finish(self, summary: Summary) -> bool:
        if self._finished:
            raise RuntimeError("HtmlReportWriter.finish called twice")
        self._finished = True
        try:
            write = self._write
            write(self._head(summary))
            write(self._stake_section())
            write(
                "<h2>Claims with findings</h2>\n"
                + _table_start(
                    (
                        "#",
                        "Claim id (CLM01)",
                        "Set (ST02)",
                        "Status",
                        "Charge in",
                        "Charge out",
                        "Findings",
                    )
                )
            )
            self._findings_rows.copy_to(write)
            write("</tbody></table>\n" + self._left_out(self._findings_count))
            write(
                "<h2>Claims accepted without findings</h2>\n"
                + _table_start(("#", "Claim id (CLM01)", "Set (ST02)", "Charge"))
            )
            self._clean_rows.copy_to(write)
            write("</tbody></table>\n" + self._left_out(self._clean_count))
            write(self._sources_section())
            write(self._extra_section())
            write("</body>\n</html>\n")
        finally:
            self._findings_rows.close()
            self._clean_rows.close()
        return True

    # ------------------------------------------------------------------ sections

    def _head(self, summary: Summary) -> str:
        name = _h(self._file_name)
        digest = f"<br>SHA-256 {_h(self._sha256())}" if self._sha256 is not None else ""
        counts = [
            ("Claims in", str(summary.claims_in)),
            ("Accepted", str(summary.claims_accepted)),
            ("Corrected", str(summary.claims_corrected)),
            ("Rejected", str(summary.claims_rejected)),
            ("Charges in", "$" + money(summary.charge_in)),
            ("Charges sent", "$" + money(summary.charge_out)),
            ("Charges rejected", "$" + money(summary.charge_rejected)),
            ("Dropped by corrections", "$" + money(summary.charge_dropped)),
        ]
        if summary.sets_in:
            counts.append(("Transaction sets", str(summary.sets_in)))
        if summary.sets_rejected:
            counts.append(("Sets rejected (999)", str(summary.sets_rejected)))
        if summary.interchanges_rejected:
            counts.append(("Interchanges rejected (TA1)", str(summary.interchanges_rejected)))
        cards = "".join(
            f'<div class="card" data-count="{_h(label)}">{_h(label)}<b>{_h(value)}</b></div>'
            for label, value in counts
        )
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>edi_guard claim report: {name}</title>\n<style>{_STYLE}</style>\n"
            "</head>\n<body>\n"
            f'<h1>Claim report: {name}</h1>\n<p class="meta">{name}{digest}</p>\n'
            f'<h2>Counts</h2>\n<div class="cards">{cards}</div>\n'
        )

    def _stake_section(self) -> str:
        records = self._stake.records()
        out = ["<h2>Medicare amount at stake by place of service</h2>\n"]
        if not records:
            out.append('<p class="note">No rejected or warned TPI claim.</p>\n')
            return "".join(out)
        out.append(
            _table_start(
                ("Place of service", "Setting", "Claims", "Per claim", "At stake", "Basis")
            )
        )
        for record in records:
            rate = "$" + record["rate"] if record["rate"] is not None else "no rate"
            flag = " (unverified)" if record["verified"] is False else ""
            out.append(
                "<tr>"
                f"<td>{_h(record['place_of_service'])}</td><td>{_h(record['setting'])}</td>"
                f'<td class="num">{record["claims"]}</td><td class="num">{_h(rate)}</td>'
                f'<td class="num">${_h(record["amount"])}</td>'
                f"<td>{_h(record['basis'] + flag)}</td></tr>\n"
            )
        out.append(
            f'<tr><th colspan="4">Total</th><th class="num">${money(self._stake.total())}</th>'
            "<th></th></tr>\n</tbody></table>\n"
        )
        sources = sorted({f"{fee.source} ({fee.year})" for fee in _fees(self._stake)})
        if sources:
            out.append(f'<p class="note">Rates: {_h("; ".join(sources))}.</p>\n')
        return "".join(out)

    def _left_out(self, count: int) -> str:
        if self._max_rows is None or count <= self._max_rows:
            return ""
        return (
            f'<p class="note">{count - self._max_rows} more claims not shown; '
            "the JSON and XML reports list every claim.</p>\n"
        )

    def _sources_section(self) -> str:
        if not self._sources:
            return ""
        rows = "".join(
            f"<tr><td>{_h(rule)}</td><td>{_h(source)}</td></tr>\n"
            for rule, source in sorted(self._sources.items())
        )
        return (
            "<h2>Rule sources</h2>\n"
            + _table_start(("Rule", "Source"))
            + rows
            + "</tbody></table>\n"
        )

    def _extra_section(self) -> str:
        if self._extra is None:
            return ""
        items = self._extra()
        if not items:
            return ""
        rows = "".join(
            f"<tr><th>{_h(str(key))}</th><td>{_h(_plain(value))}</td></tr>\n"
            for key, value in items.items()
        )
        return "<h2>Processing</h2>\n<table><tbody>\n" + rows + "</tbody></table>\n"


def _finding_row(record: ClaimRecord) -> str:
    status = record["status"]
    findings = "".join(_finding_item(f) for f in record["findings"])
    return (
        f'<tr><td class="num">{record["position"]}</td><td>{_h(record["claim_id"])}</td>'
        f"<td>{_h(record['st_control'])}</td>"
        f'<td><span class="status {status}">{status}</span></td>'
        f'<td class="num">${record["charge_in"]}</td><td class="num">${record["charge_out"]}</td>'
        f'<td><ul class="findings">{findings}</ul></td></tr>\n'
    )


def _finding_item(finding: FindingRecord) -> str:
    outcome = finding["outcome"]
    line = f" line {_h(finding['line'])}" if finding["line"] is not None else ""
    stc = f" [{_h(', '.join(finding['stc_codes']))}]" if finding["stc_codes"] else ""
    source = f' <span class="src">({_h(finding["source"])})</span>' if finding["source"] else ""
    return (
        f'<li><b>{_h(finding["rule"])}</b> <span class="{outcome}">{outcome}</span>'
        f"{line}{stc}: {_h(finding['message'])}{source}</li>"
    )


def _clean_row(record: ClaimRecord) -> str:
    return (
        f'<tr><td class="num">{record["position"]}</td><td>{_h(record["claim_id"])}</td>'
        f'<td>{_h(record["st_control"])}</td><td class="num">${record["charge_in"]}</td></tr>\n'
    )


def _table_start(headers: Iterable[str]) -> str:
    cells = "".join(f"<th>{_h(header)}</th>" for header in headers)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>\n"


def _fees(stake: StakeTotals) -> Iterable[Fee]:
    return (row.fee for row in stake.rows.values() if row.fee is not None)


def _plain(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_plain(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_plain(item)}" for key, item in value.items())
    return str(value)


def _h(value: str) -> str:
    return escape(xml_text(value), quote=True)


class _RowSpool:
    """Rows spooled in batches: a text spool's write costs more than building a row."""

    def __init__(self) -> None:
        self._spool = _new_spool()
        self._batch = TextBatch(self._spool.write)

    def write(self, row: str) -> None:
        self._batch.add(row)

    def copy_to(self, write: Callable[[str], object]) -> None:
        self._batch.flush()
        spool = self._spool
        spool.seek(0)
        while chunk := spool.read(_COPY_CHUNK):
            write(chunk)

    def close(self) -> None:
        self._batch.discard()
        self._spool.close()


def _new_spool() -> SpooledTemporaryFile[str]:
    # Not a context manager: a spool lives from __init__ to finish, which closes it.
    return SpooledTemporaryFile(_SPOOL_MEMORY, mode="w+", encoding="utf-8")
