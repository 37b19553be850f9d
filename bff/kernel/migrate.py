"""Alembic driven from code: ``loyalty-bff migrate`` and the test fixtures use this."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bff.kernel.config import Settings
from bff.kernel.db import create_engine

MIGRATIONS = Path(__file__).parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser reads "%" as interpolation; a socket folder in the URL is %-encoded.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    def _upgrade(connection: Connection) -> None:
        config = alembic_config(str(engine.url))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def upgrade_database(settings: Settings, revision: str = "head") -> None:
    engine = create_engine(settings)
    try:
        await upgrade(engine, revision)
    finally:
        await engine.dispose()


def run_upgrade(settings: Settings) -> None:
    asyncio.run(upgrade_database(settings))
