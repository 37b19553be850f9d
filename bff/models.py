"""Imports every domain's models so ``metadata`` knows all tables (Alembic, tests)."""

from bff.customers import models as customers
from bff.earning import models as earning
from bff.flags import models as flags
from bff.kernel.db import Base
from bff.ledger import models as ledger
from bff.levels import models as levels
from bff.marketplace import models as marketplace
from bff.partners import models as partners
from bff.persisted import models as persisted
from bff.spending import models as spending
from push import models as push
from webviews import models as webviews

metadata = Base.metadata

__all__ = [
    "customers",
    "earning",
    "flags",
    "ledger",
    "levels",
    "marketplace",
    "metadata",
    "partners",
    "persisted",
    "push",
    "spending",
    "webviews",
]
