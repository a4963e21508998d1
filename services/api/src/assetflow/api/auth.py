"""Who is calling and what it may see: checked before any data leaves or any URL is signed.

Dataset routes answer 403 when the token does not grant the dataset; routes that name an
image, command, snapshot or import by id answer 404 instead, so an id does not reveal that
something exists in a dataset the caller cannot read.
"""

import asyncio
import logging
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assetflow.api.deps import DbDep
from assetflow.common import images
from assetflow.common.errors import ForbiddenError, NotFoundError, UnauthenticatedError
from assetflow.common.tokens import (
    ANONYMOUS_ADMIN,
    AuthSettings,
    InvalidTokenError,
    Permissions,
    TokenVerifier,
)

log = logging.getLogger(__name__)
# Declares the scheme in the OpenAPI; a missing or non-Bearer header is ours to answer.
_bearer = HTTPBearer(auto_error=False, description="a JWT; scopes datasets:<id>:read|write")


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


async def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Permissions:
    authenticator: Authenticator = request.state.authenticator
    return await authenticator.caller(credentials.credentials if credentials else None)


CallerDep = Annotated[Permissions, Depends(_caller)]


async def _readable_dataset(dataset_id: str, caller: CallerDep) -> str:
    if not caller.can_read(dataset_id):
        raise ForbiddenError(f"the token does not grant datasets:{dataset_id}:read")
    return dataset_id


async def _writable_dataset(dataset_id: str, caller: CallerDep) -> str:
    if not caller.can_write(dataset_id):
        raise ForbiddenError(f"the token does not grant datasets:{dataset_id}:write")
    return dataset_id


ReadableDataset = Annotated[str, Depends(_readable_dataset)]
"""The path's ``dataset_id``, once the caller may read it (else 403)."""
WritableDataset = Annotated[str, Depends(_writable_dataset)]
"""The path's ``dataset_id``, once the caller may change it (else 403)."""


def require_visible(caller: Permissions, dataset_id: str, what: str) -> None:
    """404 for something (named by id) in a dataset the caller cannot read."""
    if not caller.can_read(dataset_id):
        raise NotFoundError(f"no {what}")


async def find_visible(collection: Any, doc_id: str, caller: Permissions, what: str) -> Any:
    """A job's document (snapshot, import: ``_id`` and ``dataset_id``); 404 if it does not
    exist or lies in a dataset the caller cannot read."""
    doc = await collection.find_one({"_id": doc_id})
    if doc is None:
        raise NotFoundError(f"no {what}")
    require_visible(caller, doc["dataset_id"], what)
    return doc


async def _image_dataset(db: Any, image_id: str) -> str | None:
    doc = await db[images.COLLECTION].find_one(
        {images.F.ID: image_id, images.F.DELETED: False}, {images.F.DATASET_ID: 1}
    )
    return None if doc is None else str(doc[images.F.DATASET_ID])


async def _visible_image_dataset(db: Any, image_id: str, caller: Permissions) -> str:
    """The image's dataset, if the caller may read it; else 404, as if it did not exist."""
    dataset_id = await _image_dataset(db, image_id)
    if dataset_id is None or not caller.can_read(dataset_id):
        raise NotFoundError(f"no image with id {image_id!r}")
    return dataset_id


async def _readable_image(image_id: str, caller: CallerDep, db: DbDep) -> str:
    if not caller.admin:  # an admin's unknown id is the route's own 404: no lookup here
        await _visible_image_dataset(db, image_id, caller)
    return image_id


async def _writable_image(image_id: str, caller: CallerDep, db: DbDep) -> str:
    if not caller.admin:
        await _writable_dataset(await _visible_image_dataset(db, image_id, caller), caller)
    return image_id


ReadableImage = Annotated[str, Depends(_readable_image)]
"""The path's ``image_id``, once its dataset is readable (else 404, as if it did not exist)."""
WritableImage = Annotated[str, Depends(_writable_image)]
"""The path's ``image_id``, once its dataset is writable (404 if unreadable, else 403)."""
