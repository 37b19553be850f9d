"""Where the benchmarks run: ``BFF_BENCH_POSTGRES_URL`` (or ``--url``), or else a
``bff_bench`` database on the local server of the data folder (bff/kernel/embedded_db.py),
started when it does not run yet."""

from __future__ import annotations

import argparse
import os
from functools import cache

from bff.kernel.config import Settings
from bff.kernel.embedded_db import EmbeddedServer

BENCH_DATABASE = "bff_bench"


def smoke_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes for a few seconds: that it still runs and stays correct "
        "(make test runs it); speed targets are not judged",
    )


def shrink(arguments: argparse.Namespace, **tiny: object) -> None:
    """In smoke mode, the tiny sizes instead of the given ones."""
    if arguments.smoke:
        for name, value in tiny.items():
            setattr(arguments, name, value)


def exit_status(arguments: argparse.Namespace, *, correct: bool, met: bool) -> int:
    """0 when nothing was broken and the targets were met (or not judged: smoke)."""
    return 0 if correct and (met or arguments.smoke) else 1


@cache
def bench_url() -> str:
    url = os.environ.get("BFF_BENCH_POSTGRES_URL")
    if url:
        return url
    pgdata = Settings.from_env().embedded_pgdata
    return EmbeddedServer(pgdata).ensure_running(BENCH_DATABASE)
