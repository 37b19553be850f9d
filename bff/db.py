"""Engine, sessions and the unit of work.

SQLite serialises writers itself; a write transaction starts with ``BEGIN IMMEDIATE``
so that a read-then-write transaction never fails to upgrade its lock halfway. Reads
start with a plain ``BEGIN`` and run beside the writer thanks to WAL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from sqlalchemy import MetaData, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from bff.config import Settings

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE_OPTION = "bff_write"
_NO_BEGIN_OPTION = "bff_no_begin"  # SQLite: autocommit reads, a snapshot per statement
CATALOGUE_CHANGED = "bff_catalogue_changed"
# In ``Session.info``: a session that never writes, and where its driver reads are shown
# (bff.driver).
READS_ONLY = "bff_reads_only"
DRIVER_LISTENERS = "bff_driver_listeners"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            settings.database_url,
            echo=settings.db_echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        settings.database_url,
        echo=settings.db_echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=False,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN can be chosen per session.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get(_NO_BEGIN_OPTION, False):
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE_OPTION) else "BEGIN")


def insert_or_ignore(dialect: str, target: Any) -> Any:
    """``INSERT ... ON CONFLICT`` for the dialect at hand (both spell it the same way)."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(target)


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


class Database:
    """The engine and the two session factories; owned by the app's lifespan."""

    def __init__(self, settings: Settings, engine: AsyncEngine | None = None) -> None:
        self.settings = settings
        self.engine = engine or create_engine(settings)
        self.dialect = self.engine.dialect.name
        write_bind = self.engine.execution_options(**{_WRITE_OPTION: True})
        # Called with each statement sent on the driver (bff.driver); tests count them.
        self.driver_listeners: list[Callable[[str], None]] = []
        reads_only = {READS_ONLY: True, DRIVER_LISTENERS: self.driver_listeners}
        self._read_sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, info=reads_only
        )
        statement_bind = self.engine.execution_options(**{_NO_BEGIN_OPTION: True})
        self._statement_read_sessions = async_sessionmaker(
            statement_bind, expire_on_commit=False, info=reads_only
        )
        self._write_sessions = async_sessionmaker(write_bind, expire_on_commit=False)
        # Run after a transaction marked by ``bff.catalogue.catalogue_changed`` commits.
        self.after_catalogue_commit: list[Callable[[], None]] = []

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A short read-only session; nothing it does is committed."""
        async with self._read_sessions() as session:
            yield session

    def statement_reads(self) -> AsyncSession:
        """A read session the caller closes, each statement seeing what is committed when
        it runs (``RequestReads``)."""
        return self._statement_read_sessions()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block ends, rolled back on error."""
        async with self._write_sessions() as session:
            async with session.begin():
                yield session
            if session.info.pop(CATALOGUE_CHANGED, False):
                for drop_cached_catalogue in self.after_catalogue_commit:
                    drop_cached_catalogue()

    async def dispose(self) -> None:
        await self.engine.dispose()


class Reader(Protocol):
    """Where DataLoaders read: ``Database`` itself, or a request's ``RequestReads``."""

    def read(self) -> AbstractAsyncContextManager[AsyncSession]: ...


class RequestReads:
    """The reads of one GraphQL request: a session per read, or, once ``share`` is called,
    one session for them all, opened on first use and closed by ``close``.

    A query's DataLoaders dispatch concurrently; sharing, they take turns on one
    connection, which saves a pool checkout, a BEGIN and a ROLLBACK per loader (about
    0.4 ms of CPU each, six times on a signed-in home screen). Each statement still sees
    what is committed when it runs: PostgreSQL reads at READ COMMITTED, and the shared
    session on SQLite runs without BEGIN. The catalogue cache relies on that (a read that
    starts after an edit sees the edit). Only queries share: a mutation's payload reads
    what the mutation has just committed through a session of its own.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._shared = False
        self._turns = asyncio.Lock()
        self._session: AsyncSession | None = None

    def share(self) -> None:
        self._shared = True

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        if self._shared:
            async with self._turns:
                if self._shared:  # not closed while this read waited its turn
                    if self._session is None:
                        self._session = self._db.statement_reads()
                    yield self._session
                    return
        async with self._db.read() as session:
            yield session

    async def close(self) -> None:
        async with self._turns:
            self._shared = False
            if self._session is not None:
                session, self._session = self._session, None
                await session.close()
