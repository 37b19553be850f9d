"""Hand-written SELECTs on the raw driver under a read session.

The per-customer reads of every home screen run here (bench/home.py is CPU-bound). On
PostgreSQL a statement costs ~0.11 ms of CPU on asyncpg against ~0.35 ms through the ORM.
On SQLite the gap is wider: aiosqlite runs each call on a thread of its own, and the ORM
makes four calls a statement (cursor, execute, fetchall, close) where ``execute_fetchall``
makes one; waking that thread is the dearest part of a read on a shared 2-core machine
(~1.3 ms a statement through the ORM against ~0.11 ms, bench notes in the README).

The session still owns the connection, its transaction if one was begun, and its return
to the pool. Units of work never read here: their models must be the session's own.
SQLAlchemy's events do not see these statements, so each is shown to
``Database.driver_listeners`` first (tests count statements with them).
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import configure_mappers
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.orm.instrumentation import manager_of_class

from bff.db import DRIVER_LISTENERS, READS_ONLY, Base

ModelT = TypeVar("ModelT", bound=Base)

_KNOWN_DRIVER = "bff_driver"  # in ``Session.info``: (a weakref to its transaction, its reads)


class DriverSQL(NamedTuple):
    """One hand-written SELECT as each driver takes it."""

    postgresql: str
    sqlite: str


_ID_ARRAY = re.compile(r"(\S+) = ANY\(\$(\d+)::bigint\[\]\)")
_PARAMETER = re.compile(r"\$(\d+)")


def driver_sql(postgresql: str, sqlite: str | None = None) -> DriverSQL:
    """A SELECT written for asyncpg (``$n``; ``column = ANY($n::bigint[])`` for a list of
    ids) and its SQLite twin, translated: ``?n``, and the list sent as a JSON array read
    with ``json_each``, so one statement text serves every length. A statement that needs
    SQLite's own functions passes ``sqlite`` too, written the same way."""
    twin = _ID_ARRAY.sub(r"\1 IN (SELECT value FROM json_each($\2))", sqlite or postgresql)
    return DriverSQL(postgresql, _PARAMETER.sub(r"?\1", twin))


def driver_select(model: type[Base], where: str) -> DriverSQL:
    """``SELECT`` every column of ``model``'s table, in table order, ``WHERE ...``: the
    SQL of ``DriverReads.models``. Made at import from the model and a literal condition
    written as for ``driver_sql``."""
    columns = ", ".join(f'"{column.name}"' for column in model.__table__.columns)
    return driver_sql(f"SELECT {columns} FROM {model.__tablename__} WHERE {where}")  # noqa: S608


class DriverReads:
    """The raw connection under one read session (``driver_reads``)."""

    def __init__(
        self, connection: Any, dialect: Dialect, listeners: list[Callable[[str], None]]
    ) -> None:
        self._connection = connection
        self._dialect = dialect
        self._listeners = listeners
        self._postgresql = dialect.name == "postgresql"

    async def fetch(self, sql: DriverSQL, *args: Any) -> Sequence[Sequence[Any]]:
        """The rows as the driver gives them (SQLite: timestamps as their stored text)."""
        if self._postgresql:
            self._announce(sql.postgresql)
            return await self._connection.fetch(sql.postgresql, *args)  # type: ignore[no-any-return]
        self._announce(sql.sqlite)
        values = [json.dumps(list(arg)) if isinstance(arg, list | tuple) else arg for arg in args]
        return await self._connection.execute_fetchall(sql.sqlite, values)  # type: ignore[no-any-return]

    async def models(self, model: type[ModelT], sql: DriverSQL, *args: Any) -> list[ModelT]:
        """The rows of a ``driver_select`` on ``model``, as models."""
        return driver_models(model, await self.fetch(sql, *args), self._dialect)

    def _announce(self, sql: str) -> None:
        for listener in self._listeners:
            listener(sql)


async def driver_reads(session: AsyncSession) -> DriverReads | None:
    """The driver under a read session; None in a unit of work (its models must be the
    session's own, its reads inside its transaction)."""
    if not session.info.get(READS_ONLY):
        return None
    # The connection stays the same while the session's transaction does; asking the
    # session each time cost a greenlet switch per statement. The transaction is held
    # weakly: it holds the session, and a cycle would leave every session of every
    # request to the garbage collector.
    known = session.info.get(_KNOWN_DRIVER)
    if known is not None:
        transaction = known[0]()  # None once it ended: never taken for "no transaction"
        if transaction is not None and transaction is session.sync_session.get_transaction():
            return known[1]  # type: ignore[no-any-return]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    reads = DriverReads(raw.driver_connection, connection.dialect, session.info[DRIVER_LISTENERS])
    session.info[_KNOWN_DRIVER] = (weakref.ref(session.sync_session.get_transaction()), reads)
    return reads


def driver_models(
    model: type[ModelT], rows: Iterable[Sequence[Any]], dialect: Dialect
) -> list[ModelT]:
    """Models holding the rows of a ``driver_select``, made as the ORM's own loading makes
    them (an instance and its dict) rather than through ``__init__``: 2 us a row against
    16 with the attribute events of the constructor. Each value goes through its column
    type as the ORM's would (SQLite's timestamp text, its 0/1 booleans). They belong to no
    session."""
    manager = manager_of_class(model)
    if not manager.mapper.configured:
        # ``__init__`` would configure the mappers on first use; this path must ask.
        configure_mappers()
    columns = _columns(model, dialect)
    made = []
    for row in rows:
        instance = manager.new_instance()
        instance_dict(instance).update(
            (key, value if process is None else process(value))
            for (key, process), value in zip(columns, row, strict=True)
        )
        made.append(instance)
    return made


@lru_cache(maxsize=64)  # a few models on one or two engines (tests make many)
def _columns(model: type[Base], dialect: Dialect) -> list[tuple[str, Any]]:
    """Each column's attribute key and the result processor of its type, in table order."""
    mapper = manager_of_class(model).mapper
    return [
        (
            mapper.get_property_by_column(column).key,
            column.type.dialect_impl(dialect).result_processor(dialect, None),
        )
        for column in model.__table__.columns
    ]
