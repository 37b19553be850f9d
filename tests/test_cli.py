"""The `loyalty-bff` command, run as a newcomer would run it."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bff.graphql.schema import schema_sdl

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "bff"]


def run(args: list[str], env: dict[str, str], cwd: Path = ROOT, check: bool = True):
    result = subprocess.run(
        [*CLI, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BFF_")}


@pytest.fixture
def env(tmp_path, settings, db) -> dict[str, str]:
    """A newcomer's environment on the suite's (emptied) database; tests/test_embedded_db.py
    runs the commands without a URL."""
    return {
        **clean_environment(),
        "BFF_DATA_DIR": str(tmp_path / "data"),
        "BFF_DEV_AUTH": "1",
        "BFF_DATABASE_URL": settings.database_url,
    }


def test_checked_in_schema_matches_the_code():
    assert (ROOT / "schema.graphql").read_text(encoding="utf-8") == schema_sdl()


def test_export_schema_check_fails_on_a_stale_file(env, tmp_path):
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n")
    result = run(["export-schema", "--check", "--path", str(stale)], env, check=False)
    assert result.returncode == 1
    assert "stale" in result.stderr
    run(["export-schema", "--path", str(stale)], env)
    assert "is current" in run(["export-schema", "--check", "--path", str(stale)], env).stdout


def test_demo_is_idempotent_and_prints_tokens(env):
    first = run(["demo", "--no-serve"], env)
    assert "customer token (demo-anna)" in first.stdout
    assert "GraphiQL:" in first.stdout
    assert "demo data: 0 new postings" not in first.stdout
    second = run(["demo", "--no-serve"], env)
    assert "demo data: 0 new postings" in second.stdout


def test_token_is_refused_without_dev_auth(env):
    result = run(["token", "anna"], {**env, "BFF_DEV_AUTH": "0"}, check=False)
    assert result.returncode == 1
    assert "dev auth is off" in result.stderr
    production = run(
        ["token", "anna"], {**env, "BFF_ENV": "production", "BFF_DEV_AUTH": "1"}, check=False
    )
    assert production.returncode == 1
    assert "production" in production.stderr


def test_worker_once_runs_a_round(env):
    run(["migrate"], env)
    result = run(["worker", "--once"], env)
    assert "holds expired: 0" in result.stdout


def wait_until_ready(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} never answered"
        time.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_with_two_workers(env):
    run(["demo", "--no-serve"], env)
    token = run(["token", "demo-anna"], env).stdout.strip()
    port = _free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--workers", "2", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(f"{base}/readyz")
        answers = {
            httpx.post(
                f"{base}/graphql",
                json={"query": "{ me { externalId } }"},
                headers={"authorization": f"Bearer {token}"},
                timeout=5,
            ).json()["data"]["me"]["externalId"]
            for _ in range(10)
        }
        assert answers == {"demo-anna"}
        spread = connections_per_worker(server.pid, port, 32)
        assert sum(spread.values()) == 32, spread
        assert len(spread) == 2, spread  # both workers took a share
        killed = min(spread)
        os.kill(killed, signal.SIGKILL)  # the supervisor starts another
        deadline = time.monotonic() + 30
        while killed in workers_of(server.pid) or len(workers_of(server.pid)) < 2:
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.2)
        assert sum(connections_per_worker(server.pid, port, 8).values()) == 8
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert output.count("Started server process") >= 2, output
    assert server.returncode == 0, output


def test_serve_stops_when_its_workers_cannot_start(env, tmp_path):
    broken = {
        **env,
        "BFF_JWT_PUBLIC_KEY": str(tmp_path / "missing.pem"),
        "BFF_JWT_ISSUER": "https://id.test",
        "BFF_JWT_AUDIENCE": "app",
    }
    result = run(["serve", "--workers", "2", "--port", str(_free_port())], broken, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "could not start" in result.stderr  # not restarted forever


def tcp_sockets(port: int, state: str) -> set[str]:
    """Inodes of the sockets on local ``port`` in ``state`` (01 established, 0A listen)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                found.add(fields[9])
    return found


