"""Encryption at rest for secrets the service must read back (partners' HMAC keys).

The key comes from ``BFF_SECRETS_KEY`` (a Fernet key). Outside production a key is
generated once into the data folder, like the dev signing key.
"""

from __future__ import annotations

import os

from cryptography.fernet import Fernet, InvalidToken

from bff.kernel.config import ConfigError, Settings


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        if settings.secrets_key:
            return cls(settings.secrets_key.encode())
        if settings.is_production:
            raise ConfigError("BFF_SECRETS_KEY is required in production")
        path = settings.data_dir / "secrets.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as error:
            raise ConfigError("a stored secret does not open with BFF_SECRETS_KEY") from error
