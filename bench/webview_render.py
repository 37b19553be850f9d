"""Server render time of the WebView offer feed.

The app runs in process (no network, no browser): a signed-in customer asks for
`/webviews/offers` with 200 offers of 20 partners in the catalogue (the feed shows 50) and
10 of them activated. In the same run the baseline is the rules page: the same layout,
session lookup, headers and ETag, without the feed's data, so the difference is what the
feed costs. Prints median and p90 in milliseconds.

    python bench/webview_render.py    (database: bench/database.py)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from database import bench_url, exit_status, shrink, smoke_option
from home_data import load
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bff.app import create_app
from bff.kernel.auth import issue_dev_token
from bff.kernel.config import Settings
from bff.kernel.migrate import upgrade

CREATE = "mutation ($p: String!) { webviewSessionCreate(input: {path: $p}) { url } }"


async def prepare(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    await load(engine, 1_000)
    await engine.dispose()


async def timings(client: httpx.AsyncClient, path: str, runs: int) -> list[float]:
    for _ in range(20):
        (await client.get(path)).raise_for_status()
    found = []
    for _ in range(runs):
        started = time.perf_counter()
        response = await client.get(path)
        found.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return found


async def measure(url: str, data_dir: str, runs: int) -> dict[str, list[float]]:
    await prepare(url)
    settings = replace(
        Settings(database_url=url, data_dir=Path(data_dir), dev_auth=True),
        webview_cookie_secure=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            bearer = {"authorization": f"Bearer {issue_dev_token(settings, 'bench-10')}"}
            body = {"query": CREATE, "variables": {"p": "/webviews/offers"}}
            answer = (await client.post("/graphql", json=body, headers=bearer)).json()
            one_time = urlsplit(answer["data"]["webviewSessionCreate"]["url"]).path
            opened = await client.get(one_time, follow_redirects=True)
            assert "Offer 1" in opened.text, opened.status_code
            return {
                "offer feed": await timings(client, "/webviews/offers", runs),
                "rules (baseline)": await timings(client, "/webviews/rules", runs),
            }


def main(arguments: argparse.Namespace) -> int:
    machine = f"{platform.node()}, {os.cpu_count()} cores"
    print(f"\nWebView render: {machine}, in process, {arguments.runs} runs")
    print(f"{'page':17} {'median ms':>9} {'p90 ms':>7}")
    medians = {}
    with tempfile.TemporaryDirectory() as scratch:
        for page, found in asyncio.run(measure(arguments.url, scratch, arguments.runs)).items():
            medians[page] = statistics.median(found)
            p90 = statistics.quantiles(found, n=10)[-1]
            print(f"{page:17} {medians[page]:>9.2f} {p90:>7.2f}")
    feed = medians["offer feed"]
    print(
        f"offer feed median: {feed:.2f} ms (target under 15 ms: {'met' if feed < 15 else 'MISSED'})"
    )
    return exit_status(arguments, correct=True, met=feed < 15)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="PostgreSQL (default: bench/database.py)")
    parser.add_argument("--runs", type=int, default=500)
    smoke_option(parser)
    arguments = parser.parse_args()
    shrink(arguments, runs=20)
    arguments.url = arguments.url or bench_url()
    raise SystemExit(main(arguments))
