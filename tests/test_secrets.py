"""Partners' signing secrets are encrypted at rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bff.kernel.config import ConfigError, Settings
from bff.kernel.secrets import SecretBox
from tests.fixtures.processes import together


def test_sealed_secrets_open_with_the_same_key_only(tmp_path):
    key = Fernet.generate_key().decode()
    box = SecretBox.from_settings(Settings(data_dir=tmp_path, secrets_key=key))
    sealed = box.seal("partner-secret")
    assert "partner-secret" not in sealed
    assert box.open(sealed) == "partner-secret"
    other = SecretBox.from_settings(
        Settings(data_dir=tmp_path, secrets_key=Fernet.generate_key().decode())
    )
    with pytest.raises(ConfigError):
        other.open(sealed)


def test_development_keeps_a_generated_key_and_production_requires_one(tmp_path):
    first = SecretBox.from_settings(Settings(data_dir=tmp_path))
    again = SecretBox.from_settings(Settings(data_dir=tmp_path))
    assert again.open(first.seal("s")) == "s"
    assert (tmp_path / "secrets.key").stat().st_mode & 0o077 == 0
    production = Settings(
        data_dir=tmp_path,
        env="production",
        database_url="postgresql://db/x",
        public_url="https://loyalty.example",
    )
    with pytest.raises(ConfigError, match="BFF_SECRETS_KEY"):
        SecretBox.from_settings(production)


def _sealed_after(data_dir: str, start: Any) -> str:
    start.wait()
    return SecretBox.from_settings(Settings(data_dir=Path(data_dir))).seal("shared")


def test_processes_starting_together_share_one_generated_key(tmp_path):
    """`serve --workers N` on a new data folder: every worker must open what another
    sealed, and none may fail on another's half-made key file."""
    sealed = together(_sealed_after, str(tmp_path))
    box = SecretBox.from_settings(Settings(data_dir=tmp_path))
    assert [box.open(token) for token in sealed] == ["shared"] * len(sealed)
    assert [path.name for path in tmp_path.iterdir()] == ["secrets.key"]
