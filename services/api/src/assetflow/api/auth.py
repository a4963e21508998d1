"""Who is calling and what it may see: checked before any data leaves or any URL is signed.

Dataset routes answer 403 when the token does not grant the dataset; routes that name an
image, command, snapshot or import by id answer 404 instead, so an id does not reveal that
something exists in a dataset the caller cannot read (the checks are in deps.py and the
services).
"""

import asyncio
import logging

from assetflow.contracts.errors import NotFoundError, UnauthenticatedError
from assetflow.domain.tokens import (
    ANONYMOUS_ADMIN,
    AuthSettings,
    InvalidTokenError,
    Permissions,
    TokenVerifier,
)

log = logging.getLogger(__name__)


class Authenticator:
    """An Authorization header -> the caller's Permissions (everything when auth is off)."""

    def __init__(self, settings: AuthSettings) -> None:
        self._verifier = TokenVerifier(settings) if settings.mode == "jwt" else None
        self._remote_keys = settings.jwks_url is not None

    @property
    def enabled(self) -> bool:
        """Tokens are required."""
        return self._verifier is not None

    async def caller(self, token: str | None) -> Permissions:
        """The permissions ``token`` grants; raises UnauthenticatedError."""
        if self._verifier is None:
            return ANONYMOUS_ADMIN
        if not token:
            raise UnauthenticatedError("this route needs a bearer token (Authorization: Bearer)")
        try:
            if self._remote_keys:
                # An unknown kid fetches the JWKS over HTTP: keep that off the event loop.
                return await asyncio.to_thread(self._verifier.verify, token)
            return self._verifier.verify(token)
        except InvalidTokenError as exc:
            log.info("bearer token refused: %s", exc)
            raise UnauthenticatedError(
                "the bearer token is invalid or expired", error="invalid_token"
            ) from None


def require_visible(caller: Permissions, dataset_id: str, what: str) -> None:
    """404 for something (named by id) in a dataset the caller cannot read."""
    if not caller.can_read(dataset_id):
        raise NotFoundError(f"no {what}")
