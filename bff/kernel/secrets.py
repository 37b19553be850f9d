"""Encryption at rest for secrets the service must read back (partners' HMAC keys).

The key comes from ``BFF_SECRETS_KEY`` (a Fernet key). Outside production a key is
generated once into the data folder, like the dev signing key.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from bff.kernel.config import ConfigError, Settings
from bff.kernel.files import read_or_create


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        if settings.secrets_key:
            return cls(settings.secrets_key.encode())
        if settings.is_production:
            raise ConfigError("BFF_SECRETS_KEY is required in production")
        # Made once into the data folder, shared by processes starting together.
        return cls(read_or_create(settings.data_dir / "secrets.key", Fernet.generate_key).strip())

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open_recent(self, sealed: str, max_age_seconds: int) -> str | None:
        """What ``seal`` sealed at most ``max_age_seconds`` ago; None for anything else
        (forged, altered, too old, or not a token at all)."""
        try:
            return self._fernet.decrypt(sealed.encode(), ttl=max_age_seconds).decode()
        except (InvalidToken, UnicodeError, ValueError):
            return None

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as error:
            raise ConfigError("a stored secret does not open with BFF_SECRETS_KEY") from error
