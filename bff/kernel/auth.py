"""Bearer-token verification. The BFF verifies tokens; it never issues real ones.

Tokens from the identity provider are checked against its JWKS URL or a configured
public key, with issuer and audience. Dev auth signs tokens with a local ES256 key
kept in the data folder; settings refuse it in production.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bff.kernel.config import ConfigError, Settings
from bff.kernel.files import read_or_create

DEV_ISSUER = "loyalty-bff-dev"
DEV_AUDIENCE = "loyalty-app"
DEV_TOKEN_TTL_SECONDS = 30 * 24 * 3600
JWKS_CACHE_SECONDS = 300
# A token naming a key we do not have makes us fetch the provider's keys again (it may
# have rotated them), but not more often than this: random key ids from anonymous callers
# would otherwise each cost a request to the identity provider and a thread here.
JWKS_REFRESH_SECONDS = 30
# A signature check costs more than the rest of a cached home screen; the apps send the
# same token for its whole life. A verified token is trusted again until it expires, for
# at most this long, so a key the identity provider withdraws stops working within it.
VERIFIED_CACHE_SECONDS = 300
VERIFIED_CACHE_SIZE = 20_000


class Role(enum.StrEnum):
    SUPPORT = "support"
    MARKETING = "marketing"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who sent the request. Staff tokens carry roles; customer tokens do not."""

    subject: str
    roles: frozenset[Role] = frozenset()

    @property
    def is_staff(self) -> bool:
        return bool(self.roles)

    def has_role(self, role: Role) -> bool:
        return role in self.roles or Role.ADMIN in self.roles


class TokenProblem(enum.StrEnum):
    """Why a bearer token was refused, for a client to act on: refresh an expired token,
    sign in again otherwise."""

    MALFORMED_HEADER = "MALFORMED_HEADER"
    MALFORMED_TOKEN = "MALFORMED_TOKEN"  # noqa: S105  (a reason, not a secret)
    EXPIRED = "EXPIRED"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    REFUSED = "REFUSED"
    NO_PROVIDER = "NO_PROVIDER"


class InvalidToken(Exception):
    """The bearer token was refused; the message says why (safe to show a client)."""

    def __init__(self, text: str, problem: TokenProblem = TokenProblem.REFUSED) -> None:
        super().__init__(text)
        self.problem = problem


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken(
            "the Authorization header must be 'Bearer <token>'", TokenProblem.MALFORMED_HEADER
        )
    return token.strip()


class TokenVerifier:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._clock = clock
        self._verified: dict[str, tuple[Principal, float]] = {}
        self._jwks_refreshed = float("-inf")
        self._jwks = (
            jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=JWKS_CACHE_SECONDS)
            if settings.jwks_url
            else None
        )
        self._public_key = _load_public_key(settings.jwt_public_key)
        if (self._jwks or self._public_key) and not (settings.jwt_issuer and settings.jwt_audience):
            raise ConfigError("BFF_JWT_ISSUER and BFF_JWT_AUDIENCE are required with a key")
        self._dev_key = load_or_create_dev_key(settings).public_key() if settings.dev_auth else None

    async def verify(self, token: str) -> Principal:
        now = self._clock()
        known = self._verified.get(token)
        if known is not None and now < known[1]:
            return known[0]
        claims = await self._verified_claims(token)
        principal = _principal(claims)
        self._remember(token, principal, claims["exp"], now)
        return principal

    def _remember(self, token: str, principal: Principal, expires: Any, now: float) -> None:
        until = min(float(expires) + self.settings.jwt_leeway_seconds, now + VERIFIED_CACHE_SECONDS)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = (principal, until)

    async def _verified_claims(self, token: str) -> dict[str, Any]:
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise InvalidToken(
                "the token is not a well-formed JWT", TokenProblem.MALFORMED_TOKEN
            ) from error
        if self._dev_key is not None and unverified.get("iss") == DEV_ISSUER:
            return self._decode(token, self._dev_key, DEV_ISSUER, DEV_AUDIENCE)
        return self._decode(
            token,
            await self._provider_key(token),
            self.settings.jwt_issuer,
            self.settings.jwt_audience,
        )

    async def _provider_key(self, token: str) -> Any:
        if self._jwks is not None:
            try:
                return await asyncio.to_thread(self._jwks_key, token)
            except (jwt.PyJWKClientError, jwt.PyJWTError) as error:
                raise InvalidToken(
                    "no signing key of the identity provider matches", TokenProblem.UNKNOWN_KEY
                ) from error
        if self._public_key is not None:
            return self._public_key
        raise InvalidToken("no identity provider is configured", TokenProblem.NO_PROVIDER)

    def _jwks_key(self, token: str) -> Any:
        """The provider's key for ``token`` (blocking HTTP when the keys must be fetched)."""
        assert self._jwks is not None
        kid = jwt.get_unverified_header(token).get("kid")
        for refresh in (False, True):
            if refresh:
                if self._clock() - self._jwks_refreshed < JWKS_REFRESH_SECONDS:
                    break
                self._jwks_refreshed = self._clock()
            # Cached for JWKS_CACHE_SECONDS unless refreshed.
            for key in self._jwks.get_signing_keys(refresh=refresh):
                if key.key_id == kid:
                    return key.key
        raise jwt.PyJWKClientError(f"the identity provider has no key {kid!r}")

    def _decode(self, token: str, key: Any, issuer: str, audience: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                # Only the algorithm of the key's type: PyJWT hands an RSA key to the EC
                # verifier otherwise (a TypeError, not a refusal).
                algorithms=[_algorithm_of(key)],
                issuer=issuer,
                audience=audience,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("the token has expired", TokenProblem.EXPIRED) from error
        except jwt.PyJWTError as error:
            raise InvalidToken(f"the token was refused: {error}") from error


def _algorithm_of(key: Any) -> str:
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return "ES256"
    raise InvalidToken("the identity provider's key is neither RSA nor EC")


def _principal(claims: dict[str, Any]) -> Principal:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= 255 or "\x00" in subject:
        raise InvalidToken("the token's subject is missing, too long or not text")
    raw_roles = claims.get("roles")
    if raw_roles is None:  # Keycloak puts realm roles here
        raw_roles = (claims.get("realm_access") or {}).get("roles", [])
    known = {role.value for role in Role}
    roles = frozenset(Role(r) for r in raw_roles if isinstance(r, str) and r in known)
    return Principal(subject=subject, roles=roles)


def _load_public_key(value: str) -> Any:
    if not value:
        return None
    pem = Path(value).read_bytes() if not value.lstrip().startswith("-----") else value.encode()
    try:
        return serialization.load_pem_public_key(pem)
    except ValueError as error:
        raise ConfigError("BFF_JWT_PUBLIC_KEY is not a PEM public key") from error


def load_or_create_dev_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    """The local dev key, made on first use (bff.kernel.files: processes starting together
    share one)."""
    if settings.is_production:
        raise ConfigError("dev auth is refused when BFF_ENV=production")
    pem = read_or_create(settings.dev_key_path, _new_dev_key)
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _new_dev_key() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def issue_dev_token(
    settings: Settings,
    subject: str,
    roles: list[Role] | None = None,
    ttl_seconds: int = DEV_TOKEN_TTL_SECONDS,
) -> str:
    """A token signed by the local dev key; only where dev auth is on."""
    if not settings.dev_auth:
        raise ConfigError("dev auth is off: set BFF_DEV_AUTH=1 (never in production)")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": subject,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if roles:
        claims["roles"] = [role.value for role in roles]
    return jwt.encode(claims, load_or_create_dev_key(settings), algorithm="ES256")
