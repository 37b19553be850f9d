"""The per-request DataLoader container.

Each loader opens its own short read session, so sibling fields resolved at the
same time never share an ``AsyncSession``.
"""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from bff.catalogue import CatalogueCache
from bff.customers.loaders import CustomerLoaders
from bff.customers.models import Customer
from bff.db import Reader
from bff.flags.models import FeatureFlag
from bff.ledger.loaders import Expiring, LedgerLoaders
from bff.ledger.models import Currency, Hold, LedgerEntry, Wallet
from bff.levels.loaders import LevelLoaders
from bff.levels.models import CustomerLevel, Level
from bff.marketplace.loaders import MarketplaceLoaders, ProductPageKey
from bff.marketplace.models import Category, Product, StopListEntry
from bff.partners.loaders import PartnerLoaders
from bff.partners.models import OfferActivation, Partner


@dataclass(frozen=True)
class Loaders:
    customer_by_id: DataLoader[int, Customer | None]
    wallets_by_customer_id: DataLoader[int, list[Wallet]]
    expiring_by_wallet_id: DataLoader[int, Expiring | None]
    ledger_entry_by_id: DataLoader[int, LedgerEntry | None]
    enabled_currencies: DataLoader[None, list[Currency]]
    standing_by_customer_id: DataLoader[int, CustomerLevel | None]
    levels: DataLoader[None, list[Level]]
    pending_by_customer_id: DataLoader[int, dict[str, int]]
    flags: DataLoader[None, list[FeatureFlag]]
    partner_by_id: DataLoader[int, Partner | None]
    activation_by_customer_offer: DataLoader[tuple[int, int], OfferActivation | None]
    category_by_id: DataLoader[int, Category | None]
    product_by_id: DataLoader[int, Product | None]
    products_by_category: DataLoader[ProductPageKey, list[Product]]
    stops_by_product_id: DataLoader[int, list[StopListEntry]]
    hold_by_id: DataLoader[int, Hold | None]

    @classmethod
    def build(cls, db: Reader, catalogue: CatalogueCache) -> Loaders:
        """Loaders for one request; catalogue rows come through the shared cache."""
        shared = catalogue.batch
        customers = CustomerLoaders(db)
        ledger = LedgerLoaders(db)
        levels = LevelLoaders(db)
        partners = PartnerLoaders(db)
        marketplace = MarketplaceLoaders(db)
        return cls(
            customer_by_id=DataLoader(customers.customer_by_id),
            wallets_by_customer_id=DataLoader(ledger.wallets_by_customer_id),
            expiring_by_wallet_id=DataLoader(ledger.expiring_by_wallet_id),
            ledger_entry_by_id=DataLoader(ledger.entry_by_id),
            enabled_currencies=DataLoader(shared("currencies", ledger.enabled_currencies)),
            standing_by_customer_id=DataLoader(levels.standing_by_customer_id),
            levels=DataLoader(shared("levels", levels.levels)),
            pending_by_customer_id=DataLoader(levels.pending_by_customer_id),
            flags=DataLoader(shared("flags", levels.flags)),
            partner_by_id=DataLoader(shared("partner", partners.partner_by_id)),
            activation_by_customer_offer=DataLoader(partners.activation_by_customer_offer),
            category_by_id=DataLoader(shared("category", marketplace.category_by_id)),
            product_by_id=DataLoader(shared("product", marketplace.product_by_id)),
            products_by_category=DataLoader(shared("shelf", marketplace.products_by_category)),
            stops_by_product_id=DataLoader(shared("stops", marketplace.stops_by_product_id)),
            hold_by_id=DataLoader(marketplace.hold_by_id),
        )
