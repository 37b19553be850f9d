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
from bff.kernel.config import Settings
from bff.kernel.db import Database
from tests.fixtures.database import empty_postgres, migrated_database


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with migrated_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def settings(postgres_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=postgres_url,
        data_dir=tmp_path,
        dev_auth=True,
        db_pool_size=20,
        orders_hmac_secret="test-orders-secret",
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
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
    """Counts SQL statements sent by the app's engine or on its driver (bff.kernel.db.DriverReads),
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
