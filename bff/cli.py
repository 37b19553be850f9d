"""The ``loyalty-bff`` command."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import click

from bff.kernel.auth import Role, issue_dev_token
from bff.kernel.config import ConfigError, Settings
from bff.kernel.embedded_db import EmbeddedDatabaseError, EmbeddedServer
from bff.levels.models import MovementReason

SCHEMA_PATH = Path("schema.graphql")
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]


def _settings(*, database: bool = True) -> Settings:
    """Settings from the environment; with ``database``, a database to use (the local
    server is started when no URL is configured)."""
    from bff.kernel.db import with_database_url

    try:
        settings = Settings.from_env()
        return with_database_url(settings) if database else settings
    except (ConfigError, EmbeddedDatabaseError) as error:
        raise click.ClickException(str(error)) from error


@click.group()
def main() -> None:
    """loyalty-bff: the GraphQL backend-for-frontend of the loyalty app."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every request at INFO: a line per push sent, and a few percent of the worker
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic names each of its plugins at INFO before every migration.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


async def _demo_webview_code(settings: Settings) -> str:
    """A one-time WebView URL for the demo customer, valid long enough to paste."""
    from datetime import timedelta

    from bff.customers.service import CustomerService
    from bff.demo import DEMO_CUSTOMER
    from bff.kernel.db import Database
    from webviews.service import WebviewSessions

    db = Database(settings)
    try:
        async with db.unit_of_work() as session:
            customer = await CustomerService(session).ensure(DEMO_CUSTOMER)
            sessions = WebviewSessions(
                session,
                code_ttl=timedelta(minutes=15),
                session_ttl=timedelta(seconds=settings.webview_session_seconds),
            )
            return (await sessions.issue_code(customer.id, "/webviews/offers")).code
    finally:
        await db.dispose()


