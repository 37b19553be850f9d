"""The per-request DataLoader container: every domain's ``LoaderSet``, one line each."""

from __future__ import annotations

from bff.graphql.customers.loaders import CustomerLoaders
from bff.graphql.dataloaders import CatalogueLoader
from bff.graphql.earning.loaders import EarningLoaders
from bff.graphql.flags.loaders import FlagLoaders
from bff.graphql.ledger.loaders import LedgerLoaders
from bff.graphql.levels.loaders import LevelLoaders
from bff.graphql.marketplace.loaders import MarketplaceLoaders
from bff.graphql.partners.loaders import PartnerLoaders
from bff.kernel.catalogue import CatalogueCache
from bff.kernel.db import Reader

__all__ = ["CatalogueLoader", "Loaders"]


class Loaders(
    CustomerLoaders,
    LedgerLoaders,
    EarningLoaders,
    LevelLoaders,
    FlagLoaders,
    PartnerLoaders,
    MarketplaceLoaders,
):
    """Every DataLoader of one request, each made on first use."""

    @classmethod
    def build(cls, reads: Reader, catalogue: CatalogueCache) -> Loaders:
        """Loaders for one request; catalogue rows come through the shared cache."""
        return cls(reads, catalogue)
