from __future__ import annotations

from pathlib import Path

import pytest

from bff.kernel.config import ConfigError, Settings
from bff.kernel.i18n import message, negotiate_locale


def test_defaults_are_the_local_postgresql_server_and_development():
    settings = Settings.from_env({})
    assert settings.database_url == ""  # the embedded server's, once started
    assert settings.embedded_pgdata == Path("var/postgres")
    assert settings.graphiql_enabled
    assert settings.introspection_enabled
    assert not settings.dev_auth


def test_environment_variables_are_parsed():
    settings = Settings.from_env(
        {
            "BFF_DATABASE_URL": "postgresql+asyncpg://u:p@db/loyalty",
            "BFF_DB_POOL_SIZE": "7",
            "BFF_DEV_AUTH": "yes",
            "BFF_DATA_DIR": "/tmp/x",
            "BFF_GRAPHIQL": "off",
            "BFF_WORKER_INTERVAL_SECONDS": "0.5",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://u:p@db/loyalty"
    assert settings.db_pool_size == 7
    assert settings.dev_auth
    assert settings.data_dir == Path("/tmp/x")
    assert settings.worker_interval_seconds == 0.5
    assert settings.graphiql_enabled is False


PRODUCTION = {
    "BFF_ENV": "production",
    "BFF_DATABASE_URL": "postgresql://u:p@db/loyalty",
    "BFF_PUBLIC_URL": "https://loyalty.example",
}


def test_production_hides_tools_unless_configured():
    production = Settings.from_env(PRODUCTION)
    assert not production.graphiql_enabled
    assert not production.introspection_enabled
    opted_in = Settings.from_env({**PRODUCTION, "BFF_INTROSPECTION": "1"})
    assert opted_in.introspection_enabled


def test_production_needs_its_public_url():
    """Hand-off URLs would otherwise take their host from the request's Host header."""
    without = {key: value for key, value in PRODUCTION.items() if key != "BFF_PUBLIC_URL"}
    with pytest.raises(ConfigError, match="BFF_PUBLIC_URL is required"):
        Settings.from_env(without)


def test_production_refuses_the_embedded_server():
    with pytest.raises(ConfigError, match="BFF_DATABASE_URL is required"):
        Settings.from_env({"BFF_ENV": "production"})


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@db/loyalty",
        "postgres://u:p@db/loyalty",
        "postgresql+asyncpg://u:p@db/loyalty",
    ],
)
def test_postgresql_urls_are_taken_on_asyncpg(url):
    settings = Settings.from_env({"BFF_DATABASE_URL": url})
    assert settings.database_url == "postgresql+asyncpg://u:p@db/loyalty"


@pytest.mark.parametrize("url", ["sqlite+aiosqlite:///var/loyalty.db", "mysql://u@db/x"])
def test_other_databases_are_refused(url):
    with pytest.raises(ConfigError, match="must be a PostgreSQL URL"):
        Settings.from_env({"BFF_DATABASE_URL": url})


@pytest.mark.parametrize(
    ("name", "value"), [("BFF_DB_POOL_SIZE", "many"), ("BFF_DEV_AUTH", "perhaps")]
)
def test_malformed_values_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "en"),
        ("ru", "ru"),
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("de, en;q=0.5", "en"),
        ("en;q=0.2, ru;q=0.8", "ru"),
        ("ru;q=0", "en"),
        ("fr", "en"),
        ("ru;q=abc", "en"),
    ],
)
def test_locale_negotiation(header, locale):
    assert negotiate_locale(header) == locale


def test_messages_fill_parameters_and_fall_back():
    assert (
        message("HOLD_NOT_ACTIVE", "ru", {"status": "voided"}) == "Резерв уже в статусе «voided»."
    )
    assert message("HOLD_NOT_ACTIVE", "en", {}) == "The hold is already {status}."
    assert message("NO_SUCH_CODE", "en") == "The value is not valid."


@pytest.mark.parametrize("spelling", ["Production", "PRODUCTION", " production "])
def test_production_is_production_however_it_is_spelled(spelling):
    settings = Settings.from_env({**PRODUCTION, "BFF_ENV": spelling})
    assert settings.is_production
    assert not settings.graphiql_enabled
    with pytest.raises(ConfigError, match="BFF_DEV_AUTH is refused"):
        Settings.from_env({**PRODUCTION, "BFF_ENV": spelling, "BFF_DEV_AUTH": "1"})


@pytest.mark.parametrize(
    "hosts",
    ["http://cdn.example.com", "https://cdn.example.com; script-src *", "cdn.example.com"],
)
def test_image_hosts_must_be_https_origins(hosts):
    with pytest.raises(ConfigError, match="BFF_WEBVIEW_IMAGE_HOSTS"):
        Settings.from_env({"BFF_WEBVIEW_IMAGE_HOSTS": hosts})


def test_image_hosts_are_read_as_a_list():
    settings = Settings.from_env(
        {"BFF_WEBVIEW_IMAGE_HOSTS": "https://a.example, https://b.example:8443/"}
    )
    assert settings.image_hosts == ("https://a.example", "https://b.example:8443")
