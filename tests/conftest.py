from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from starlette.applications import Starlette

from bff.app import create_app
from bff.config import Settings
from bff.db import Database
from tests.fixtures.database import (
    BACKENDS,
    POSTGRES_URL,
    database_url,
    empty_postgres,
    prepare_postgres,
    require_backend,
    sqlite_template,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A ``postgres_only`` test is collected for PostgreSQL alone (deselected, not skipped,
    for SQLite): what it checks does not exist there."""
    sqlite_only_copies = [
        item
        for item in items
        if item.get_closest_marker("postgres_only")
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("backend") == "sqlite"
    ]
    if sqlite_only_copies:
        config.hook.pytest_deselected(items=sqlite_only_copies)
        items[:] = [item for item in items if item not in sqlite_only_copies]


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory)


@pytest.fixture(scope="session")
def postgres_ready() -> bool:
    if POSTGRES_URL:
        prepare_postgres()
    return bool(POSTGRES_URL)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, postgres_ready: bool) -> str:
    require_backend(request.param)
    return str(request.param)


@pytest.fixture
def settings(backend: str, template_db: Path, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url(backend, template_db, tmp_path),
        data_dir=tmp_path,
        dev_auth=True,
        db_pool_size=20,
        orders_hmac_secret="test-orders-secret",
    )


@pytest.fixture
async def db(settings: Settings, backend: str) -> AsyncIterator[Database]:
    database = Database(settings)
    if backend == "postgresql":
        await empty_postgres(database)
    yield database
    await database.dispose()


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client for ``app`` with its lifespan running, called in process over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture
async def app_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with its lifespan, called in process over ASGI."""
    async with serving(create_app(settings)) as client:
        yield client


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def counting_statements(app_or_db: Any) -> Iterator[StatementCounter]:
    """Counts SQL statements sent by the app's engine or on its driver (bff.db.DriverReads),
    BEGIN/COMMIT excluded."""
    database: Database = getattr(getattr(app_or_db, "state", None), "db", app_or_db)
    counter = StatementCounter()

    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            counter.statements.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", _count)
    database.driver_listeners.append(counter.statements.append)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", _count)
        database.driver_listeners.remove(counter.statements.append)
