"""Engine, sessions and the unit of work, on PostgreSQL.

Without a configured URL the local server of ``bff.kernel.embedded_db`` is started (or reused);
production refuses that at configuration time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import asyncpg
from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from bff.kernel.config import Settings
from bff.kernel.embedded_db import EmbeddedServer

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CATALOGUE_CHANGED = "bff_catalogue_changed"
# In ``Session.info``: a session that never writes, and where its driver reads are shown
# (bff.kernel.driver).
READS_ONLY = "bff_reads_only"
DRIVER_LISTENERS = "bff_driver_listeners"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)


def with_database_url(settings: Settings) -> Settings:
    """``settings`` with a database URL: the configured one, or that of the local server
    in the data folder, started when it does not run yet."""
    if settings.database_url:
        return settings
    url = EmbeddedServer(settings.embedded_pgdata).ensure_running()
    return dataclasses.replace(settings, database_url=url)


def database_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` came from a database that is not there or did not answer in time
    (stopped, restarting, unreachable, frozen), rather than from what was asked of it."""
    # The driver's own classes tell a lost server from a bad statement.
    lost = (
        OSError,  # refused, reset, no socket; TimeoutError is one too
        SQLAlchemyTimeoutError,  # no pooled connection in time
        asyncpg.PostgresConnectionError,
        asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting, cancelled
    )
    while error is not None:
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, lost):
            return True
        error = error.__cause__ or error.__context__
    return False


def create_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        with_database_url(settings).database_url,
        echo=settings.db_echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=False,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": settings.db_statement_timeout_seconds,
            **_statement_cache(settings.db_statement_cache_size),
        },
    )


def _statement_cache(size: int) -> dict[str, Any]:
    """asyncpg's and SQLAlchemy's caches of prepared statements. Without them (``0``) each
    statement is prepared under a name of its own, so a pooler in transaction mode never
    hands a connection a name another client prepared."""
    if size > 0:
        return {"statement_cache_size": size, "prepared_statement_cache_size": size}
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": lambda: f"__bff_{uuid.uuid4().hex}__",
    }


class Database:
    """The engine and the two session factories; owned by the app's lifespan."""

    def __init__(self, settings: Settings, engine: AsyncEngine | None = None) -> None:
        self.settings = settings = with_database_url(settings)
        self.engine = engine or create_engine(settings)
        # Called with each statement sent on the driver (bff.kernel.driver); tests count them.
        self.driver_listeners: list[Callable[[str], None]] = []
        reads_only = {READS_ONLY: True, DRIVER_LISTENERS: self.driver_listeners}
        # Reads run without BEGIN and ROLLBACK: under READ COMMITTED each statement sees
        # what is committed when it runs either way, and the two round trips cost a
        # short request as much as a statement.
        self._read_sessions = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            info=reads_only,
        )
        self._write_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Run after a transaction marked by ``bff.kernel.catalogue.catalogue_changed`` commits.
        self.after_catalogue_commit: list[Callable[[], None]] = []

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A short read-only session; nothing it does is committed."""
        async with self._read_sessions() as session:
            yield session

    def read_session(self) -> AsyncSession:
        """A read session the caller closes (``RequestReads``)."""
        return self._read_sessions()

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
    connection, which saves a pool checkout, a BEGIN and a ROLLBACK per loader (six times
    on a signed-in home screen). Each statement still sees
    what is committed when it runs (READ COMMITTED): the catalogue cache relies on that
    (a read that starts after an edit sees the edit). Only queries share: a mutation's payload reads
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
                        self._session = self._db.read_session()
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
