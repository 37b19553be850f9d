"""Every SQL statement about devices, preferences, segments, campaigns and messages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bff.customers.models import Customer
from bff.kernel.types import UTCDateTime
from bff.ledger.models import Currency, Lot, Wallet
from bff.levels.models import CustomerLevel, Level
from push.models import (
    Campaign,
    CampaignStatus,
    Category,
    Device,
    Message,
    MessageStatus,
    Preference,
    Segment,
)
from push.segments import allows

RESTATE_AFTER = 10_000  # messages a campaign adds before the table's statistics are redone


class PushRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: Any) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # devices and preferences

    async def device_by_token(self, token: str) -> Device | None:
        return (await self.session.scalars(select(Device).where(Device.token == token))).first()

    async def devices_of(self, customer_id: int) -> Sequence[Device]:
        statement = select(Device).where(Device.customer_id == customer_id).order_by(Device.id)
        return (await self.session.scalars(statement)).all()

    async def preferences_of(self, customer_id: int) -> dict[str, bool]:
        rows = await self.session.execute(
            select(Preference.category, Preference.enabled).where(
                Preference.customer_id == customer_id
            )
        )
        return {category: enabled for category, enabled in rows}

    async def preference(self, customer_id: int, category: str) -> Preference | None:
        return await self.session.get(Preference, (customer_id, category))

    async def deactivate_devices(self, device_ids: Sequence[int], reason: str) -> None:
        if device_ids:
            await self.session.execute(
                update(Device)
                .where(Device.id.in_(device_ids))
                .values(active=False, deactivated_reason=reason)
            )

    async def prune_stale(self, seen_before: datetime) -> int:
        result = await self.session.execute(
            update(Device)
            .where(Device.active.is_(True), Device.seen_at < seen_before)
            .values(active=False, deactivated_reason="STALE")
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # segments

    async def segment(self, segment_id: int) -> Segment | None:
        return await self.session.get(Segment, segment_id)

    async def segment_by_name(self, name: str) -> Segment | None:
        return (await self.session.scalars(select(Segment).where(Segment.name == name))).first()

    async def segment_size(self, condition: ColumnElement[bool]) -> int:
        count = select(func.count()).select_from(Customer).where(condition)
        return int(await self.session.scalar(count) or 0)

    async def segment_sample(
        self, condition: ColumnElement[bool], limit: int
    ) -> Sequence[Customer]:
        statement = select(Customer).where(condition).order_by(Customer.id).limit(limit)
        return (await self.session.scalars(statement)).all()

    # campaigns

    async def campaign(self, campaign_id: int) -> Campaign | None:
        return await self.session.get(Campaign, campaign_id)

    async def due_campaign(self, now: datetime) -> Campaign | None:
        """One scheduled campaign whose time has come, locked (skipped if another worker
        is starting it)."""
        statement = (
            select(Campaign)
            .where(Campaign.status == CampaignStatus.SCHEDULED, Campaign.send_at <= now)
            .order_by(Campaign.send_at, Campaign.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(statement)).first()

    async def target(
        self, campaign: Campaign, condition: ColumnElement[bool], now: datetime
    ) -> int:
        """One message per active device of every customer in the segment who allows the
        campaign's category: copied by the database, never loaded here."""
        chosen = (
            select(
                literal(campaign.id),
                literal(campaign.category),
                Device.customer_id,
                Device.id,
                literal(MessageStatus.PENDING.value),
                literal(0),
                literal(False),
                literal(now, UTCDateTime()),
                literal(now, UTCDateTime()),
            )
            .join(Customer, Customer.id == Device.customer_id)
            .where(Device.active.is_(True), condition, allows(Category(campaign.category)))
        )
        columns = [
            "campaign_id",
            "kind",
            "customer_id",
            "device_id",
            "status",
            "attempts",
            "deferred",
            "not_before",
            "created_at",
        ]
        insert = pg_insert(Message).from_select(columns, chosen)
        result = await self.session.execute(insert.on_conflict_do_nothing())
        targeted = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if targeted >= RESTATE_AFTER:
            # autovacuum would analyze within minutes; until then the planner believes the
            # table as small as before and scans every SENT row to count caps
            await self.session.execute(text("ANALYZE push_messages"))
        return targeted

    async def stats(self, campaign_id: int) -> dict[tuple[str, str | None, bool], int]:
        rows = await self.session.execute(
            select(Message.status, Message.reason, Message.deferred, func.count())
            .where(Message.campaign_id == campaign_id)
            .group_by(Message.status, Message.reason, Message.deferred)
        )
        return {(status, reason, deferred): n for status, reason, deferred, n in rows}

    async def finish_campaigns(self, now: datetime) -> int:
        open_messages = (
            select(Message.id)
            .where(
                Message.campaign_id == Campaign.id,
                Message.status.in_([MessageStatus.PENDING, MessageStatus.SENDING]),
            )
            .exists()
        )
        result = await self.session.execute(
            update(Campaign)
            .where(Campaign.status == CampaignStatus.SENDING, ~open_messages)
            .values(status=CampaignStatus.DONE, finished_at=now)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # messages

    async def claim(self, now: datetime, limit: int) -> list[int]:
        """Due messages of campaigns that are not slowed down, marked SENDING for this
        worker; other workers skip the rows it holds."""
        paused = (
            select(Campaign.id)
            .where(Campaign.id == Message.campaign_id, Campaign.paused_until > now)
            .exists()
        )
        statement = (
            select(Message.id)
            .where(
                Message.status == MessageStatus.PENDING,
                Message.not_before <= now,
                or_(Message.campaign_id.is_(None), ~paused),
            )
            .order_by(Message.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list(await self.session.scalars(statement))
        if ids:
            await self.session.execute(
                update(Message)
                .where(Message.id.in_(ids))
                .values(status=MessageStatus.SENDING, claimed_at=now)
            )
        return ids

    async def release_stale_claims(self, claimed_before: datetime) -> int:
        """Messages a crashed worker claimed go back to the queue."""
        result = await self.session.execute(
            update(Message)
            .where(Message.status == MessageStatus.SENDING, Message.claimed_at < claimed_before)
            .values(status=MessageStatus.PENDING)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def messages(self, ids: Sequence[int]) -> Sequence[Message]:
        return (await self.session.scalars(select(Message).where(Message.id.in_(ids)))).all()

    async def devices(self, ids: Sequence[int]) -> dict[int, Device]:
        rows = await self.session.scalars(select(Device).where(Device.id.in_(ids)))
        return {row.id: row for row in rows}

    async def campaigns(self, ids: Sequence[int]) -> dict[int, Campaign]:
        rows = await self.session.scalars(select(Campaign).where(Campaign.id.in_(ids)))
        return {row.id: row for row in rows}

    async def customers(self, ids: Sequence[int]) -> dict[int, Customer]:
        rows = await self.session.scalars(select(Customer).where(Customer.id.in_(ids)))
        return {row.id: row for row in rows}

    async def currency_codes(self) -> list[str]:
        return list(await self.session.scalars(select(Currency.code).order_by(Currency.code)))

    async def balances(self, customer_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        rows = await self.session.execute(
            select(Wallet.customer_id, Wallet.currency, Wallet.balance - Wallet.held).where(
                Wallet.customer_id.in_(customer_ids)
            )
        )
        found: dict[int, dict[str, int]] = defaultdict(dict)
        for customer_id, currency, amount in rows:
            found[customer_id][currency] = int(amount)
        return found

    async def level_names(self, customer_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        rows = await self.session.execute(
            select(CustomerLevel.customer_id, Level.name_en, Level.name_ru)
            .join(Level, Level.code == CustomerLevel.level_code)
            .where(CustomerLevel.customer_id.in_(customer_ids))
        )
        return {customer_id: (en, ru) for customer_id, en, ru in rows}

    async def soonest_expiring(
        self, customer_ids: Sequence[int]
    ) -> dict[int, tuple[int, datetime]]:
        rows = await self.session.execute(
            select(Wallet.customer_id, func.sum(Lot.remaining), func.min(Lot.expires_at))
            .join(Lot, Lot.wallet_id == Wallet.id)
            .where(
                Wallet.customer_id.in_(customer_ids),
                Lot.remaining > 0,
                Lot.expires_at.is_not(None),
            )
            .group_by(Wallet.customer_id)
        )
        return {cid: (int(amount), at) for cid, amount, at in rows if at is not None}

    async def marketing_sent_since(
        self, customer_ids: Sequence[int], since: datetime
    ) -> dict[int, int]:
        """Marketing campaigns each customer got since ``since`` (a campaign to two of
        their devices counts once)."""
        rows = await self.session.execute(
            select(Message.customer_id, func.count(func.distinct(Message.campaign_id)))
            .where(
                Message.customer_id.in_(customer_ids),
                Message.status == MessageStatus.SENT,
                Message.kind != "TRANSACTIONAL",
                Message.campaign_id.is_not(None),
                Message.sent_at >= since,
            )
            .group_by(Message.customer_id)
        )
        return {customer_id: int(n) for customer_id, n in rows}

    async def refusing(self, customer_ids: Sequence[int], category: str) -> set[int]:
        """Customers among these who do not want ``category`` (any more)."""
        condition = and_(Customer.id.in_(customer_ids), ~allows(Category(category)))
        return set(await self.session.scalars(select(Customer.id).where(condition)))

    async def pause_campaign(self, campaign_id: int, until: datetime) -> None:
        await self.session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(paused_until=until, slowdowns=Campaign.slowdowns + 1)
        )

    async def devices_by_tokens(self, tokens: Sequence[str]) -> Sequence[Device]:
        return (await self.session.scalars(select(Device).where(Device.token.in_(tokens)))).all()

    async def sample_devices(
        self, condition: ColumnElement[bool], category: str, limit: int
    ) -> Sequence[Device]:
        statement = (
            select(Device)
            .join(Customer, Customer.id == Device.customer_id)
            .where(Device.active.is_(True), condition, allows(Category(category)))
            .order_by(Device.id)
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()
