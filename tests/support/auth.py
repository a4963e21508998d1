"""Bearer tokens for tests against an API that runs with API_AUTH=jwt."""

from pydantic import SecretStr

from assetflow.domain.tokens import AuthSettings, mint

# Only for the test stack: long enough for the API to accept, and used nowhere else.
SECRET = "test-stack-only-" + "k" * 32
SETTINGS = AuthSettings(mode="jwt", secret=SecretStr(SECRET))
API_ENV = {"API_AUTH": "jwt", "API_AUTH_SECRET": SECRET}


def bearer(*scopes: str, subject: str = "tests", ttl_s: int = 600) -> dict[str, str]:
    """An Authorization header whose token grants ``scopes``."""
    return {"Authorization": f"Bearer {mint(SETTINGS, subject, scopes, ttl_s)}"}
