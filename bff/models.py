"""Imports every domain's models so ``metadata`` knows all tables (Alembic, tests)."""

from bff.customers import models as customers
from bff.db import Base
from bff.ledger import models as ledger

metadata = Base.metadata

__all__ = ["customers", "ledger", "metadata"]
