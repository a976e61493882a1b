"""structlog set-up for the adapters (CLI, watcher). The core never configures logging.

Events are snake_case past tense (``file_processed``, ``claim_rejected``) with keys for
counts, rule codes and positions. Patient data never goes into an event: callers pass
positions and codes, and this processor drops any key that names an identity field, as a
second line of defence.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

FORBIDDEN_KEYS = frozenset(
    {
        "claim_id",
        "clm01",
        "name",
        "first_name",
        "last_name",
        "member_id",
        "birth_date",
        "dob",
        "address",
        "diagnosis",
        "diagnoses",
        "patient",
        "subscriber",
    }
)


def _drop_identity(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in FORBIDDEN_KEYS.intersection(event):
        event[key] = "[redacted]"
    return event


def configure(fmt: Literal["json", "console"] = "console", *, level: int = logging.INFO) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_identity,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