@main.command()
@click.option("--host", default=None, help="Interface to bind (BFF_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (BFF_PORT, 8000).")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes."
)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the ASGI app with uvicorn."""
    _serve(_settings(), host, port, workers)


def _serve(settings: Settings, host: str | None, port: int | None, workers: int) -> None:
    from bff.kernel.serving import serve as serve_app

    # Worker processes read their settings from the environment: the server found or
    # started here is theirs too.
    os.environ["BFF_DATABASE_URL"] = settings.database_url

    serve_app(
        "bff.app:app_factory",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="info",
        access_log=False,
        proxy_headers=True,
    )


@main.command()
def migrate() -> None:
    """Upgrade the database to the newest schema (Alembic)."""
    settings = _settings()
    from bff.kernel.migrate import run_upgrade

    run_upgrade(settings)
    click.echo(f"database is at the newest schema ({_safe_url(settings)})")


@main.command()
@click.option(
    "--serve/--no-serve",
    "then_serve",
    default=True,
    show_default=True,
    help="Start the server after loading.",
)
def demo(then_serve: bool) -> None:
    """Migrate, load demo data (idempotent), print tokens and URLs, then serve."""
    from bff.demo import DEMO_CUSTOMER, DEMO_STAFF, load_demo
    from bff.kernel.db import Database
    from bff.kernel.migrate import run_upgrade
    from bff.kernel.secrets import SecretBox
    from bff.worker import JobReport, run_once

    settings = _settings()
    run_upgrade(settings)

    async def load() -> tuple[dict[str, int], JobReport]:
        db = Database(settings)
        try:
            # The history reaches back months: burn what expired since, as the worker would.
            return await load_demo(db, SecretBox.from_settings(settings)), await run_once(
                db, settings
            )
        finally:
            await db.dispose()

    created, expired = asyncio.run(load())
    webview_code = asyncio.run(_demo_webview_code(settings)) if settings.dev_auth else None
    click.echo(f"demo data: {sum(created.values())} new postings ({created})")
    click.echo(f"expired since: {expired.points_expired} points in {expired.lots_expired} wallets")
    base = f"http://{settings.host}:{settings.port}"
    if settings.dev_auth:
        customer = issue_dev_token(settings, DEMO_CUSTOMER)
        click.echo(f"\ncustomer token ({DEMO_CUSTOMER}):\n{customer}\n")
        for role, subject in DEMO_STAFF.items():
            staff = issue_dev_token(settings, subject, [role])
            click.echo(f"staff token ({subject}, {role.value}):\n{staff}\n")
    else:
        click.echo("dev auth is off (BFF_DEV_AUTH=1 prints tokens)")
    click.echo(f"GraphiQL: {base}/graphql   (add the header Authorization: Bearer <token>)")
    if settings.orders_hmac_secret and not settings.is_production:
        click.echo(
            f"Orders:   POST {base}/api/orders/events, signed with the secret "
            f"{settings.orders_hmac_secret!r} (README: Orders in)"
        )
    click.echo(f"WebViews: {base}/webviews/offers  {base}/webviews/rules  (public)")
    if webview_code:
        click.echo(
            f"          {base}/webviews/session/{webview_code}  "
            f"(signed in as {DEMO_CUSTOMER}, single use, 15 minutes)"
        )
    click.echo(f"Health:   {base}/healthz  {base}/readyz  {base}/metrics")
    if then_serve:
        _serve(settings, None, None, 1)


@main.command()
@click.argument("customer_external_id")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice([r.value for r in Role]),
    help="Make it a staff token with this role (repeatable).",
)
@click.option(
    "--ttl",
    type=click.IntRange(60),
    default=30 * 24 * 3600,
    show_default=True,
    help="Lifetime in seconds.",
)
def token(customer_external_id: str, roles: tuple[str, ...], ttl: int) -> None:
    """Print a dev-signed JWT (only where BFF_DEV_AUTH=1)."""
    settings = _settings(database=False)
    try:
        click.echo(issue_dev_token(settings, customer_external_id, [Role(r) for r in roles], ttl))
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


@main.command()
@click.option("--once", is_flag=True, help="Run one round and exit.")
def worker(once: bool) -> None:
    """Background jobs: pending accruals, hold and points expiry, level decay, pushes."""
    from bff import worker as jobs

    settings = _settings()

    async def run() -> jobs.JobReport:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        return await jobs.run(settings, once=once, stop=stop)

    import uvloop  # installed with uvicorn[standard]; the push sender gains a lot from it

    report = uvloop.run(run())
    click.echo(
        f"accrued: {report.accrued}, holds expired: {report.holds_expired}, wallets with "
        f"expired points: {report.lots_expired} ({report.points_expired} points), levels "
        f"decayed: {report.levels_decayed}, boosts ended: {report.boosts_ended}, "
        f"pushes queued: {report.pushes_queued}, "
        f"campaigns started: {report.campaigns_started}, pushes handled: "
        f"{report.pushes_handled}, failures: {report.failures}"
    )
    if report.failures:
        sys.exit(1)


@main.command("levels-backfill")
@click.option("--dry-run", is_flag=True, help="Show the distribution, change nothing.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True)
def levels_backfill(dry_run: bool, batch_size: int) -> None:
    """Assign levels to existing customers from their order history (no rewards)."""
    from collections import Counter

    from tqdm import tqdm

    from bff.earning.service import OrderService
    from bff.kernel.db import Database
    from bff.levels.service import LevelService
    from bff.policies import Policies

    settings = _settings()
    policies = Policies.from_settings(settings)

    async def run() -> Counter[str]:
        db = Database(settings)
        distribution: Counter[str] = Counter()
        try:
            async with db.read() as session:
                ladder = await LevelService(session, policies.levels).ladder()
                total = await OrderService(session, policies.earning).customers_with_orders()
            after = 0
            with tqdm(total=total, unit="customer", disable=None) as progress:
                while True:
                    # One transaction per batch: an interrupted run resumes where it stopped.
                    async with db.unit_of_work() as session:
                        orders = OrderService(session, policies.earning)
                        history = await orders.order_history(after, batch_size)
                        if not history:
                            return distribution
                        batch = await LevelService(session, policies.levels).backfill_batch(
                            ladder, history, dry_run=dry_run
                        )
                    distribution.update(batch)
                    progress.update(sum(batch.values()))
                    after = history[-1][0]
        finally:
            await db.dispose()

    distribution = asyncio.run(run())
    verb = "would get" if dry_run else "got"
    for code, count in sorted(distribution.items()):
        click.echo(f"{code}: {count} customers {verb} this level")
    click.echo(
        f"total: {sum(distribution.values())}{' (dry run: nothing changed)' if dry_run else ''}"
    )


@main.group("export")
def export() -> None:
    """Stream data for analysts as CSV."""


@export.command("level-movements")
@click.option("--since", type=click.DateTime(DATE_FORMATS), required=True, help="From (UTC).")
@click.option("--until", type=click.DateTime(DATE_FORMATS), default=None, help="Before (UTC).")
@click.option(
    "--reason",
    "reasons",
    multiple=True,
    type=click.Choice([reason.name for reason in MovementReason], case_sensitive=False),
    help="Only these reasons (repeatable); default: all.",
)
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-", show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=1000, show_default=True)
def export_level_movements(
    since: datetime,
    until: datetime | None,
    reasons: tuple[str, ...],
    output: TextIO,
    batch_size: int,
) -> None:
    """Every movement of customers' levels in [--since, --until), oldest first, as CSV."""
    from tqdm import tqdm

    from bff import exports
    from bff.kernel.db import Database

    settings = _settings()
    chosen = [MovementReason[name.upper()] for name in reasons]
    start, end = _utc(since), _utc(until) if until else None

    async def run() -> int:
        db = Database(settings)
        try:
            total = await exports.count_level_movements(db, start, end, chosen)
            # The bar goes to stderr, so that the CSV on stdout stays clean.
            with tqdm(total=total, unit="row", disable=None, file=sys.stderr) as bar:
                return await exports.export_level_movements(
                    db, output, start, end, chosen, batch_size=batch_size, progress=bar.update
                )
        finally:
            await db.dispose()

    written = asyncio.run(run())
    click.echo(f"{written} movements written", err=True)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@main.command("convert-currency")
