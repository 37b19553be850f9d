"""The migrations build exactly the schema the models describe: a model changed without
its migration (or the reverse) fails here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import bff.models  # noqa: F401  (every domain's tables on the metadata)
from bff.kernel.db import Base


async def test_the_migrated_schema_is_the_models_schema(db):
    def differences(connection):
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    async with db.engine.connect() as connection:
        found = await connection.run_sync(differences)
    assert found == []
