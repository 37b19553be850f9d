"""Token verification against a public key, a JWKS URL and the dev key."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bff.kernel.auth import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    JWKS_REFRESH_SECONDS,
    VERIFIED_CACHE_SECONDS,
    InvalidToken,
    Principal,
    Role,
    TokenVerifier,
    bearer_token,
    issue_dev_token,
    load_or_create_dev_key,
)
from bff.kernel.config import ConfigError, Settings
from tests.fixtures.processes import together

ISSUER = "https://id.example.test/realms/retail"
AUDIENCE = "loyalty-bff"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def sign(key, algorithm: str = "RS256", kid: str | None = None, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "cust-42", "iat": now, "exp": now + 60}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid} if kid else None)


@pytest.fixture
def idp_settings(tmp_path, rsa_key) -> Settings:
    return Settings(
        data_dir=tmp_path,
        jwt_public_key=public_pem(rsa_key),
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )


async def test_provider_token_gives_a_customer(idp_settings, rsa_key):
    principal = await TokenVerifier(idp_settings).verify(sign(rsa_key))
    assert principal == Principal("cust-42")
    assert not principal.is_staff


async def test_staff_roles_come_from_roles_or_keycloak_realm_access(idp_settings, rsa_key):
    verifier = TokenVerifier(idp_settings)
    staff = await verifier.verify(sign(rsa_key, roles=["support", "pilot"]))
    assert staff.roles == frozenset({Role.SUPPORT})
    assert staff.has_role(Role.SUPPORT)
    keycloak = await verifier.verify(sign(rsa_key, realm_access={"roles": ["admin"]}))
    assert keycloak.has_role(Role.MARKETING)  # admin holds every role


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 600}, "expired"),
        ({"iss": "https://evil.test"}, "refused"),
        ({"aud": "another-app"}, "refused"),
        ({"sub": None}, "refused"),
        ({"exp": None}, "refused"),
    ],
)
async def test_bad_claims_are_refused(idp_settings, rsa_key, overrides, reason):
    with pytest.raises(InvalidToken, match=reason):
        await TokenVerifier(idp_settings).verify(sign(rsa_key, **overrides))


async def test_foreign_keys_and_weak_algorithms_are_refused(idp_settings, rsa_key):
    verifier = TokenVerifier(idp_settings)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidToken):
        await verifier.verify(sign(stranger))
    with pytest.raises(InvalidToken):
        await verifier.verify(sign("shared-secret-of-32-bytes-or-more!!", algorithm="HS256"))
    unsigned = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60},
        None,
        algorithm="none",
    )
    with pytest.raises(InvalidToken):
        await verifier.verify(unsigned)
    with pytest.raises(InvalidToken, match="well-formed"):
        await verifier.verify("garbage")


class _JwksHandler(BaseHTTPRequestHandler):
    body = b"{}"
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def jwks_server(rsa_key) -> Iterator[str]:
    """Stands in for the identity provider's key endpoint (outside our system)."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    _JwksHandler.body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig"}]}).encode()
    _JwksHandler.hits = 0
    server = HTTPServer(("127.0.0.1", 0), _JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/certs"
    server.shutdown()


async def test_jwks_url_is_used_and_cached(tmp_path, rsa_key, jwks_server):
    settings = Settings(
        data_dir=tmp_path, jwks_url=jwks_server, jwt_issuer=ISSUER, jwt_audience=AUDIENCE
    )
    verifier = TokenVerifier(settings)
    for _ in range(3):
        assert (await verifier.verify(sign(rsa_key, kid="k1"))).subject == "cust-42"
    assert _JwksHandler.hits == 1
    with pytest.raises(InvalidToken, match="signing key"):
        await verifier.verify(sign(rsa_key, kid="unknown"))


async def test_unknown_key_ids_refetch_the_keys_at_most_once_a_while(
    tmp_path, rsa_key, jwks_server
):
    settings = Settings(
        data_dir=tmp_path, jwks_url=jwks_server, jwt_issuer=ISSUER, jwt_audience=AUDIENCE
    )
    now = [1_000_000.0]
    verifier = TokenVerifier(settings, clock=lambda: now[0])
    for n in range(20):  # an anonymous caller making up key ids
        with pytest.raises(InvalidToken, match="signing key"):
            await verifier.verify(sign(rsa_key, kid=f"made-up-{n}"))
    assert _JwksHandler.hits == 2  # the keys, then one refresh for an unknown id

    # The provider rotates to a new key: picked up once the refresh window has passed.
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    _JwksHandler.body = json.dumps({"keys": [{**jwk, "kid": "k2", "use": "sig"}]}).encode()
    with pytest.raises(InvalidToken):
        await verifier.verify(sign(rsa_key, kid="k2"))
    now[0] += JWKS_REFRESH_SECONDS
    assert (await verifier.verify(sign(rsa_key, kid="k2"))).subject == "cust-42"
    assert _JwksHandler.hits == 3


async def test_dev_tokens_verify_only_with_dev_auth(tmp_path):
    dev = Settings(data_dir=tmp_path, dev_auth=True)
    token = issue_dev_token(dev, "anna", [Role.SUPPORT])
    assert (await TokenVerifier(dev).verify(token)) == Principal("anna", frozenset({Role.SUPPORT}))
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    with pytest.raises(InvalidToken):
        await TokenVerifier(replace(dev, dev_auth=False)).verify(token)
    with pytest.raises(ConfigError):
        issue_dev_token(replace(dev, dev_auth=False), "anna")
    assert (tmp_path / "dev-jwt-key.pem").stat().st_mode & 0o077 == 0


async def test_a_token_claiming_the_dev_issuer_needs_the_dev_key(tmp_path):
    dev = Settings(data_dir=tmp_path, dev_auth=True)
    forged = jwt.encode(
        {"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": "x", "exp": int(time.time()) + 60},
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
    )
    with pytest.raises(InvalidToken):
        await TokenVerifier(dev).verify(forged)


def test_production_refuses_dev_auth(tmp_path):
    url = "postgresql://u:p@db/loyalty"
    with pytest.raises(ConfigError, match="BFF_DEV_AUTH is refused"):
        Settings(
            env="production",
            dev_auth=True,
            data_dir=tmp_path,
            database_url=url,
            public_url="https://loyalty.example",
        )
    production = {"BFF_ENV": "production", "BFF_DATABASE_URL": url, "BFF_PUBLIC_URL": "https://x"}
    with pytest.raises(ConfigError, match="BFF_DEV_AUTH is refused"):
        Settings.from_env({**production, "BFF_DEV_AUTH": "1"})


def test_a_key_without_issuer_and_audience_is_a_config_error(tmp_path, rsa_key):
    with pytest.raises(ConfigError, match="ISSUER"):
        TokenVerifier(Settings(data_dir=tmp_path, jwt_public_key=public_pem(rsa_key)))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
    ],
)
def test_bearer_header_parsing(header, expected):
    assert bearer_token(header) == expected


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer   "])
def test_bearer_header_must_be_bearer(header):
    with pytest.raises(InvalidToken):
        bearer_token(header)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def counting_checks(verifier: TokenVerifier, monkeypatch) -> list[str]:
    """The tokens whose signature ``verifier`` checks from now on."""
    checked: list[str] = []
    original = verifier._verified_claims

    async def counted(token: str):
        checked.append(token)
        return await original(token)

    monkeypatch.setattr(verifier, "_verified_claims", counted)
    return checked


