"""An image's files: a presigned URL to redirect to, or the stored bytes (with Range) to stream."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from assetflow.api.auth import require_visible
from assetflow.api.observability import PRESIGNED
from assetflow.api.services import Database
from assetflow.api.services.listing import get_image
from assetflow.api.services.storage import body_chunks
from assetflow.api.settings import ApiOptions
from assetflow.contracts.errors import NotFoundError, StorageUnavailableError
from assetflow.domain.tokens import Permissions
from assetflow.readmodel.images import F
from assetflow.storage.presign import Presigner

Variant = Literal["original", "thumb", "preview"]
# One byte range (RFC 9110): "bytes=a-b", "bytes=a-" or "bytes=-n". Several ranges in one
# request are served whole (a server may ignore Range), as S3 does.
_ONE_RANGE = re.compile(r"^bytes=(\d+-\d*|-\d+)$")
# Response headers copied from storage when streaming.
_PASSED = {
    "ETag": "ETag",
    "ContentType": "Content-Type",
    "ContentLength": "Content-Length",
    "ContentRange": "Content-Range",
    "LastModified": "Last-Modified",
    "CacheControl": "Cache-Control",
}


@dataclass(frozen=True, slots=True)
class Redirect:
    """Send the client to this presigned GET."""

    url: str


@dataclass(frozen=True, slots=True)
class NotModified:
    """If-None-Match matched: the stored file's ETag."""

    etag: str | None


@dataclass(frozen=True, slots=True)
class OutOfRange:
    """The requested range lies outside the file."""


@dataclass(frozen=True, slots=True)
class Download:
    """The file (or the requested range) as storage sends it."""

    status: int
    headers: dict[str, str]
    body: AsyncIterator[bytes]


def locate(doc: dict[str, Any], variant: Variant) -> tuple[str, str]:
    """(bucket, key) of one of an image's files; NotFoundError if it has none yet."""
    if variant == "original":
        return doc[F.BUCKET], doc[F.KEY]
    renditions = doc.get(F.RENDITIONS) or {}
    if not renditions.get(variant):
        raise NotFoundError(f"the image has no {variant} (status {doc.get(F.STATUS)!r})")
    return renditions["bucket"], renditions[variant]["key"]


class Media:
    """Signs or streams an image's original and renditions."""

    def __init__(self, db: Database, s3: Any, presigner: Presigner, options: ApiOptions) -> None:
        self._db = db
        self._s3 = s3
        self._presigner = presigner
        self._options = options

    async def fetch(
        self,
        image_id: str,
        variant: Variant,
        caller: Permissions,
        *,
        proxy: bool,
        range_: str | None,
        if_none_match: str | None,
    ) -> Redirect | NotModified | OutOfRange | Download:
        """A redirect to a presigned GET; or, proxied (asked, or configured), the stored file."""
        doc = await get_image(self._db, image_id)
        if doc is None:
            raise NotFoundError(f"no image with id {image_id!r}")
        require_visible(caller, doc["dataset_id"], f"image with id {image_id!r}")
        bucket, key = locate(doc, variant)
        if not (proxy or self._options.media_proxy):
            return Redirect(self._sign(bucket, key, immutable=variant != "original"))
        return await self._download(bucket, key, variant, range_, if_none_match)

    def _sign(self, bucket: str, key: str, *, immutable: bool) -> str:
        """A presigned GET; a rendition's (its key names its content) the same all period."""
        options = self._options
        if immutable and options.rendition_url_period_s:
            sign = self._presigner.stable_signer(
                options.rendition_url_expires_s, options.rendition_url_period_s
            )
        else:
            sign = self._presigner.signer(
                options.rendition_url_expires_s if immutable else options.presign_expires_s
            )
        url = sign(bucket, key)
        PRESIGNED.labels("rendition" if immutable else "original").inc()
        return url

    async def _download(
        self,
        bucket: str,
        key: str,
        variant: Variant,
        wanted: str | None,
        if_none_match: str | None,
    ) -> NotModified | OutOfRange | Download:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if wanted and _ONE_RANGE.match(wanted):
            params["Range"] = wanted
        if if_none_match:
            params["IfNoneMatch"] = if_none_match
        try:
            stored = await self._s3.get_object(**params)
        except ClientError as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            if status == 304:
                metadata = exc.response.get("ResponseMetadata", {})
                return NotModified(metadata.get("HTTPHeaders", {}).get("etag"))
            if status == 416:
                return OutOfRange()
            if status == 404:
                raise NotFoundError(f"the {variant} is missing from storage") from None
            raise StorageUnavailableError(f"storage refused the download: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailableError(f"storage unavailable: {exc}") from exc
        headers = {name: str(stored[field]) for field, name in _PASSED.items() if stored.get(field)}
        if "Last-Modified" in headers:
            headers["Last-Modified"] = stored["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT")
        headers["Accept-Ranges"] = "bytes"
        status = 206 if "Content-Range" in headers else 200
        return Download(status, headers, body_chunks(stored["Body"]))