def sockets_of(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def workers_of(supervisor: int) -> list[int]:
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return [
        int(pid)
        for pid in children
        if b"from multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def connections_per_worker(supervisor: int, port: int, count: int) -> dict[int, int]:
    """Open ``count`` keep-alive connections at once, as a gateway does; which worker
    accepted each."""
    children = workers_of(supervisor)
    assert len(children) == 2, children
    deadline = time.monotonic() + 30
    while not all(sockets_of(pid) & tcp_sockets(port, "0A") for pid in children):
        assert time.monotonic() < deadline, "a worker never listened"
        time.sleep(0.1)
    # Each its own listening socket (SO_REUSEPORT): a shared one lets whichever worker is
    # idle when a burst of connections arrives take them all, and keep them.
    listening = [sockets_of(pid) & tcp_sockets(port, "0A") for pid in children]
    assert all(len(inodes) == 1 for inodes in listening), listening
    assert listening[0] != listening[1], listening
    clients = [socket.socket() for _ in range(count)]
    for client in clients:  # in one burst, before any worker wakes to accept
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
    try:
        for client in clients:
            select.select([], [client], [], 5)
            client.setblocking(True)
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        for client in clients:
            assert client.recv(1024).startswith(b"HTTP/1.1 200")
        established = tcp_sockets(port, "01")
        return {
            pid: len(sockets_of(pid) & established)
            for pid in children
            if sockets_of(pid) & established
        }
    finally:
        for client in clients:
            client.close()


def test_levels_backfill_dry_run_then_apply(env):
    run(["migrate"], env)
    import asyncio

    from bff.earning.service import CompletedOrder, OrderService
    from bff.kernel.config import Settings
    from bff.kernel.db import Database
    from bff.kernel.types import utcnow

    async def history() -> None:
        settings = Settings(
            data_dir=Path(env["BFF_DATA_DIR"]), database_url=env["BFF_DATABASE_URL"]
        )
        db = Database(settings)
        for number in range(6):
            async with db.unit_of_work() as session:
                await OrderService(session).complete(
                    CompletedOrder(
                        external_id=f"old-{number}",
                        brand="grocery",
                        customer_external_id="vera",
                        city=None,
                        amount=1_000,
                        completed_at=utcnow(),
                    )
                )
        async with db.unit_of_work() as session:
            from sqlalchemy import text

            await session.execute(text("DELETE FROM level_rewards"))
            await session.execute(text("DELETE FROM level_events"))
            await session.execute(text("DELETE FROM customer_levels"))
        await db.dispose()

    asyncio.run(history())
    preview = run(["levels-backfill", "--dry-run"], env)
    assert "SILVER: 1 customers would get this level" in preview.stdout
    assert "nothing changed" in preview.stdout
    applied = run(["levels-backfill"], env)
    assert "SILVER: 1 customers got this level" in applied.stdout


def test_import_balances_then_convert_them(env, tmp_path):
    run(["migrate"], env)
    balances = tmp_path / "balances.csv"
    balances.write_text("customer_id,amount\nanna,300\nbob,fifty\ncarl,50\n")
    first = run(["import-balances", str(balances), "--currency", "coins"], env, check=False)
    assert first.returncode == 1  # a row failed
    assert "imported: 2 rows, 350 COINS" in first.stdout
    assert "line 3: amount must be a whole number" in first.stderr
    again = run(["import-balances", str(balances), "--currency", "COINS"], env, check=False)
    assert "imported: 0 rows, 0 COINS; already imported: 2 rows, 350 COINS" in again.stdout

    preview = run(
        ["convert-currency", "--from", "COINS", "--to", "POINTS", "--rate", "2:1", "--dry-run"], env
    )
    assert "2 of 2 wallets converted; would move 350 COINS into 175 POINTS" in preview.stdout
    done = run(["convert-currency", "--from", "COINS", "--to", "POINTS", "--rate", "2:1"], env)
    assert "moved 350 COINS into 175 POINTS" in done.stdout
    rerun = run(["convert-currency", "--from", "COINS", "--to", "POINTS", "--rate", "2:1"], env)
    assert "0 of 0 wallets converted" in rerun.stdout
    bad_rate = run(
        ["convert-currency", "--from", "COINS", "--to", "POINTS", "--rate", "2"], env, check=False
    )
    assert (bad_rate.returncode, "not a rate" in bad_rate.stderr) == (2, True)
    disabled = run(["import-balances", str(balances), "--currency", "LEGACY"], env, check=False)
    assert (disabled.returncode, "LEGACY is disabled" in disabled.stderr) == (1, True)


def test_allow_operations_from_documents_and_manifests(env, tmp_path):
    import hashlib
    import json

    run(["migrate"], env)
    document = tmp_path / "Balance.graphql"
    document.write_text("query Balance { me { wallets { balance } } }\n")
    body = "query Levels { levels { code } }"
    manifest = tmp_path / "manifest.json"
    sha = hashlib.sha256(body.encode()).hexdigest()
    manifest.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": sha, "name": "Levels", "type": "query", "body": body}],
            }
        )
    )
    first = run(["allow-operations", str(document), str(manifest)], env).stdout
    assert f"{sha}  Levels" in first
    assert hashlib.sha256(document.read_bytes()).hexdigest() in first
    assert "2 operations allowed (2 new)" in first
    assert "(0 new)" in run(["allow-operations", str(manifest)], env).stdout

    codegen = tmp_path / "persisted-documents.json"
    flags = "query Flags { featureFlags { key } }"
    codegen.write_text(json.dumps({hashlib.sha256(flags.encode()).hexdigest(): flags}))
    assert "1 operations allowed (1 new)" in run(["allow-operations", str(codegen)], env).stdout
    codegen.write_text(json.dumps({hashlib.sha1(flags.encode()).hexdigest(): flags}))  # noqa: S324
    sha1 = run(["allow-operations", str(codegen)], env, check=False)
    assert (sha1.returncode, "is not the SHA-256 of its body" in sha1.stderr) == (1, True)

    manifest.write_text(json.dumps({"operations": [{"id": "0" * 64, "body": body}]}))
    refused = run(["allow-operations", str(manifest)], env, check=False)
    assert refused.returncode == 1
    assert "is not the SHA-256 of its body" in refused.stderr

    document.write_text("query Big { levels { code } }\n#" + "x" * 40_000)
    too_big = run(["allow-operations", str(document)], env, check=False)
    assert too_big.returncode == 1
    assert "Balance is over BFF_MAX_DOCUMENT_BYTES" in too_big.stderr