@pytest.mark.parametrize(
    ("lifetime", "leeway", "trusted_for"),
    [(60, 0, 60), (60, 30, 90), (3600, 0, VERIFIED_CACHE_SECONDS)],
)
async def test_a_verified_token_is_trusted_again_until_it_expires_or_the_cache_period_ends(
    idp_settings, rsa_key, monkeypatch, lifetime, leeway, trusted_for
):
    clock = Clock()
    verifier = TokenVerifier(replace(idp_settings, jwt_leeway_seconds=leeway), clock=clock)
    token = sign(rsa_key, exp=int(clock.now) + lifetime)
    clock.now = int(clock.now)
    assert await verifier.verify(token) == Principal("cust-42")
    checked = counting_checks(verifier, monkeypatch)
    clock.now += trusted_for - 1
    assert await verifier.verify(token) == Principal("cust-42")
    assert checked == []
    clock.now += 2
    await verifier.verify(token)  # still valid by the real clock PyJWT reads
    assert checked == [token]


async def test_a_refused_token_is_never_remembered(idp_settings, rsa_key):
    verifier = TokenVerifier(idp_settings)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = sign(stranger)
    for _ in range(2):
        with pytest.raises(InvalidToken):
            await verifier.verify(forged)
    assert verifier._verified == {}


async def test_a_token_of_the_other_key_type_is_refused_not_a_crash(tmp_path, idp_settings):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(InvalidToken, match="refused"):
        await TokenVerifier(idp_settings).verify(sign(ec_key, algorithm="ES256"))
    ec_settings = Settings(
        data_dir=tmp_path,
        jwt_public_key=public_pem(ec_key),
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidToken, match="refused"):
        await TokenVerifier(ec_settings).verify(sign(other_rsa, algorithm="RS256"))
    assert (await TokenVerifier(ec_settings).verify(sign(ec_key, algorithm="ES256"))).subject


def _dev_key_after(data_dir: str, start: Any) -> bytes:
    start.wait()
    key = load_or_create_dev_key(Settings(dev_auth=True, data_dir=Path(data_dir)))
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_processes_starting_together_share_one_dev_key(tmp_path):
    """`serve --workers N` starts its workers at once on a new data folder: each must
    find the same key, none may fail on another's half-made file."""
    keys = together(_dev_key_after, str(tmp_path))
    assert len(set(keys)) == 1
    assert [path.name for path in tmp_path.iterdir()] == ["dev-jwt-key.pem"]
