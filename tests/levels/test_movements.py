"""The history of level movements analysts read: in GraphQL (staff, keyset pages, by time
and reason) and streamed to CSV by `loyalty-bff export level-movements`."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from datetime import timedelta
from pathlib import Path

from bff.exports import export_level_movements
from bff.kernel.auth import Role
from bff.kernel.types import utcnow
from bff.levels.models import MovementReason
from tests.fixtures.factories import make_customer
from tests.fixtures.graphql import error_codes, gql, token
from tests.levels.test_rolling_window import DAY, decay, order

ROOT = Path(__file__).resolve().parents[2]
MOVEMENTS = """query M($first: Int, $after: String, $since: DateTime, $until: DateTime,
                     $reasons: [LevelMovementReason!]) {
  levelMovements(first: $first, after: $after, since: $since, until: $until,
                 reasons: $reasons) {
    edges { node { customerId fromLevel toLevel reason source at } }
    pageInfo { hasNextPage endCursor } } }"""


async def history(db) -> tuple[int, object]:
    """Anna: Silver by five orders, Bronze by decay, then an order after the long gap."""
    anna = await make_customer(db, "anna")
    start = utcnow() - timedelta(days=60)
    numbers = [await order(db, "anna", start, number=f"A-{n}") for n in range(5)]
    await decay(db, anna.id, start + 31 * DAY)
    await order(db, "anna", start + 40 * DAY, number="A-late")
    assert numbers[-1] == "A-4"
    return anna.id, start


async def test_analysts_page_through_movements_by_time_and_reason(app_client, settings, db):
    _, start = await history(db)
    analyst = token(settings, "ana", Role.MARKETING)
    first = await gql(app_client, MOVEMENTS, {"first": 2}, bearer=analyst)
    page = first["data"]["levelMovements"]
    assert [e["node"]["reason"] for e in page["edges"]] == ["ORDER", "DECAY"]
    assert page["edges"][0]["node"]["source"] == "order:pizza:A-4"
    assert (page["edges"][0]["node"]["fromLevel"], page["edges"][0]["node"]["toLevel"]) == (
        "BRONZE",
        "SILVER",
    )
    assert page["edges"][1]["node"]["source"] == "decay-round"
    rest = await gql(
        app_client, MOVEMENTS, {"after": page["pageInfo"]["endCursor"]}, bearer=analyst
    )
    last = rest["data"]["levelMovements"]
    assert [e["node"]["reason"] for e in last["edges"]] == ["RESET"]
    assert last["edges"][0]["node"]["source"] == "order:pizza:A-late"
    assert last["pageInfo"]["hasNextPage"] is False

    only_decay = await gql(app_client, MOVEMENTS, {"reasons": ["DECAY"]}, bearer=analyst)
    assert [e["node"]["reason"] for e in only_decay["data"]["levelMovements"]["edges"]] == ["DECAY"]
    window = {
        "since": (start + 35 * DAY).isoformat(),
        "until": (start + 45 * DAY).isoformat(),
    }
    in_window = await gql(app_client, MOVEMENTS, window, bearer=analyst)
    assert [e["node"]["reason"] for e in in_window["data"]["levelMovements"]["edges"]] == ["RESET"]
    for role in (None, Role.SUPPORT):
        bearer = token(settings, "anna") if role is None else token(settings, "s", role)
        refused = await gql(app_client, MOVEMENTS, bearer=bearer)
        assert error_codes(refused) == ["FORBIDDEN"]
    anonymous = await gql(app_client, MOVEMENTS)
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_the_export_streams_every_row_in_batches(db):
    await history(db)
    out = io.StringIO()
    batches: list[int] = []
    written = await export_level_movements(
        db, out, None, None, batch_size=1, progress=batches.append
    )
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert (written, batches) == (3, [1, 1, 1])  # one row read at a time
    assert [(r["customer"], r["reason"], r["from_level"], r["to_level"]) for r in rows] == [
        ("anna", "ORDER", "BRONZE", "SILVER"),
        ("anna", "DECAY", "SILVER", "BRONZE"),
        ("anna", "RESET", "BRONZE", "BRONZE"),
    ]
    resets = io.StringIO()
    assert await export_level_movements(db, resets, None, None, [MovementReason.RESET]) == 1


async def test_the_command_writes_csv_to_stdout_and_progress_to_stderr(settings, db, tmp_path):
    _, start = await history(db)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BFF_")},
        "BFF_DATA_DIR": str(tmp_path),
        "BFF_DATABASE_URL": settings.database_url,
    }
    since = (start + 20 * DAY).strftime("%Y-%m-%d")
    code, out, err = await cli(["export", "level-movements", "--since", since], env)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["reason"] for row in rows] == ["DECAY", "RESET"]
    assert "2 movements written" in err
    code, _, err = await cli(["export", "level-movements", "--since", "yesterday"], env)
    assert code == 2  # a usage error, no traceback
    assert "--since" in err


async def cli(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bff",
        *args,
        env=env,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()
