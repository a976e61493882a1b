"""Where the history key comes from, where the default history lives, which URLs open what."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest
from history_support import KEY

from edi_guard.errors import HistoryError
from edi_guard.history.keys import ENV_KEY, key_file_for, load_or_create_key_file, resolve_key
from edi_guard.history.memory import MemoryStore
from edi_guard.history.sqlite import SqliteStore
from edi_guard.history.store import default_path, open_store, redact_url


def test_the_default_history_follows_xdg_data_home(tmp_path: Path) -> None:
    environ = {"XDG_DATA_HOME": str(tmp_path / "data")}
    assert default_path(environ) == tmp_path / "data" / "edi-guard" / "history.sqlite3"
    assert default_path({}) == Path.home() / ".local/share/edi-guard/history.sqlite3"
    assert default_path({"XDG_DATA_HOME": "relative"}).is_relative_to(Path.home())


def test_the_default_store_creates_its_key_file_with_mode_0600(tmp_path: Path) -> None:
    environ = {"XDG_DATA_HOME": str(tmp_path)}
    store = open_store(None, environ=environ)
    try:
        assert isinstance(store, SqliteStore)
        database = tmp_path / "edi-guard" / "history.sqlite3"
        key_file = key_file_for(database)
        assert key_file == tmp_path / "edi-guard" / "history.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(database.stat().st_mode) == 0o600
        assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
        first_key = store.hasher.key
    finally:
        store.close()
    again = open_store(None, environ=environ)
    try:
        assert again.hasher.key == first_key, "generated once, then reused"
    finally:
        again.close()


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.key"
    load_or_create_key_file(path)
    path.chmod(0o644)
    with pytest.raises(HistoryError, match=r"readable by others.*chmod 600"):
        load_or_create_key_file(path)


def test_a_key_file_that_is_not_hex_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.key"
    path.write_text("not a key\n")
    path.chmod(0o600)
    with pytest.raises(HistoryError, match="hex digits"):
        load_or_create_key_file(path)


def test_configuration_then_environment_then_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "history.key"
    environ = {ENV_KEY: "from-the-environment-0123456789"}
    assert resolve_key(KEY, key_file=key_file, environ=environ, backend="SQLite") == KEY
    assert resolve_key(None, key_file=key_file, environ=environ, backend="SQLite") == (
        b"from-the-environment-0123456789"
    )
    assert not key_file.exists(), "no key file when a key is given"
    generated = resolve_key(None, key_file=key_file, environ={}, backend="SQLite")
    assert len(generated) == 32
    assert key_file.exists()


def test_a_short_key_is_refused() -> None:
    with pytest.raises(HistoryError, match="at least 16"):
        resolve_key(None, key_file=None, environ={ENV_KEY: "short"}, backend="SQLite")
    with pytest.raises(HistoryError, match="at least 16"):
        resolve_key(b"short", key_file=None, environ={}, backend="SQLite")


def test_postgresql_needs_a_configured_key() -> None:
    with pytest.raises(HistoryError, match=f"PostgreSQL history needs its key.*{ENV_KEY}"):
        open_store("postgresql://nobody@127.0.0.1:1/none", environ={})


def test_a_sqlite_store_in_another_place_gets_its_own_key_file(tmp_path: Path) -> None:
    store = open_store(f"sqlite://{tmp_path / 'elsewhere' / 'h.db'}", environ={})
    store.close()
    assert (tmp_path / "elsewhere" / "h.key").exists()


def test_a_bare_path_opens_sqlite(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "bare.sqlite3"), key=KEY)
    try:
        assert store.stats().backend == "sqlite"
    finally:
        store.close()


def test_memory_and_unknown_schemes() -> None:
    assert isinstance(open_store("memory:", key=KEY), MemoryStore)
    with pytest.raises(HistoryError, match="unknown history URL scheme 'mysql'"):
        open_store("mysql://localhost/db", key=KEY)


def test_urls_in_messages_hide_their_password() -> None:
    assert redact_url("postgresql://user:secret@db:5432/h") == "postgresql://user:***@db:5432/h"
    assert redact_url("postgresql://user@db/h") == "postgresql://user@db/h"


def test_racing_creators_of_a_key_file_agree(tmp_path: Path) -> None:
    path = tmp_path / "history.key"
    context = multiprocessing.get_context("spawn")
    creators = [context.Process(target=load_or_create_key_file, args=(path,)) for _ in range(2)]
    for creator in creators:
        creator.start()
    for creator in creators:
        creator.join(60)
    assert [creator.exitcode for creator in creators] == [0, 0]
    key = load_or_create_key_file(path)
    assert load_or_create_key_file(path) == key
    assert [p.name for p in tmp_path.iterdir()] == ["history.key"], "no temporary left behind"


def test_the_keyed_hashes_never_change() -> None:
    """A history outlives releases: a beneficiary or claim hashed differently by a new
    version would no longer meet its earlier sessions. The texts hashed are fixed here
    (HMAC-SHA256 of the parts joined by US, 0x1F), computed apart from the Hasher."""
    import hashlib
    import hmac
    from datetime import date

    from edi_guard.history import Hasher

    key = b"k" * 32

    def expected(*parts: str) -> str:
        return hmac.new(key, "\x1f".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()

    hasher = Hasher(key)
    assert hasher.beneficiary_of("1EG4TE5MK72") == expected("beneficiary", "1EG4TE5MK72")
    patient = ("Doe", "Jañe", date(1950, 2, 3))
    assert hasher.beneficiary_of("W123", patient) == expected(
        "beneficiary", "W123", "DOE", "JAÑE", "1950-02-03"
    )
    assert hasher.beneficiary_of("W123", ("Doe", "Jane", None)) == expected(
        "beneficiary", "W123", "DOE", "JANE", ""
    )
    assert hasher.claim("PCN-1") == expected("claim", "PCN-1")
    assert hasher.digest("a", "b") == expected("a", "b")


@pytest.mark.parametrize("length", [16, 32, 63, 64, 65, 200])
def test_the_keyed_hash_is_hmac_sha256_for_every_key_length(length: int) -> None:
    """The Hasher computes HMAC itself (key blocks hashed once); keys longer than the
    SHA-256 block are hashed first, as RFC 2104 says."""
    import hashlib
    import hmac

    from edi_guard.history import Hasher

    key = bytes((7 * i + 3) % 256 for i in range(length))
    for text in ("", "claim\x1fA", "beneficiary\x1f" + "x" * 300, "é\x1f漢"):
        parts = text.split("\x1f")
        assert (
            Hasher(key).digest(*parts)
            == hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
        )


def test_the_history_key_never_shows_in_a_repr() -> None:
    from edi_guard.history import Hasher

    key = b"0123456789abcdef-secret"
    assert "secret" not in repr(Hasher(key))
    assert "secret" not in str(Hasher(key))
