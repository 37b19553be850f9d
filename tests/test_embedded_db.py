"""The local PostgreSQL server that commands start when no database URL is set, run as a
newcomer would: no BFF_DATABASE_URL, only a data folder."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bff.kernel.embedded_db import PORT, SYSTEM_USER, EmbeddedServer
from tests.test_cli import CLI, ROOT, _free_port, clean_environment, run, wait_until_ready


def environment(data: Path) -> dict[str, str]:
    return {**clean_environment(), "BFF_DATA_DIR": str(data), "BFF_DEV_AUTH": "1"}


@pytest.fixture
def data(tmp_path) -> Iterator[Path]:
    """A data folder whose server, if a test started one, is stopped afterwards."""
    folder = tmp_path / "data"
    yield folder
    EmbeddedServer(folder / "postgres").stop()


def running_pid(env: dict[str, str]) -> int:
    status = run(["db", "status"], env).stdout
    assert status.startswith("running: pid "), status
    return int(status.split()[2].rstrip(","))


def test_commands_start_one_server_and_share_it(data):
    env = environment(data)
    stopped = run(["db", "status"], env, check=False)
    assert (stopped.returncode, stopped.stdout.startswith("not running")) == (3, True)

    run(["migrate"], env)
    pid = running_pid(env)
    assert (data / "postgres" / "PG_VERSION").exists()
    # Several commands at once, each finding the server (or waiting for its start).
    commands = [["worker", "--once"], ["migrate"], ["worker", "--once"], ["migrate"]]
    started = [
        subprocess.Popen(
            [*CLI, *command],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        for command in commands
    ]
    for process in started:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, out + err
    assert running_pid(env) == pid  # the same server, outliving every command

    assert run(["db", "stop"], env).stdout.startswith("stopped")
    assert run(["db", "status"], env, check=False).returncode == 3
    assert run(["db", "stop"], env).stdout.startswith("not running")


def test_serve_with_workers_beside_a_worker_and_a_cli(data, tmp_path):
    env = environment(data)
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*CLI, "serve", "--workers", "2", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        ready = f"http://127.0.0.1:{port}/readyz"
        wait_until_ready(ready)
        pid = running_pid(env)
        run(["migrate"], env)
        run(["worker", "--once"], env)
        try:
            answer = httpx.get(ready, timeout=5).json()
        except httpx.TransportError as error:
            pytest.fail(f"the server went away ({error}):\n{log.read_text()}")
        assert answer == {"status": "ok", "database": "postgresql"}
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode == 0, log.read_text()  # both workers started, none failed
    assert running_pid(env) == pid  # nobody stopped it under the others


def test_a_deep_data_folder_puts_its_socket_in_a_short_one(tmp_path):
    data = tmp_path.joinpath(*(["a-rather-long-folder-name"] * 5), "data")
    assert len(str(data / "postgres" / f".s.PGSQL.{PORT}")) > 108
    server = EmbeddedServer(data / "postgres")
    try:
        run(["migrate"], environment(data))
        status = server.status()
        assert status is not None
        assert len(str(status.socket_dir / f".s.PGSQL.{PORT}").encode()) <= 100
        assert "is at the newest schema" in run(["migrate"], environment(data)).stdout
    finally:
        server.stop()


def test_an_unusable_data_folder_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run(["migrate"], environment(blocker / "data"), check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: cannot use the data folder {blocker / 'data'}: Not a directory"
    ]


def test_a_socket_taken_by_another_server_is_one_line(data):
    env = environment(data)
    run(["migrate"], env)
    run(["db", "stop"], env)
    # Another live server's lock on the socket, as PostgreSQL itself would see it.
    user = SYSTEM_USER if os.geteuid() == 0 else None
    other = subprocess.Popen(["sleep", "120"], user=user)  # noqa: S607
    try:
        lock = data / "postgres" / f".s.PGSQL.{PORT}.lock"
        lock.write_text(f"{other.pid}\n{data / 'elsewhere'}\n")
        lock.chmod(0o644)
        result = run(["migrate"], env, check=False)
    finally:
        other.kill()
        other.wait()
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: PostgreSQL did not start in {data / 'postgres'}: "), line
    assert line.endswith(f'lock file "{lock}" already exists'), line
    assert "Traceback" not in result.stderr


def test_a_pid_file_whose_number_went_to_another_process_is_no_server(tmp_path):
    pgdata = tmp_path / "postgres"
    pgdata.mkdir()
    other = subprocess.Popen(["sleep", "60"])  # noqa: S607
    try:
        lines = [str(other.pid), str(pgdata), "0", str(PORT), str(pgdata), "", "", "ready"]
        (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")
        assert EmbeddedServer(pgdata).status() is None
    finally:
        other.kill()
        other.wait()
