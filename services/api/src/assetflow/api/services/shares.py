"""Share links: created, listed and revoked by admins; opened by anyone holding the token.

Every request through a link looks the link up by its token's hash and checks it (revoked,
expired, its saved view deleted: the same 404 for all) before any data leaves or any URL is
signed, so a revocation works at once. A link shows only the images its filter selects: the
listing forces that filter, and an image named by id must match it too.
"""

import asyncio
import json
import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assetflow.api.cursor import Position
from assetflow.api.observability import PRESIGNED
from assetflow.api.services import Database
from assetflow.api.services.items import Signer, to_public
from assetflow.api.services.listing import PROJECTION, list_images
from assetflow.api.services.media import Variant, locate
from assetflow.api.services.views import filter_of
from assetflow.api.settings import ApiOptions
from assetflow.api.sharing import (
    SessionSigner,
    ShareLockedError,
    expiry,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)
from assetflow.contracts.errors import (
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
)
from assetflow.readmodel import images, shares, views
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.images import F
from assetflow.readmodel.shares import S, ShareDocument
from assetflow.readmodel.views import V
from assetflow.storage.presign import Presigner

GONE = "no such share link, or it has expired or been revoked"
SESSION_HEADER = "X-Share-Session"
# What a shared item keeps of the listing's item: no storage key, etag, hashes or dataset.
_SHARED_FIELDS = (
    "id",
    "path",
    "folder",
    "file_name",
    "size",
    "content_type",
    "uploaded_at",
    "url",
    "status",
    "status_reason",
    "width",
    "height",
    "thumbhash",
    "captured_at",
    "camera",
    "thumb_url",
    "preview_url",
    "tags",
    "split",
)


@dataclass(frozen=True, slots=True)
class OpenShare:
    """A link that works now: its document, its view's name, and whether it is unlocked."""

    doc: ShareDocument
    view_name: str | None
    unlocked: bool

    @property
    def listing(self) -> ListingFilter:
        """The filter the link shares."""
        return filter_of({V.WHERE: self.doc[S.WHERE]})

    @property
    def scope(self) -> str:
        """Cursor scope: a page cursor of this link works for no other listing."""
        return json.dumps(["share", self.doc[S.ID]])


def state_of(doc: ShareDocument, now: datetime) -> str:
    """active, expired or revoked."""
    if doc[S.REVOKED_AT] is not None:
        return "revoked"
    return "expired" if doc[S.EXPIRES_AT] <= now else "active"


