"""The history key: the secret under which beneficiary and claim identities are hashed.

rules.md: the history stores only a keyed hash (HMAC-SHA256) of the beneficiary key, never
the member id, names or birth date. Whoever holds the database without the key cannot test a
guess ("is member 1EG4TE5MK72 in there?"), so the key never goes into the database.

Where the key comes from, first found wins:

1. the ``key`` given to :func:`edi_guard.history.store.open_store` (configuration);
2. the environment variable ``EDI_GUARD_HISTORY_KEY`` (any secret string of at least 16
   characters; ``python -c "import secrets; print(secrets.token_hex(32))"`` makes a good one);
3. for a SQLite history only: a key file beside the database (``history.sqlite3`` ->
   ``history.key``), generated once from 32 random bytes and written with mode 0600. A key
   file readable by group or others is refused, as ssh refuses such a private key.

A PostgreSQL history is shared by several workers, which must all hash with the same key: it
takes the key from configuration or the environment only.

The database keeps a *key check* (an HMAC of a fixed text under the key) so that opening it
with another key fails loudly instead of silently starting an empty history.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from edi_guard.errors import HistoryError

ENV_KEY = "EDI_GUARD_HISTORY_KEY"
MIN_KEY_BYTES = 16
KEY_FILE_BYTES = 32
KEY_FILE_MODE = 0o600
_KEY_CHECK_TEXT = b"edi-guard history key check v1"


def key_file_for(database: Path) -> Path:
    """The key file beside a SQLite database: ``history.sqlite3`` -> ``history.key``."""
    return database.with_suffix(".key")


def key_from_environment(environ: Mapping[str, str] | None = None) -> bytes | None:
    """``EDI_GUARD_HISTORY_KEY`` as bytes, None when unset or empty."""
    value = (os.environ if environ is None else environ).get(ENV_KEY, "")
    if not value:
        return None
    return checked_key(value.encode("utf-8"), where=ENV_KEY)


def checked_key(key: bytes, *, where: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise HistoryError(
            f"the history key from {where} is {len(key)} bytes long; expected at least "
            f"{MIN_KEY_BYTES} (for example 64 hex digits from secrets.token_hex(32))"
        )
    return key


def resolve_key(
    explicit: bytes | None,
    *,
    key_file: Path | None,
    environ: Mapping[str, str] | None = None,
    backend: str,
) -> bytes:
    """The key to hash with: configuration, else the environment, else the key file."""
    if explicit is not None:
        return checked_key(explicit, where="the configuration")
    from_environment = key_from_environment(environ)
    if from_environment is not None:
        return from_environment
    if key_file is None:
        raise HistoryError(
            f"a {backend} history needs its key from the configuration or from {ENV_KEY} "
            "(every worker sharing the history must use the same key)"
        )
    return load_or_create_key_file(key_file)


def load_or_create_key_file(path: Path) -> bytes:
    """Read the key file, or create it (mode 0600, atomically: racing creators agree)."""
    if not path.exists():
        _create_key_file(path)
    try:
        info = path.stat()
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise HistoryError(f"cannot read the history key file {path}: {error}") from None
    if info.st_mode & 0o077:
        raise HistoryError(
            f"the history key file {path} is readable by others (mode "
            f"{stat.S_IMODE(info.st_mode):04o}); expected 0600: chmod 600 it"
        )
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise HistoryError(
            f"the history key file {path} does not hold hex digits; expected "
            f"{KEY_FILE_BYTES * 2} of them"
        ) from None
    return checked_key(key, where=str(path))


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(KEY_FILE_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # link() fails when the name exists: of two processes creating at once, one wins
        # and the other reads the winner's key.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def key_check(key: bytes) -> str:
    """What the database keeps to recognise its key (reveals nothing of the key)."""
    return hmac.new(key, _KEY_CHECK_TEXT, hashlib.sha256).hexdigest()


def verify_key_check(key: bytes, stored: str, *, where: str) -> None:
    if not hmac.compare_digest(key_check(key), stored):
        raise HistoryError(
            f"the history key does not match the one {where} was created with; the key "
            f"comes from the configuration, {ENV_KEY}, or the key file beside a SQLite "
            "history: use the original key (a new key would start an empty history)"
        )
