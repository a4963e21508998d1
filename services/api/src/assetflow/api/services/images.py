"""Images: a listing page, a random sample, one image, who may see an image, and deleting one."""

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from assetflow.api.auth import require_visible
from assetflow.api.cursor import Position
from assetflow.api.observability import count_item_urls
from assetflow.api.services import Database
from assetflow.api.services.items import signers, to_public
from assetflow.api.services.listing import get_image, get_images, list_images
from assetflow.api.services.sampling import sample_images
from assetflow.api.settings import ApiOptions
from assetflow.contracts.errors import NotFoundError, StorageUnavailableError
from assetflow.domain.tokens import Permissions
from assetflow.readmodel import images
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.images import F
from assetflow.storage.presign import Presigner


@dataclass(frozen=True, slots=True)
class ItemsPage:
    """A listing page as API items, and the position to continue after (None: the last)."""

    items: list[dict[str, Any]]
    next_after: Position | None


class Images:
    """Reads live images and signs the URLs of their files."""

    def __init__(
        self, db: Database, presigner: Presigner, options: ApiOptions, s3: Any = None
    ) -> None:
        self._db = db
        self._presigner = presigner
        self._options = options
        self._s3 = s3  # the service's S3 client (internal endpoint): deletes only

    async def page(
        self, dataset_id: str, listing: ListingFilter, after: Position | None, limit: int | None
    ) -> ItemsPage:
        """Up to ``limit`` (default: the configured page size) items, newest first."""
        page_size = limit or self._options.default_limit
        page = await list_images(self._db, dataset_id, listing, after, page_size)
        sign, sign_rendition = signers(self._presigner, self._options)
        items = [to_public(doc, sign, sign_rendition) for doc in page.docs]
        count_item_urls(items)
        next_after = None
        if page.more and page.docs:
            last = page.docs[-1]
            next_after = Position(last[F.UPLOADED_AT], last[F.ID])
        return ItemsPage(items, next_after)

    async def sample(
        self, dataset_id: str, listing: ListingFilter, n: int, seed: int
    ) -> list[dict[str, Any]]:
        """n distinct live images at random, as items; the same seed, the same sample."""
        docs = await sample_images(self._db, dataset_id, listing, n, seed)
        sign, sign_rendition = signers(self._presigner, self._options)
        items = [to_public(doc, sign, sign_rendition) for doc in docs]
        count_item_urls(items)
        return items

    async def one(self, image_id: str, caller: Permissions) -> dict[str, Any]:
        """One live image as an item; 404 if none has this id or the caller cannot see it."""
        doc = await get_image(self._db, image_id)
        if doc is None:
            raise NotFoundError(f"no image with id {image_id!r}")
        require_visible(caller, doc[F.DATASET_ID], f"image with id {image_id!r}")
        item = to_public(doc, *signers(self._presigner, self._options))
        count_item_urls([item])
        return item

    async def items_by_id(self, image_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Live images by id as API items, URLs signed (for live events)."""
        if not image_ids:
            return {}
        sign, sign_rendition = signers(self._presigner, self._options)
        docs = await get_images(self._db, image_ids)
        return {doc[F.ID]: to_public(doc, sign, sign_rendition) for doc in docs}

    async def visible_dataset(self, image_id: str, caller: Permissions) -> str:
        """The image's dataset, if the caller may read it; else 404, as if it did not exist."""
        doc = await self._db[images.COLLECTION].find_one(
            {F.ID: image_id, F.DELETED: False}, {F.DATASET_ID: 1}
        )
        dataset_id = None if doc is None else str(doc[F.DATASET_ID])
        if dataset_id is None or not caller.can_read(dataset_id):
            raise NotFoundError(f"no image with id {image_id!r}")
        return dataset_id

    async def delete(self, image_id: str) -> dict[str, str]:
        """Delete a live image's object from storage; 404 if no live image has this id.

        Only storage changes here: the bucket's notification (MinIO -> Kafka -> ingest ->
        indexer) removes the image from listings, counts and duplicate groups, as for any
        other delete. Until then the image is still listed (and a repeated delete succeeds).
        Storage failures are StorageUnavailableError (503).
        """
        doc = await self._db[images.COLLECTION].find_one(
            {F.ID: image_id, F.DELETED: False}, {F.BUCKET: 1, F.KEY: 1}
        )
        if doc is None:
            raise NotFoundError(f"no image with id {image_id!r}")
        key = str(doc[F.KEY])
        try:
            await self._s3.delete_object(Bucket=str(doc[F.BUCKET]), Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise StorageUnavailableError(f"storage refused the delete: {exc}") from exc
        return {"image_id": image_id, "key": key}
