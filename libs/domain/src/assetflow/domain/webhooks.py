"""Webhooks: the event types a webhook may ask for, its settings section and its secret,
encrypted at rest (Fernet) with a key both the API and the notifier read."""

import secrets
from typing import Final, Literal, get_args

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import BaseModel, Field, SecretStr

from assetflow.contracts.errors import ConfigError

EventType = Literal[
    "image.indexed",
    "image.ready",
    "image.failed",
    "image.removed",
    "image.tags_changed",
    "snapshot.ready",
    "snapshot.failed",
    "import.done",
    "import.failed",
]
EVENT_TYPES: Final[tuple[EventType, ...]] = get_args(EventType)
PING: Final = "ping"
"""The event of ``POST .../webhooks/{id}/test``: sent whatever the webhook's event types."""

DEV_KEY: Final = "YXNzZXRmbG93LWRldi13ZWJob29rcy1rZXktMDAwMDA="
"""The local stack's key (base64 of 32 known bytes); refused with ``ENV=production``."""


class WebhookSettings(BaseModel):
    """Webhook security, shared by the API and the notifier (env ``WEBHOOKS_*``)."""

    secret_keys: SecretStr = Field(
        default=SecretStr(DEV_KEY),
        description="Fernet keys encrypting webhook secrets at rest, comma-separated: the first "
        "encrypts, every one decrypts (rotation); make one with "
        "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())'`",
    )
    allow_private_targets: bool = Field(
        default=False,
        description="let webhooks call loopback, private, link-local and other non-public "
        "addresses (local development and tests only: server-side request forgery)",
    )


class WithWebhooks(BaseModel):
    """Mixin of a service's settings: webhook security (``WEBHOOKS_*``)."""

    webhooks: WebhookSettings = WebhookSettings()


def new_secret() -> str:
    """A signing secret for a webhook whose creator gave none (256 bits, URL-safe)."""
    return "whsec_" + secrets.token_urlsafe(32)


class SecretBox:
    """Encrypts webhook secrets for storage and decrypts them to sign a delivery."""

    def __init__(self, keys: SecretStr) -> None:
        try:
            fernets = [Fernet(key.strip()) for key in keys.get_secret_value().split(",")]
        except ValueError as exc:
            raise ConfigError(f"WEBHOOKS_SECRET_KEYS: not Fernet keys ({exc})") from None
        self._fernet = MultiFernet(fernets)

    def seal(self, secret: str) -> str:
        """The stored form of a secret."""
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret again; ConfigError if no configured key made it."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "a webhook secret was sealed with a key no longer configured"
            ) from None
