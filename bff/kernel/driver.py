"""Hand-written SELECTs on asyncpg under a read session.

The per-customer reads of every home screen run here (bench/home.py is CPU-bound): a
statement sent straight to asyncpg costs about a third of the CPU of the same statement
through the ORM.

The session still owns the connection, its transaction if one was begun, and its return
to the pool. Units of work never read here: their models must be the session's own.
SQLAlchemy's events do not see these statements, so each is shown to
``Database.driver_listeners`` first (tests count statements with them).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import configure_mappers
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.orm.instrumentation import manager_of_class

from bff.kernel.db import DRIVER_LISTENERS, READS_ONLY, Base

ModelT = TypeVar("ModelT", bound=Base)

_KNOWN_DRIVER = "bff_driver"  # in ``Session.info``: (a weakref to its transaction, its reads)


def driver_select(model: type[Base], where: str) -> str:
    """``SELECT`` every column of ``model``'s table, in table order, ``WHERE ...``: the
    SQL of ``DriverReads.models``. Made at import from the model and a literal condition
    (``$n`` parameters; ``column = ANY($n::bigint[])`` for a list of ids)."""
    columns = ", ".join(f'"{column.name}"' for column in model.__table__.columns)
    return f"SELECT {columns} FROM {model.__tablename__} WHERE {where}"  # noqa: S608


class DriverReads:
    """The raw connection under one read session (``driver_reads``)."""

    def __init__(
        self, connection: Any, dialect: Dialect, listeners: list[Callable[[str], None]]
    ) -> None:
        self._connection = connection
        self._dialect = dialect
        self._listeners = listeners

    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        """The rows as asyncpg gives them."""
        for listener in self._listeners:
            listener(sql)
        return await self._connection.fetch(sql, *args)  # type: ignore[no-any-return]

    async def models(self, model: type[ModelT], sql: str, *args: Any) -> list[ModelT]:
        """The rows of a ``driver_select`` on ``model``, as models."""
        return driver_models(model, await self.fetch(sql, *args), self._dialect)


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
    them (an instance and its dict) rather than through ``__init__``, whose attribute
    events cost several times more per row. Each value goes through its column
    type as the ORM's would (timestamps in UTC). They belong to no session."""
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