@click.option("--from", "source", required=True, help="The currency to empty, e.g. LEGACY.")
@click.option("--to", "target", required=True, help="The currency to credit, e.g. COINS.")
@click.option("--rate", default="1:1", show_default=True, help="FROM:TO units, e.g. 10:3.")
@click.option("--dry-run", is_flag=True, help="Count and total, change nothing.")
def convert_currency(source: str, target: str, rate: str, dry_run: bool) -> None:
    """Convert every wallet of one currency into another (resumable, never twice)."""
    from tqdm import tqdm

    from bff.kernel.db import Database
    from bff.ledger.conversion import Conversion, ConversionRefused, check, convert_all
    from bff.ledger.service import Rate

    try:
        conversion = Conversion(source.upper(), target.upper(), Rate.parse(rate), dry_run)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--rate") from error

    async def run() -> Any:
        db = Database(_settings())
        try:
            total = await check(db, conversion)
            with tqdm(total=total, unit="wallet", disable=None) as bar:
                return await convert_all(db, conversion, bar.update)
        finally:
            await db.dispose()

    try:
        report = asyncio.run(run())
    except ConversionRefused as error:
        raise click.ClickException(str(error)) from error
    verb = "would move" if dry_run else "moved"
    click.echo(
        f"{conversion.source} -> {conversion.target} at {rate}: {report.converted} of "
        f"{report.wallets} wallets converted; {verb} {report.debited} {conversion.source} "
        f"into {report.credited} {conversion.target}; {report.nothing_to_move} had less "
        f"than one rate unit{' (dry run: nothing changed)' if dry_run else ''}"
    )


