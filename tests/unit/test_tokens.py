"""Bearer token verification and scope matching: every way a token can fail."""

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from assetflow.contracts.errors import ConfigError
from assetflow.domain.tokens import (
    AuthSettings,
    InvalidTokenError,
    Permissions,
    TokenVerifier,
    mint,
    parse_ttl,
)

SECRET = "s" * 40
SETTINGS = AuthSettings(mode="jwt", secret=SecretStr(SECRET))


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": "alice",
        "scope": "datasets:ds1:read",
        "iss": "assetflow",
        "aud": "assetflow-api",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    return {**base, **overrides}


def signed(body: dict[str, Any], key: str = SECRET, **header: Any) -> str:
    return jwt.encode(body, key, algorithm="HS256", headers=header or None)


def verify(token: str) -> Permissions:
    return TokenVerifier(SETTINGS).verify(token)


def test_a_minted_token_verifies_with_its_scopes() -> None:
    token = mint(SETTINGS, "training", ["datasets:ds1:read", "datasets:ds2:write"], 3600)
    permissions = verify(token)
    assert permissions.subject == "training"
    assert permissions.can_read("ds1") and not permissions.can_write("ds1")
    assert permissions.can_read("ds2") and permissions.can_write("ds2")
    assert not permissions.can_read("ds3")
    assert permissions.readable() == {"ds1", "ds2"}


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (signed(claims(exp=int(time.time()) - 120)), "expired"),
        (signed(claims(nbf=int(time.time()) + 600)), "not yet valid"),
        (signed(claims(aud="someone-else")), "Audience doesn.t match"),
        (signed(claims(iss="evil")), "(?i)issuer"),
        (signed(claims(), key="k" * 40), "Signature verification failed"),
        (signed({k: v for k, v in claims().items() if k != "exp"}), "exp"),
    ],
)
def test_invalid_tokens_are_refused(token: str, reason: str) -> None:
    with pytest.raises(InvalidTokenError, match=reason):
        verify(token)


def test_the_none_algorithm_is_refused() -> None:
    token = jwt.encode(claims(), key=None, algorithm="none")  # type: ignore[arg-type]
    with pytest.raises(InvalidTokenError, match="algorithm 'none' is not accepted"):
        verify(token)


def test_a_tampered_payload_is_refused() -> None:
    header, _, signature = signed(claims()).split(".")
    forged = base64.urlsafe_b64encode(json.dumps(claims(scope="admin")).encode()).rstrip(b"=")
    with pytest.raises(InvalidTokenError, match="Signature verification failed"):
        verify(f"{header}.{forged.decode()}.{signature}")


def test_an_asymmetric_token_without_kid_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(claims(), key, algorithm="ES256")
    verifier = TokenVerifier(AuthSettings(mode="jwt", jwks_url="http://127.0.0.1:9/jwks.json"))
    with pytest.raises(InvalidTokenError, match="kid"):
        verifier.verify(token)


def test_scopes() -> None:
    everything = Permissions("ops", frozenset({"admin"}))
    assert everything.can_write("any") and everything.readable() is None
    reader = Permissions("bi", frozenset({"datasets:*:read"}))
    assert reader.can_read("x") and not reader.can_write("x") and reader.readable() is None
    odd = Permissions("x", frozenset({"datasets:ds1:delete", "datasets::read", "other"}))
    assert not odd.can_read("ds1") and odd.readable() == set()


def test_settings_refuse_what_must_not_run() -> None:
    with pytest.raises(ConfigError, match="requires API_AUTH=jwt"):
        AuthSettings(mode="off").check("production")
    with pytest.raises(ConfigError, match="requires API_AUTH=jwt"):
        AuthSettings(mode="off").check("staging")
    with pytest.raises(ConfigError, match="needs API_AUTH_SECRET or API_AUTH_JWKS_URL"):
        AuthSettings(mode="jwt").check("local")
    with pytest.raises(ConfigError, match="at least 32"):
        AuthSettings(mode="jwt", secret=SecretStr("short")).check("production")
    AuthSettings(mode="off").check("local")
    SETTINGS.check("production")


def test_ttl() -> None:
    assert [parse_ttl(t) for t in ("90", "90s", "15m", "12h", "7d")] == [
        90,
        90,
        900,
        43200,
        604800,
    ]
    with pytest.raises(ValueError, match="not a duration"):
        parse_ttl("soon")


def test_the_cli_mints_a_token_the_verifier_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from assetflow.indexer.cli import app

    monkeypatch.setenv("API_AUTH_SECRET", SECRET)
    args = ["token", "--sub", "training", "--scope", "datasets:ds1:read", "--ttl", "12h"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    permissions = verify(result.output.strip())
    assert permissions.subject == "training" and permissions.can_read("ds1")
    monkeypatch.delenv("API_AUTH_SECRET")
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "needs API_AUTH_SECRET" in refused.output
