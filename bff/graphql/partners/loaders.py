"""Partner DataLoaders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import cached_property, partial

from strawberry.dataloader import DataLoader

from bff.graphql.dataloaders import LoaderSet
from bff.kernel.db import Reader
from bff.partners.models import OfferActivation, Partner
from bff.partners.repository import PartnerRepository


class PartnerLoaders(LoaderSet):
    @cached_property
    def partner_by_id(self) -> DataLoader[int, Partner | None]:
        return self.shared("partner", partial(_partner_by_id, self.reads))

    @cached_property
    def activation_by_customer_offer(self) -> DataLoader[tuple[int, int], OfferActivation | None]:
        return DataLoader(partial(_activation_by_customer_offer, self.reads))


async def _partner_by_id(reads: Reader, partner_ids: Sequence[int]) -> list[Partner | None]:
    async with reads.read() as session:
        partners = await PartnerRepository(session).partners_by_ids(partner_ids)
    by_id = {partner.id: partner for partner in partners}
    return [by_id.get(partner_id) for partner_id in partner_ids]


async def _activation_by_customer_offer(
    reads: Reader, keys: Sequence[tuple[int, int]]
) -> list[OfferActivation | None]:
    """Keys are (customer id, offer id); one query per customer in the batch."""
    offers_by_customer: dict[int, list[int]] = defaultdict(list)
    for customer_id, offer_id in keys:
        offers_by_customer[customer_id].append(offer_id)
    found: dict[tuple[int, int], OfferActivation] = {}
    async with reads.read() as session:
        repository = PartnerRepository(session)
        for customer_id, offer_ids in offers_by_customer.items():
            for row in await repository.activations_of(customer_id, offer_ids):
                found[(row.customer_id, row.offer_id)] = row
    return [found.get(key) for key in keys]