@main.command("import-balances")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--currency", required=True, help="The currency the balances are in.")
@click.option("--batch-size", type=click.IntRange(1, 5000), default=2000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 8),
    default=2,
    show_default=True,
    help="Batches in flight at once (reading overlaps the database).",
)
def import_balances(file: Path, currency: str, batch_size: int, workers: int) -> None:
    """Load balances from a CSV file (customer_id,amount[,expires_at]): streamed,
    idempotent per customer, resumable. Bad rows are reported and skipped; the exit
    status is 1 when any row failed."""
    from tqdm import tqdm

    from bff.kernel.db import Database
    from bff.kernel.types import utcnow
    from bff.ledger.importing import (
        BadRow,
        ImportRefused,
        check_currency,
        import_rows,
        read_lines,
        read_rows,
    )

    code = currency.upper()

    def bad_row(row: BadRow) -> None:
        tqdm.write(f"line {row.line}: {row.reason}", file=sys.stderr)

    size = file.stat().st_size

    async def run() -> Any:
        db = Database(_settings())
        try:
            await check_currency(db, code)
            with tqdm(total=size, unit="B", unit_scale=True, disable=None) as bar:
                rows = read_rows(read_lines(file, bar.update), utcnow())
                return await import_rows(
                    db, code, rows, batch_size=batch_size, workers=workers, on_bad_row=bad_row
                )
        finally:
            await db.dispose()

    try:
        report = asyncio.run(run())
    except ImportRefused as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"imported: {report.imported} rows, {report.imported_total} {code}; "
        f"already imported: {report.already} rows, {report.already_total} {code}; "
        f"failed: {report.failed} rows"
    )
    if report.failed:
        sys.exit(1)


@main.command("allow-operations")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def allow_operations(files: tuple[Path, ...]) -> None:
    """Put operations on the allow-list (BFF_PERSISTED_QUERIES=allowlist runs only these).

    FILES are .graphql documents (hashed exactly as written, as the app must send them)
    or Apollo persisted-query manifests (.json).
    """
    from bff.kernel.db import Database
    from bff.persisted.service import ManifestError, allow_operations, read_operations

    try:
        operations = [operation for path in files for operation in read_operations(path)]
    except (ManifestError, UnicodeDecodeError) as error:
        raise click.ClickException(str(error)) from error
    settings = _settings()
    for operation in operations:
        if len(operation.document.encode()) > settings.max_document_bytes:
            raise click.ClickException(
                f"{operation.name or operation.sha256} is over BFF_MAX_DOCUMENT_BYTES "
                f"({settings.max_document_bytes}): the server would refuse it"
            )

    async def run() -> int:
        db = Database(settings)
        try:
            return await allow_operations(db, operations)
        finally:
            await db.dispose()

    added = asyncio.run(run())
    for operation in operations:
        click.echo(f"{operation.sha256}  {operation.name or '(unnamed)'}")
    click.echo(f"{len(operations)} operations allowed ({added} new)")


@main.command("export-schema")
@click.option("--check", is_flag=True, help="Fail when the file differs from the code.")
@click.option("--path", type=click.Path(path_type=Path), default=SCHEMA_PATH, show_default=True)
def export_schema(check: bool, path: Path) -> None:
    """Write schema.graphql from the code, or check that it is current."""
    from bff.graphql.schema import schema_sdl

    sdl = schema_sdl()
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != sdl:
            raise click.ClickException(f"{path} is stale: run `loyalty-bff export-schema`")
        click.echo(f"{path} is current")
        return
    path.write_text(sdl, encoding="utf-8")
    click.echo(f"wrote {path}")


@main.group("db")
def local_database() -> None:
    """The local PostgreSQL server used when BFF_DATABASE_URL is unset."""


@local_database.command("status")
def db_status() -> None:
    """Say whether the local server runs, and where (exit status 3 when it does not)."""
    settings = _settings(database=False)
    if settings.database_url:
        click.echo(f"BFF_DATABASE_URL is set ({_safe_url(settings)}): the local server is unused")
    status = EmbeddedServer(settings.embedded_pgdata).status()
    if status is None:
        click.echo(f"not running (data in {settings.embedded_pgdata})")
        sys.exit(3)
    click.echo(f"running: pid {status.pid}, data in {status.pgdata}")
    click.echo(f"socket in {status.socket_dir}")
    click.echo(f"url: {status.url()}")


@local_database.command("stop")
def db_stop() -> None:
    """Stop the local server (every process using it loses its connections)."""
    server = EmbeddedServer(_settings(database=False).embedded_pgdata)
    try:
        stopped = server.stop()
    except EmbeddedDatabaseError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"stopped ({server.pgdata})" if stopped else f"not running ({server.pgdata})")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)
