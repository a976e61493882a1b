"""Claiming files from the inbox by atomic rename, and recovering the claims of dead watchers.

Layout of the state directory (on the inbox's file system, so that a rename is atomic)::

    STATE/work/OWNER.lock          held (flock) by the live watcher OWNER for its whole life
    STATE/work/OWNER/TOKEN/NAME    a file OWNER claimed; TOKEN is unique per claim

A claim is ``rename(INBOX/NAME, STATE/work/OWNER/TOKEN/NAME)``: of two watchers, exactly one
rename succeeds. When a watcher dies, the kernel drops its flock; any watcher that can then
take the lock adopts the dead one's claims by renaming each TOKEN directory into its own
work directory (again atomic: each claim gets exactly one new owner), and processes them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

LOCK_SUFFIX = ".lock"


@dataclass(frozen=True, slots=True)
class Claimed:
    """A file this watcher owns: ``STATE/work/OWNER/TOKEN/NAME``."""

    token: str
    name: str
    path: Path
    recovered: bool = False
    """Taken over from a watcher that died (or from this one's previous life)."""

    @property
    def directory(self) -> Path:
        return self.path.parent


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` survive a power cut (best effort)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _try_lock(path: Path) -> int | None:
    """An exclusive flock on ``path`` (a file descriptor), or None when someone holds it."""
    try:
        descriptor = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def owner_alive(work: Path, owner: str) -> bool:
    """Whether the watcher ``owner`` still holds its lock."""
    lock = work / f"{owner}{LOCK_SUFFIX}"
    if not lock.exists():
        return False
    descriptor = _try_lock(lock)
    if descriptor is None:
        return lock.exists()
    os.close(descriptor)
    return False


class Workspace:
    """One watcher's claims. ``open`` takes the owner lock; ``close`` gives it back."""

    def __init__(self, inbox: Path, state: Path, *, marker: str | None = None) -> None:
        self.inbox = inbox
        self.work = state / "work"
        self.marker = marker
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.directory = self.work / self.owner
        self._lock: int | None = None

    def open(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        # Lock under a temporary name, then rename: nobody ever sees OWNER.lock unlocked
        # while OWNER is alive.
        temporary = self.work / f".{self.owner}.locking"
        descriptor = os.open(temporary, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        temporary.rename(self.work / f"{self.owner}{LOCK_SUFFIX}")
        self._lock = descriptor
        self.directory.mkdir()

    def close(self) -> None:
        """Give up the work directory (it must be empty) and the lock."""
        with contextlib.suppress(OSError):
            for token in self.directory.iterdir():
                token.rmdir()
            self.directory.rmdir()
            (self.work / f"{self.owner}{LOCK_SUFFIX}").unlink()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def is_alive(self, owner: str) -> bool:
        return owner == self.owner or owner_alive(self.work, owner)

    # Claiming ------------------------------------------------------------------------

    def claim(self, name: str) -> Claimed | None:
        """Move ``INBOX/name`` (and its marker) into this watcher's work directory.

        None when another watcher was faster (or the file went away)."""
        token = uuid.uuid4().hex[:12]
        target = self.directory / token
        target.mkdir()
        marker_moved = False
        try:
            if self.marker is not None:
                marker = name + self.marker
                (self.inbox / marker).rename(target / marker)
                marker_moved = True
            (self.inbox / name).rename(target / name)
        except FileNotFoundError:
            if marker_moved:
                _put_back(target / (name + (self.marker or "")), self.inbox)
            target.rmdir()
            return None
        fsync_directory(self.inbox)
        fsync_directory(target)
        return Claimed(token, name, target / name)

    def release(self, claimed: Claimed) -> None:
        """Forget a claim whose file has been moved on (archive or error folder)."""
        if self.marker is not None:
            (claimed.directory / (claimed.name + self.marker)).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            claimed.directory.rmdir()

    # Recovery ------------------------------------------------------------------------

    def adopt(self) -> list[Claimed]:
        """Take over the claims of every dead watcher (on start and at each rescan)."""
        adopted: list[Claimed] = []
        for entry in sorted(self.work.iterdir()):
            if entry.name.startswith(".") or entry.name == self.owner:
                continue
            if entry.suffix == LOCK_SUFFIX:
                owner = entry.name[: -len(LOCK_SUFFIX)]
                if owner == self.owner:
                    continue
                descriptor = _try_lock(entry)
                if descriptor is None:
                    continue
                try:
                    adopted += self._adopt_directory(self.work / owner)
                    entry.unlink(missing_ok=True)
                finally:
                    os.close(descriptor)
            elif entry.is_dir() and not (self.work / f"{entry.name}{LOCK_SUFFIX}").exists():
                # A work directory whose lock is gone: an adoption that died half-way.
                adopted += self._adopt_directory(entry)
        return adopted

    def _adopt_directory(self, directory: Path) -> list[Claimed]:
        adopted: list[Claimed] = []
        if not directory.is_dir():
            return adopted
        for token in sorted(directory.iterdir()):
            mine = self.directory / token.name
            try:
                token.rename(mine)
            except FileNotFoundError:
                continue  # another watcher adopted it first
            except OSError as error:
                if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                continue
            claimed = self._recovered(mine)
            if claimed is not None:
                adopted.append(claimed)
        with contextlib.suppress(OSError):
            directory.rmdir()
        fsync_directory(self.directory)
        return adopted

    def _recovered(self, token: Path) -> Claimed | None:
        """The claimed file in ``token``; an empty claim or a lone marker is undone."""
        names = [p.name for p in token.iterdir()]
        marker = self.marker
        files = [n for n in names if marker is None or not n.endswith(marker)]
        if files:
            return Claimed(token.name, files[0], token / files[0], recovered=True)
        for name in names:
            _put_back(token / name, self.inbox)
        with contextlib.suppress(OSError):
            token.rmdir()
        return None


def _put_back(path: Path, inbox: Path) -> None:
    """Return a marker to the inbox (unless a newer one is there)."""
    with contextlib.suppress(FileExistsError):
        os.link(path, inbox / path.name)
    path.unlink(missing_ok=True)


def move_no_clobber(source: Path, directory: Path, name: str, token: str) -> Path:
    """Move ``source`` into ``directory`` as ``name`` (or ``name.TOKEN`` if taken); never
    overwrite. Safe to repeat after a crash: a link already made is recognised."""
    directory.mkdir(parents=True, exist_ok=True)
    for candidate in (name, f"{name}.{token}"):
        target = directory / candidate
        try:
            os.link(source, target)
        except FileExistsError:
            if source.samefile(target):
                break
            continue
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            _copy_into(source, target)
        break
    else:
        raise FileExistsError(f"{directory / name} and {target.name} both exist")
    fsync_directory(directory)
    source.unlink()
    return target


def _copy_into(source: Path, target: Path) -> None:
    """Across file systems: copy to a hidden name, fsync, then link into place."""
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    with source.open("rb") as reader, temporary.open("wb") as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)
        writer.flush()
        os.fsync(writer.fileno())
    try:
        os.link(temporary, target)
    finally:
        temporary.unlink()
