"""Bearer tokens: verification (HS256 shared secret or a JWKS URL), scopes, and minting.

Scopes: ``datasets:<id>:read``, ``datasets:<id>:write`` (implies read), ``datasets:*:read``,
``datasets:*:write`` and ``admin`` (everything), in the ``scope`` claim (space-separated, as
OAuth 2 sends it) or a ``scopes`` list. pyjwt does the cryptography; nothing here is hand-made.
"""

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal

import jwt
from pydantic import BaseModel, Field, SecretStr

from assetflow.contracts.errors import ConfigError

AuthMode = Literal["off", "jwt"]
ADMIN: Final = "admin"
_SCOPE = re.compile(r"^datasets:(?P<dataset>[^:\s]+):(?P<access>read|write)$")
_ASYMMETRIC: Final = ["RS256", "ES256"]


class AuthSettings(BaseModel):
    """How the API authenticates (built from the API's ``API_AUTH*`` settings)."""

    mode: AuthMode = "off"
    secret: SecretStr | None = Field(default=None, description="HS256 shared secret")
    jwks_url: str | None = Field(default=None, description="RS256/ES256 keys, chosen by kid")
    issuer: str = "assetflow"
    audience: str = "assetflow-api"
    leeway_s: int = Field(default=30, ge=0, le=300)

    def check(self, env: str) -> None:
        """Refuse what must not run: auth off outside ENV=local, no keys, a too short secret."""
        if env != "local" and self.mode != "jwt":
            raise ConfigError(f"ENV={env} requires API_AUTH=jwt (off is for ENV=local only)")
        if self.mode != "jwt":
            return
        if self.secret is None and self.jwks_url is None:
            raise ConfigError("API_AUTH=jwt needs API_AUTH_SECRET or API_AUTH_JWKS_URL")
        if self.secret is not None and len(self.secret.get_secret_value()) < 32:
            raise ConfigError("API_AUTH_SECRET must be at least 32 characters")


class InvalidTokenError(Exception):
    """A token that proves nothing: the message says why (for logs, not for clients)."""


@dataclass(frozen=True, slots=True)
class Permissions:
    """What a caller may do, from its token's scopes."""

    subject: str
    scopes: frozenset[str]

    @property
    def admin(self) -> bool:
        """Everything is allowed."""
        return ADMIN in self.scopes

    def can_read(self, dataset_id: str) -> bool:
        """May see the dataset (listing, items, stats, URLs, snapshots)."""
        return self.admin or any(
            _grants(scope, dataset_id, ("read", "write")) for scope in self.scopes
        )

    def can_write(self, dataset_id: str) -> bool:
        """May change the dataset (tags, annotations, uploads, snapshots, imports)."""
        return self.admin or any(_grants(scope, dataset_id, ("write",)) for scope in self.scopes)

    def readable(self) -> set[str] | None:
        """Datasets readable by name; None when every dataset is (admin or ``*``)."""
        if self.admin or self.can_read_all():
            return None
        names = set()
        for scope in self.scopes:
            if (match := _SCOPE.match(scope)) and match["dataset"] != "*":
                names.add(match["dataset"])
        return names

    def can_read_all(self) -> bool:
        """Holds ``datasets:*:read`` (or write)."""
        return any(
            (m := _SCOPE.match(scope)) is not None and m["dataset"] == "*" for scope in self.scopes
        )


ANONYMOUS_ADMIN = Permissions("anonymous", frozenset({ADMIN}))
"""The caller when authentication is off (local development only)."""


def _grants(scope: str, dataset_id: str, accesses: tuple[str, ...]) -> bool:
    match = _SCOPE.match(scope)
    return bool(match and match["dataset"] in ("*", dataset_id) and match["access"] in accesses)


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    """The scopes a token carries (``scope`` string or ``scopes`` list)."""
    raw = claims.get("scope", claims.get("scopes", ""))
    items = raw.split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return frozenset(str(item) for item in items)


class TokenVerifier:
    """Verifies signature, ``iss``, ``aud``, ``exp`` and ``nbf`` (with a small leeway)."""

    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        self._jwks = (
            jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300)
            if settings.jwks_url
            else None
        )

    def verify(self, token: str) -> Permissions:
        """The permissions a valid token grants; raises InvalidTokenError."""
        settings = self._settings
        try:
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg")
            if algorithm == "HS256" and settings.secret is not None:
                key: Any = settings.secret.get_secret_value()
            elif algorithm in _ASYMMETRIC and self._jwks is not None:
                if not header.get("kid"):
                    raise InvalidTokenError("the token names no key (kid)")
                key = self._jwks.get_signing_key(header["kid"]).key
            else:
                raise InvalidTokenError(f"algorithm {algorithm!r} is not accepted")
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway_s,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(str(exc)) from exc
        return Permissions(str(claims["sub"]), scopes_of(claims))


def mint(settings: AuthSettings, subject: str, scopes: Iterable[str], ttl_s: int) -> str:
    """An HS256 token signed with the configured secret (local use and tests)."""
    if settings.secret is None:
        raise ConfigError("minting needs API_AUTH_SECRET")
    now = int(time.time())
    claims = {
        "sub": subject,
        "scope": " ".join(sorted(set(scopes))),
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, settings.secret.get_secret_value(), algorithm="HS256")


def parse_ttl(text: str) -> int:
    """'90s', '15m', '12h', '7d' or plain seconds -> seconds."""
    match = re.fullmatch(r"(\d+)([smhd]?)", text.strip())
    if match is None:
        raise ValueError(f"not a duration: {text!r} (e.g. 15m, 12h, 7d)")
    factor = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
    return int(match[1]) * factor
