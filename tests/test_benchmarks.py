"""Every benchmark in smoke mode (tiny sizes, seconds): a benchmark that no longer runs,
or whose service breaks an invariant, fails the suite. Speed is judged by `make bench`."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.test_cli import ROOT, clean_environment

BENCHMARKS = (
    "ledger_write",
    "worker_drain",
    "partner_events",
    "import_balances",
    "home",
    "webview_render",
    "push_campaign",
    "checkout",
)
SMOKE_DATABASE = "bff_bench_smoke"


@pytest.fixture(scope="module")
def bench_url(postgres_url: str) -> str:
    """A database of the suite's server of its own: benchmarks drop its schema."""
    url = make_url(postgres_url)

    async def create() -> None:
        connection = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
        try:
            exists = await connection.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", SMOKE_DATABASE
            )
            if not exists:
                await connection.execute(f'CREATE DATABASE "{SMOKE_DATABASE}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return url.set(database=SMOKE_DATABASE).render_as_string(hide_password=False)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_the_benchmark_still_runs(name, bench_url, tmp_path):
    result = subprocess.run(
        [sys.executable, f"bench/{name}.py", "--smoke"],
        env={
            **clean_environment(),
            "BFF_BENCH_POSTGRES_URL": bench_url,
            "BFF_DATA_DIR": str(tmp_path / "data"),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "target" in result.stdout, result.stdout