class Shares:
    """Share links: the admin's side, and opening one with its token."""

    def __init__(
        self, db: Database, presigner: Presigner, options: ApiOptions, signer: SessionSigner
    ) -> None:
        self._db = db
        self._presigner = presigner
        self._options = options
        self._sessions = signer

    async def create(
        self,
        dataset_id: str,
        *,
        expires_in_s: int | None,
        expires_at: datetime | None,
        view_id: str | None,
        password: str | None,
        allow_originals: bool,
        created_by: str,
    ) -> tuple[ShareDocument, str, str | None]:
        """A new link: its document, its token (returned this once) and its view's name."""
        now = datetime.now(UTC)
        try:
            expires = expiry(now, expires_in_s, expires_at)
        except ValueError as exc:
            raise InvalidRequestError(str(exc)) from None
        collection = self._db[shares.COLLECTION]
        if await collection.count_documents({S.DATASET_ID: dataset_id}) >= shares.MAX_PER_DATASET:
            raise InvalidRequestError(f"a dataset has at most {shares.MAX_PER_DATASET} links")
        where, view_name = ListingFilter().as_json(), None
        if view_id is not None:
            view = await self._db[views.COLLECTION].find_one(
                {V.ID: view_id, V.DATASET_ID: dataset_id}
            )
            if view is None:
                raise InvalidRequestError(f"dataset {dataset_id!r} has no view {view_id!r}")
            # Copied: editing the view later does not widen what the link already shows.
            where, view_name = view[V.WHERE], str(view[V.NAME])
        token = new_token()
        doc: ShareDocument = {
            S.ID: uuid.uuid4().hex,
            S.TOKEN_HASH: token_hash(token),
            S.DATASET_ID: dataset_id,
            S.VIEW_ID: view_id,
            S.WHERE: where,
            S.EXPIRES_AT: expires,
            S.ALLOW_ORIGINALS: allow_originals,
            # scrypt is deliberately slow (~40 ms): off the event loop.
            S.PASSWORD_HASH: await asyncio.to_thread(hash_password, password) if password else None,
            S.CREATED_BY: created_by,
            S.CREATED_AT: now,
            S.REVOKED_AT: None,
        }
        await collection.insert_one(dict(doc))
        return doc, token, view_name

    async def of_dataset(self, dataset_id: str) -> list[tuple[ShareDocument, str | None]]:
        """The dataset's links, newest first, each with its view's name (None: deleted)."""
        found = self._db[shares.COLLECTION].find({S.DATASET_ID: dataset_id})
        docs: list[ShareDocument] = await found.sort(S.CREATED_AT, -1).to_list()  # type: ignore[assignment]
        view_ids = [view_id for doc in docs if (view_id := doc[S.VIEW_ID]) is not None]
        names = await self._view_names(dataset_id, view_ids)
        return [(doc, names.get(doc[S.VIEW_ID] or "")) for doc in docs]

    async def revoke(self, dataset_id: str, share_id: str) -> None:
        """Revoke a link for good (again: nothing changes); NotFoundError if there is none."""
        collection = self._db[shares.COLLECTION]
        result = await collection.update_one(
            {S.ID: share_id, S.DATASET_ID: dataset_id, S.REVOKED_AT: None},
            {"$set": {S.REVOKED_AT: datetime.now(UTC)}},
        )
        if result.matched_count == 0 and not await collection.count_documents(
            {S.ID: share_id, S.DATASET_ID: dataset_id}, limit=1
        ):
            raise NotFoundError(f"dataset {dataset_id!r} has no share link {share_id!r}")

    async def open(self, token: str, session: str | None) -> OpenShare:
        """The link ``token`` opens, if it works now; NotFoundError (one answer for all) if not."""
        doc: ShareDocument | None = await self._db[shares.COLLECTION].find_one(  # type: ignore[assignment]
            {S.TOKEN_HASH: token_hash(token)}
        )
        if doc is None or state_of(doc, datetime.now(UTC)) != "active":
            raise NotFoundError(GONE)
        view_name, view_id = None, doc[S.VIEW_ID]
        if view_id is not None:
            names = await self._view_names(doc[S.DATASET_ID], [view_id])
            if view_id not in names:  # the view was deleted: so is what it shared
                raise NotFoundError(GONE)
            view_name = names[view_id]
        unlocked = doc[S.PASSWORD_HASH] is None or self._sessions.valid(session, doc[S.ID])
        return OpenShare(doc, view_name, unlocked)

    async def unlocked(self, token: str, session: str | None) -> OpenShare:
        """The link, once it works and is unlocked; 404, else 401 (ShareLockedError)."""
        share = await self.open(token, session)
        if not share.unlocked:
            raise ShareLockedError(
                f"this link needs its password: POST .../unlock, then send {SESSION_HEADER}"
            )
        return share

    async def unlock(self, token: str, password: str) -> tuple[str, datetime]:
        """A session for the link if ``password`` is its password; 401 otherwise."""
        share = await self.open(token, None)
        stored = share.doc[S.PASSWORD_HASH]
        if stored is None:
            raise InvalidRequestError("this link has no password: use it as it is")
        if not await asyncio.to_thread(verify_password, password, stored):
            raise ShareLockedError("wrong password for this link")
        until = min(
            share.doc[S.EXPIRES_AT],
            datetime.fromtimestamp(time.time() + self._options.share_session_s, UTC),
        )
        return self._sessions.issue(share.doc[S.ID], until), until

    async def page(
        self, share: OpenShare, after: Position | None, limit: int | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        """A page of the link's images (its filter forced), and where the next one starts."""
        doc = share.doc
        page_size = limit or self._options.default_limit
        found = await list_images(self._db, doc[S.DATASET_ID], share.listing, after, page_size)
        items = [self._item(share, image) for image in found.docs]
        next_after = None
        if found.more and found.docs:
            last = found.docs[-1]
            next_after = Position(last[F.UPLOADED_AT], last[F.ID])
        return items, next_after

    async def image(self, share: OpenShare, image_id: str) -> dict[str, Any]:
        """One image of the link's selection, as a shared item; 404 if it is not in it."""
        return self._item(share, await self._selected(share, image_id))

    async def media_url(self, share: OpenShare, image_id: str, variant: Variant) -> str:
        """A presigned GET of an image's file; the original only if the link allows it."""
        if variant == "original" and not share.doc[S.ALLOW_ORIGINALS]:
            raise ForbiddenError("this link does not allow originals")
        bucket, key = locate(await self._selected(share, image_id), variant)
        PRESIGNED.labels("original" if variant == "original" else "rendition").inc()
        return self._signer(share)(bucket, key)

    async def _selected(self, share: OpenShare, image_id: str) -> dict[str, Any]:
        query = share.listing.query(share.doc[S.DATASET_ID]) | {F.ID: image_id}
        doc = await self._db[images.COLLECTION].find_one(query, PROJECTION)
        if doc is None:  # outside the selection is as good as unknown
            raise NotFoundError(f"the link shows no image {image_id!r}")
        return doc

    def _signer(self, share: OpenShare) -> Signer:
        """URLs valid no longer than originals' and never past the link's expiry, so a
        revoked link's URLs already handed out die within minutes."""
        left = share.doc[S.EXPIRES_AT] - datetime.now(UTC)
        seconds = max(1, min(self._options.presign_expires_s, math.ceil(left.total_seconds())))
        return self._presigner.signer(seconds)

    def _item(self, share: OpenShare, doc: dict[str, Any]) -> dict[str, Any]:
        sign = self._signer(share)
        # No original is signed at all unless the link allows originals.
        original = sign if share.doc[S.ALLOW_ORIGINALS] else _unsigned
        item = to_public(doc, original, sign)
        item["url"] = item["url"] or None
        return {name: item[name] for name in _SHARED_FIELDS}

    async def _view_names(self, dataset_id: str, view_ids: list[str]) -> dict[str, str]:
        if not view_ids:
            return {}
        found = self._db[views.COLLECTION].find(
            {V.ID: {"$in": view_ids}, V.DATASET_ID: dataset_id}, {V.NAME: 1}
        )
        return {str(doc[V.ID]): str(doc[V.NAME]) async for doc in found}


def _unsigned(bucket: str, key: str) -> str:
    return ""
