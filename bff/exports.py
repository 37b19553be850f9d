"""Exports for analysts, streamed: each batch is read, written and let go, so memory stays
the same however many rows there are."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TextIO

from bff.customers.service import CustomerService
from bff.kernel.db import Database
from bff.levels.models import MovementReason
from bff.levels.service import MovementHistory

LEVEL_MOVEMENT_COLUMNS = ("id", "customer", "from_level", "to_level", "reason", "source", "at")


async def count_level_movements(
    db: Database, since: datetime | None, until: datetime | None, reasons: Sequence[MovementReason]
) -> int:
    async with db.read() as session:
        return await MovementHistory(session).count(reasons, since, until)


async def export_level_movements(
    db: Database,
    out: TextIO,
    since: datetime | None,
    until: datetime | None,
    reasons: Sequence[MovementReason] = (),
    *,
    batch_size: int = 1000,
    progress: Callable[[int], object] = lambda rows: None,
) -> int:
    """Write the movements in [since, until) as CSV, oldest first; returns how many.
    Customers are named by their external id, as analysts know them."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LEVEL_MOVEMENT_COLUMNS)
    written, after = 0, None
    while True:
        async with db.read() as session:
            page = await MovementHistory(session).page(reasons, since, until, after, batch_size)
            names = await CustomerService(session).external_ids([m.customer_id for m in page])
        if not page:
            return written
        writer.writerows(
            (
                m.id,
                names.get(m.customer_id, ""),
                m.from_level or "",
                m.to_level or "",
                m.reason.name,
                m.source,
                m.at.isoformat(),
            )
            for m in page
        )
        out.flush()
        written, after = written + len(page), page[-1].id
        progress(len(page))
