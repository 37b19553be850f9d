"""Settings read from ``BFF_*`` environment variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PREFIX = "BFF_"
PRODUCTION = "production"
PERSISTED_QUERY_MODES = ("automatic", "allowlist", "off")
# An origin a page's Content-Security-Policy may name: nothing that could end the directive.
IMAGE_HOST = re.compile(r"https://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")


class ConfigError(ValueError):
    """A setting is missing, malformed or unsafe for the environment."""


def _default_data_dir() -> Path:
    return Path("var")


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment; see the README's table."""

    env: str = "development"
    data_dir: Path = field(default_factory=_default_data_dir)
    database_url: str = ""
    # LISTEN needs a session of its own: set where BFF_DATABASE_URL goes through a pooler
    # in transaction mode.
    database_listen_url: str = ""
    db_pool_size: int = 10
    # A database that does not answer is a fast error, never a hang.
    db_connect_timeout_seconds: float = 5.0
    db_statement_timeout_seconds: float = 30.0
    db_pool_timeout_seconds: float = 5.0
    # 0 for PgBouncer in transaction mode: prepared statements belong to a server
    # connection, which a pooler hands to another client after each transaction.
    db_statement_cache_size: int = 100
    db_echo: bool = False

    dev_auth: bool = False
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwks_url: str = ""
    jwt_public_key: str = ""
    jwt_leeway_seconds: int = 30

    graphiql: bool | None = None
    introspection: bool | None = None
    field_suggestions: bool | None = None
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 3000
    # bff.graphql.cost: the app's home screen costs well under a hundredth of it.
    max_query_cost: int = 10_000
    max_page_size: int = 100  # bff.graphql.pagination.DEFAULT_MAX_PAGE_SIZE
    catalogue_cache_seconds: float = 5.0
    # "" picks the environment's default: allowlist in production, automatic elsewhere.
    persisted_queries: str = ""
    max_document_bytes: int = 32 * 1024
    persisted_queries_max_registered: int = 10_000
    persisted_queries_max_registered_per_hour: int = 1_000

    hold_ttl_seconds: int = 900
    redemption_hold_seconds: int = 1800
    worker_interval_seconds: float = 5.0
    worker_batch_size: int = 500

    orders_hmac_secret: str = ""
    secrets_key: str = ""
    signature_window_seconds: int = 300
    order_hold_seconds: int = 7200
    # Points held at checkout wait this long for the order to complete or be cancelled.
    checkout_hold_seconds: int = 24 * 3600
    level_decay_days: int = 30
    level_postpone_days: int = 30
    # A gap without orders longer than this starts the order count of levels again.
    level_reset_days: int = 30
    timezone: str = "Europe/Moscow"

    public_url: str = ""
    webview_code_seconds: int = 60
    webview_session_seconds: int = 12 * 3600
    webview_cookie_secure: bool = True
    # Origins the WebViews may show pictures from (e.g. https://cdn.example.com), comma
    # separated; pictures elsewhere are shown as the partner's initial instead.
    webview_image_hosts: str = ""

    fcm_project_id: str = ""
    fcm_credentials: str = ""
    fcm_url: str = ""
    fcm_http2: bool = False  # the SDK's own HTTP/2 client (httpx) instead of push.fcm_client
    push_batch_size: int = 500
    push_max_attempts: int = 5
    push_device_stale_days: int = 270
    push_quiet_start_minute: int = 22 * 60
    push_quiet_end_minute: int = 9 * 60

    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def image_hosts(self) -> tuple[str, ...]:
        hosts = (host.strip().rstrip("/") for host in self.webview_image_hosts.split(","))
        return tuple(host for host in hosts if host)

    def __post_init__(self) -> None:
        # "Production" and " production" are production too: never fall back to
        # development (dev auth, GraphiQL, the embedded server) on a typo of case.
        object.__setattr__(self, "env", self.env.strip().lower())
        for name in ("database_url", "database_listen_url"):
            if url := getattr(self, name):
                object.__setattr__(self, name, _asyncpg_url(url))
        if not self.database_url and self.is_production:
            raise ConfigError(
                "BFF_DATABASE_URL is required when BFF_ENV=production "
                "(the embedded PostgreSQL server is for development and tests)"
            )
        if not self.persisted_queries:
            default = "allowlist" if self.is_production else "automatic"
            object.__setattr__(self, "persisted_queries", default)
        if self.persisted_queries not in PERSISTED_QUERY_MODES:
            modes = ", ".join(PERSISTED_QUERY_MODES)
            raise ConfigError(f"BFF_PERSISTED_QUERIES must be one of: {modes}")
        if self.is_production and self.fcm_url and not self.fcm_credentials:
            raise ConfigError("BFF_FCM_URL without BFF_FCM_CREDENTIALS is for local tests only")
        if self.is_production and not self.public_url:
            # Hand-off URLs would otherwise take their host from the request's Host header,
            # which any caller chooses.
            raise ConfigError("BFF_PUBLIC_URL is required when BFF_ENV=production")
        if self.is_production and self.dev_auth:
            raise ConfigError("BFF_DEV_AUTH is refused when BFF_ENV=production")
        for host in self.image_hosts:
            if not IMAGE_HOST.fullmatch(host):
                raise ConfigError(
                    f"BFF_WEBVIEW_IMAGE_HOSTS: {host!r} is not an https://host[:port] origin"
                )

    @property
    def is_production(self) -> bool:
        return self.env == PRODUCTION

    @property
    def embedded_pgdata(self) -> Path:
        """Where the local PostgreSQL server keeps its files when no URL is set."""
        return self.data_dir / "postgres"

    @property
    def graphiql_enabled(self) -> bool:
        return (not self.is_production) if self.graphiql is None else self.graphiql

    @property
    def introspection_enabled(self) -> bool:
        if self.introspection is None:
            return not self.is_production
        return self.introspection

    @property
    def field_suggestions_enabled(self) -> bool:
        """ "Did you mean ...?" in errors: a way to read the schema without introspection."""
        if self.field_suggestions is None:
            return self.introspection_enabled
        return self.field_suggestions

    @property
    def dev_key_path(self) -> Path:
        return self.data_dir / "dev-jwt-key.pem"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``BFF_*`` variables; ``overrides`` win over the environment."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for item in fields(cls):
            raw = environ.get(PREFIX + item.name.upper())
            if raw is not None:
                values[item.name] = _parse(item.name, str(item.type), raw)
        values.update(overrides)
        return cls(**values)


_POSTGRES_SCHEMES = ("postgresql+asyncpg://", "postgresql://", "postgres://")


def _asyncpg_url(url: str) -> str:
    """The URL for SQLAlchemy on asyncpg; PostgreSQL is the only database."""
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return "postgresql+asyncpg://" + url.removeprefix(scheme)
    raise ConfigError("BFF_DATABASE_URL must be a PostgreSQL URL (postgresql+asyncpg://...)")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse(name: str, type_name: str, raw: str) -> Any:
    variable = PREFIX + name.upper()
    try:
        if type_name.startswith("bool"):
            return _parse_bool(raw, optional="None" in type_name)
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        if type_name == "Path":
            return Path(raw)
    except ValueError as error:
        raise ConfigError(f"{variable}={raw!r}: expected {type_name}") from error
    return raw


def _parse_bool(raw: str, *, optional: bool) -> bool | None:
    lowered = raw.strip().lower()
    if optional and lowered in {"", "auto"}:
        return None
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(raw)
