"""Where the benchmarks run: ``BFF_BENCH_POSTGRES_URL`` (or ``--url``), or else a
``bff_bench`` database on the local server of the data folder (bff/kernel/embedded_db.py),
started when it does not run yet."""

from __future__ import annotations

import os
from functools import cache

from bff.kernel.config import Settings
from bff.kernel.embedded_db import EmbeddedServer

BENCH_DATABASE = "bff_bench"


@cache
def bench_url() -> str:
    url = os.environ.get("BFF_BENCH_POSTGRES_URL")
    if url:
        return url
    pgdata = Settings.from_env().embedded_pgdata
    return EmbeddedServer(pgdata).ensure_running(BENCH_DATABASE)
