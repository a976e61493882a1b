"""SFTP servers on 127.0.0.1, a paramiko uploader, and the watcher as a real subprocess.

Two servers serve the real file system (clients use absolute paths):

- asyncssh's SFTP server, in a thread of the test process;
- OpenSSH's ``sshd`` with the ``internal-sftp`` subsystem and a generated config, host key
  and authorized key (``/usr/sbin/sshd``; it must run as root, as CI does).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh
import paramiko

REPO = Path(__file__).resolve().parent.parent
SSHD = Path("/usr/sbin/sshd")


@dataclass(frozen=True)
class ClientKey:
    private_openssh: str
    public_openssh: str

    @classmethod
    def generate(cls) -> ClientKey:
        key = asyncssh.generate_private_key("ssh-ed25519")
        return cls(
            key.export_private_key("openssh").decode("ascii"),
            key.export_public_key("openssh").decode("ascii"),
        )

    def paramiko_key(self) -> paramiko.PKey:
        return paramiko.Ed25519Key.from_private_key(io.StringIO(self.private_openssh))


@dataclass(frozen=True)
class SftpEndpoint:
    kind: str
    port: int
    user: str
    key: ClientKey


# asyncssh ------------------------------------------------------------------------------------


class AsyncsshServer:
    """asyncssh's SFTP server on 127.0.0.1 (a random port), in its own event-loop thread."""

    def __init__(self, key: ClientKey) -> None:
        self._key = key
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncssh.SSHAcceptor | None = None
        self.port = 0

    def start(self) -> SftpEndpoint:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self._server = future.result(timeout=30)
        self.port = self._server.sockets[0].getsockname()[1]
        return SftpEndpoint("asyncssh", self.port, "uploader", self._key)

    async def _listen(self) -> asyncssh.SSHAcceptor:
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(self._key.public_openssh),
            sftp_factory=True,
            allow_scp=False,
        )

    def stop(self) -> None:
        async def close(server: asyncssh.SSHAcceptor) -> None:
            server.close()
            await server.wait_closed()

        if self._server is not None:
            asyncio.run_coroutine_threadsafe(close(self._server), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


# OpenSSH -------------------------------------------------------------------------------------


def sshd_unavailable() -> str | None:
    """Why OpenSSH's sshd cannot be used here, or None."""
    if not SSHD.is_file():
        return f"{SSHD} not found (apt-get install -y openssh-server)"
    if os.geteuid() != 0:
        return "sshd must run as root"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class OpenSshServer:
    """``sshd -D -e`` with ``Subsystem sftp internal-sftp``, key authentication only."""

    def __init__(self, key: ClientKey, directory: Path) -> None:
        self._key = key
        self._dir = directory
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> SftpEndpoint:
        directory = self._dir
        directory.mkdir(parents=True, exist_ok=True)
        host_key = directory / "ssh_host_ed25519_key"
        host_key.write_bytes(
            asyncssh.generate_private_key("ssh-ed25519").export_private_key("openssh")
        )
        host_key.chmod(0o600)
        authorized = directory / "authorized_keys"
        authorized.write_text(self._key.public_openssh)
        authorized.chmod(0o600)
        user = _user_name()
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
        for _ in range(5):
            port = _free_port()
            config = directory / "sshd_config"
            config.write_text(
                "\n".join(
                    [
                        f"Port {port}",
                        "ListenAddress 127.0.0.1",
                        f"HostKey {host_key}",
                        f"PidFile {directory / 'sshd.pid'}",
                        f"AuthorizedKeysFile {authorized}",
                        "StrictModes no",
                        "UsePAM no",
                        "PubkeyAuthentication yes",
                        "PasswordAuthentication no",
                        "KbdInteractiveAuthentication no",
                        "PermitRootLogin prohibit-password",
                        f"AllowUsers {user}",
                        "Subsystem sftp internal-sftp",
                        "ForceCommand internal-sftp",
                        "LogLevel ERROR",
                        "",
                    ]
                )
            )
            log = (directory / "sshd.log").open("ab")
            process = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            log.close()
            if _wait_for_port(port, process):
                self._process = process
                return SftpEndpoint("openssh", port, user, self._key)
            _stop(process)
        text = (directory / "sshd.log").read_text(errors="replace")
        raise RuntimeError(f"sshd did not start: {text[-2000:]}")

    def stop(self) -> None:
        if self._process is not None:
            _stop(self._process)


def _user_name() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return True
        time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# The uploader ------------------------------------------------------------------------------


class Uploader:
    """A paramiko SFTP session; ``cut`` drops the connection like a killed client."""

    def __init__(self, endpoint: SftpEndpoint) -> None:
        self.transport = paramiko.Transport(("127.0.0.1", endpoint.port))
        self.transport.connect(username=endpoint.user, pkey=endpoint.key.paramiko_key())
        client = paramiko.SFTPClient.from_transport(self.transport)
        assert client is not None
        self.sftp = client

    def __enter__(self) -> Uploader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sftp.close()
        self.transport.close()

    def put(self, data: bytes, remote: Path, *, chunk: int = 16 * 1024) -> None:
        """Upload all of ``data`` to ``remote`` in chunks, then close the file."""
        with self.sftp.open(str(remote), "wb") as handle:
            for at in range(0, len(data), chunk):
                handle.write(data[at : at + chunk])

    def put_and_cut(self, data: bytes, remote: Path, upto: int, *, chunk: int = 8 * 1024) -> None:
        """Write the first ``upto`` bytes, then drop the connection with the file open."""
        handle = self.sftp.open(str(remote), "wb")
        for at in range(0, upto, chunk):
            handle.write(data[at : min(upto, at + chunk)])
        sock = self.transport.sock
        with contextlib.suppress(OSError):
            if isinstance(sock, socket.socket):
                sock.shutdown(socket.SHUT_RDWR)
        self.transport.close()

    def resume(self, data: bytes, remote: Path, *, chunk: int = 16 * 1024) -> None:
        """Append what ``remote`` lacks of ``data`` (a client's resume)."""
        size = self.sftp.stat(str(remote)).st_size or 0
        with self.sftp.open(str(remote), "r+") as handle:
            handle.seek(size)
            for at in range(size, len(data), chunk):
                handle.write(data[at : at + chunk])

    def rename(self, old: Path, new: Path) -> None:
        self.sftp.rename(str(old), str(new))


# The watcher ---------------------------------------------------------------------------------

FAST = ("--quiet-seconds", "0.5", "--rescan-seconds", "1")


class Watcher:
    """``python -m edi_guard.commands.watch`` as a subprocess with a JSON log file."""

    def __init__(self, root: Path, *extra: str, tag: str = "w") -> None:
        self.root = root
        self.inbox = root / "inbox"
        self.out = root / "out"
        self.archive = root / "archive"
        self.error = root / "error"
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.log = root / f"watch-{tag}.log"
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0

    @property
    def state(self) -> Path:
        return self.inbox / ".edi-guard"

    def start(self) -> Watcher:
        self.runs += 1
        command = [
            sys.executable,
            "-m",
            "edi_guard.commands.watch",
            str(self.inbox),
            "--out-dir",
            str(self.out),
            "--archive",
            str(self.archive),
            "--error",
            str(self.error),
            *FAST,
            *self.extra,
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, stdout=log, stderr=log, stdin=subprocess.DEVNULL
            )
        self.wait_for(lambda: any(e["event"] == "watch_started" for e in self._own_events()))
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def events(self) -> list[dict[str, Any]]:
        """Every JSON event this watcher logged, over all its runs."""
        if not self.log.exists():
            return []
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict) and "event" in event:
                    found.append(event)
        return found

    def _own_events(self) -> list[dict[str, Any]]:
        started = [i for i, e in enumerate(self.events()) if e["event"] == "watch_started"]
        return self.events()[started[-1] :] if len(started) >= self.runs else []

    def handled(self) -> list[dict[str, Any]]:
        return [e for e in self.events() if e["event"] == "file_handled"]

    def wait_for(
        self, condition: Callable[[], bool], timeout: float = 30, what: str = "condition"
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"watcher exited ({self.process.returncode}):\n{self.tail()}")
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}:\n{self.tail()}")

    def wait_handled(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        self.wait_for(lambda: len(self.handled()) >= count, timeout, f"{count} files handled")
        return self.handled()

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def children(self) -> list[int]:
        """Process ids whose parent is the watcher (its worker processes)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.pid:
                    found.append(int(stat.parent.name))
        return found

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def stop(self, timeout: float = 90) -> int:
        """SIGTERM and wait; the exit code.

        A watcher still running after ``timeout`` is asked for its threads' stacks (and its
        workers', SIGUSR1) before it is killed, and the failure shows them."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for pid in [self.pid, *self.children()]:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGUSR1)
            time.sleep(2)
            self.kill()
            raise AssertionError(
                f"watcher still running {timeout} s after SIGTERM; its stacks:\n{self.tail(150)}"
            ) from None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_gone(pids: list[int], timeout: float = 10) -> list[int]:
    """The pids still alive after ``timeout`` (zombies count as gone)."""
    deadline = time.monotonic() + timeout
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _running(pid)]
        time.sleep(0.05)
    return alive


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextlib.contextmanager
def servers(kind: str, key: ClientKey, directory: Path) -> Iterator[SftpEndpoint]:
    server: AsyncsshServer | OpenSshServer = (
        AsyncsshServer(key) if kind == "asyncssh" else OpenSshServer(key, directory)
    )
    endpoint = server.start()
    try:
        yield endpoint
    finally:
        server.stop()


def files_in(directory: Path) -> list[str]:
    """Names in ``directory`` (not hidden), sorted; [] when it does not exist."""
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
