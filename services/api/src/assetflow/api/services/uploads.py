"""Uploads straight to storage: the API validates and signs, the bytes never pass through it.

A file up to ``multipart_threshold`` gets one presigned PUT; a larger one a multipart upload
whose parts each get a presigned URL, so a client can upload parts in parallel, retry one,
and resume after a dropped connection (``list_parts``). The upload record (dataset, key, size,
part size) is kept in the ``uploads`` collection so completion and abort need only its id.
"""

import fnmatch
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from assetflow.api.observability import PRESIGNED
from assetflow.api.schemas.uploads import MAX_PARTS, UploadTarget
from assetflow.api.services import Database
from assetflow.api.services.quotas import Quotas
from assetflow.contracts import layout
from assetflow.contracts.errors import InvalidRequestError, NotFoundError, StorageUnavailableError
from assetflow.contracts.layout import parse_object_key
from assetflow.contracts.tags import InvalidTagError, normalize_tags

COLLECTION = "uploads"
MAX_PATH_BYTES = 1024
MIN_PART = 5 * 1024 * 1024  # S3's smallest part (but the last)


def validate_path(path: str) -> str:
    """A relative path under ``<dataset>/images/``; raises InvalidRequestError saying why."""
    if not path or len(path.encode()) > MAX_PATH_BYTES:
        raise InvalidRequestError(f"path must be 1-{MAX_PATH_BYTES} bytes")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in path):
        raise InvalidRequestError("path contains a control character")
    if path.startswith("/") or path.endswith("/") or "\\" in path:
        raise InvalidRequestError("path must be relative and name a file")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise InvalidRequestError("path has an empty, '.' or '..' segment")
    return path


def size_limit(content_type: str, limits: dict[str, int]) -> int:
    """The largest size allowed for ``content_type`` (patterns like ``image/*``, first match)."""
    for pattern, limit in limits.items():
        if fnmatch.fnmatchcase(content_type.lower(), pattern):
            return limit
    raise InvalidRequestError(f"content type {content_type!r} is not accepted for upload")


def part_size_for(size: int, threshold: int) -> int:
    """Parts of ``threshold`` bytes, larger when needed to stay within S3's 10,000 parts."""
    return max(threshold, MIN_PART, math.ceil(size / MAX_PARTS))


IMPORT_CONTENT_TYPE = "application/zip"


@dataclass(frozen=True)
class UploadRequest:
    """A validated request to upload one file."""

    dataset_id: str
    path: str
    size: int
    content_type: str
    tags: list[str]
    target: UploadTarget = "images"

    @property
    def key(self) -> str:
        """The object key in the datasets bucket."""
        if self.target == "imports":
            return f"{self.dataset_id}/imports/{self.path}"
        return layout.object_key(self.dataset_id, self.path)

    @classmethod
    def parse(
        cls,
        dataset_id: str,
        path: str,
        size: int,
        content_type: str,
        tags: list[str],
        limits: dict[str, int],
        target: UploadTarget = "images",
    ) -> "UploadRequest":
        """Validate everything; raises InvalidRequestError naming the rule."""
        request = cls(dataset_id, validate_path(path), size, content_type, [], target)
        if parse_object_key(layout.object_key(dataset_id, request.path)) is None:
            raise InvalidRequestError("the dataset id or path does not form a valid key")
        if (target == "imports") != (content_type == IMPORT_CONTENT_TYPE):
            raise InvalidRequestError(
                f"an import is a {IMPORT_CONTENT_TYPE} upload with target 'imports', and only that"
            )
        if size > (limit := size_limit(content_type, limits)):
            raise InvalidRequestError(f"size {size} is over the {limit}-byte limit for it")
        try:
            normalized = normalize_tags(tags)
        except InvalidTagError as exc:
            raise InvalidRequestError(str(exc)) from None
        return cls(dataset_id, request.path, size, content_type, normalized, target)


class Uploads:
    """Signs uploads against storage and keeps their records."""

    def __init__(
        self,
        db: Database,
        s3: Any,
        signer: Any,
        bucket: str,
        expires_s: int,
        limits: dict[str, int],
        multipart_threshold: int,
        quotas: Quotas,
    ) -> None:
        self._db = db
        self._quotas = quotas
        self._s3 = s3  # the service's client (internal endpoint)
        self._signer = signer  # a botocore client on the public endpoint, for URLs only
        self._bucket = bucket
        self._expires = expires_s
        self._limits = limits  # largest size per content type pattern
        self._threshold = multipart_threshold

    def _url(self, operation: str, params: dict[str, Any]) -> str:
        url: str = self._signer.generate_presigned_url(
            operation, Params={"Bucket": self._bucket, **params}, ExpiresIn=self._expires
        )
        PRESIGNED.labels("upload").inc()
        return url

    async def start(
        self,
        dataset_id: str,
        path: str,
        size: int,
        content_type: str,
        tags: list[str],
        target: UploadTarget = "images",
    ) -> dict[str, Any]:
        """Validate the file and check the dataset's quota; then a presigned PUT, or (above
        the multipart threshold) a multipart upload with one presigned URL per part."""
        request = UploadRequest.parse(
            dataset_id, path, size, content_type, tags, self._limits, target
        )
        if target == "images":  # an import's zip is no image: its images are written later
            await self._quotas.check_upload(dataset_id, request.key, request.size)
        threshold = self._threshold
        metadata = {"tags": ",".join(_encode(tag) for tag in request.tags)} if request.tags else {}
        if request.size <= threshold:
            params: dict[str, Any] = {"Key": request.key, "ContentType": request.content_type}
            headers = {"Content-Type": request.content_type}
            if metadata:
                params["Metadata"] = metadata
                headers["x-amz-meta-tags"] = metadata["tags"]
            url = self._url("put_object", params)
            return {"method": "PUT", "key": request.key, "url": url, "headers": headers}
        part_size = part_size_for(request.size, threshold)
        created = await self._call(
            self._s3.create_multipart_upload,
            Bucket=self._bucket,
            Key=request.key,
            ContentType=request.content_type,
            Metadata=metadata,
        )
        upload_id = created["UploadId"]
        record_id = uuid.uuid4().hex
        await self._db[COLLECTION].insert_one(
            {
                "_id": record_id,
                "dataset_id": request.dataset_id,
                "key": request.key,
                "upload_id": upload_id,
                "size": request.size,
                "part_size": part_size,
                "created_at": datetime.now(UTC),
            }
        )
        count = max(1, math.ceil(request.size / part_size))
        parts = [
            {"number": n, "url": self._part_url(request.key, upload_id, n)}
            for n in range(1, count + 1)
        ]
        return {
            "method": "MULTIPART",
            "key": request.key,
            "upload_id": record_id,
            "part_size": part_size,
            "parts": parts,
        }

    def _part_url(self, key: str, upload_id: str, number: int) -> str:
        params = {"Key": key, "UploadId": upload_id, "PartNumber": number}
        return self._url("upload_part", params)

    async def record(self, dataset_id: str, record_id: str) -> dict[str, Any]:
        """The upload's record; NotFoundError for an unknown (or finished) upload."""
        doc = await self._db[COLLECTION].find_one({"_id": record_id, "dataset_id": dataset_id})
        if doc is None:
            raise NotFoundError(f"no upload in progress with id {record_id!r}")
        return doc

    async def parts(self, dataset_id: str, record_id: str) -> dict[str, Any]:
        """What storage already holds of a multipart upload, to resume it."""
        doc = await self.record(dataset_id, record_id)
        listed = await self._call(
            self._s3.list_parts, Bucket=self._bucket, Key=doc["key"], UploadId=doc["upload_id"]
        )
        stored = [
            {"number": p["PartNumber"], "etag": p["ETag"].strip('"'), "size": p["Size"]}
            for p in listed.get("Parts", [])
        ]
        count = max(1, math.ceil(doc["size"] / doc["part_size"]))
        missing = sorted(set(range(1, count + 1)) - {p["number"] for p in stored})
        return {
            "upload_id": record_id,
            "key": doc["key"],
            "part_size": doc["part_size"],
            "parts": stored,
            "missing": [
                {"number": n, "url": self._part_url(doc["key"], doc["upload_id"], n)}
                for n in missing
            ],
        }

    async def complete(self, dataset_id: str, record_id: str, etags: dict[int, str]) -> str:
        """Assemble the parts; returns the object key."""
        doc = await self.record(dataset_id, record_id)
        parts = [{"PartNumber": n, "ETag": f'"{etags[n].strip(chr(34))}"'} for n in sorted(etags)]
        await self._call(
            self._s3.complete_multipart_upload,
            Bucket=self._bucket,
            Key=doc["key"],
            UploadId=doc["upload_id"],
            MultipartUpload={"Parts": parts},
        )
        await self._db[COLLECTION].delete_one({"_id": record_id})
        return str(doc["key"])

    async def abort(self, dataset_id: str, record_id: str) -> None:
        """Drop the upload and every part stored so far."""
        doc = await self.record(dataset_id, record_id)
        await self._call(
            self._s3.abort_multipart_upload,
            Bucket=self._bucket,
            Key=doc["key"],
            UploadId=doc["upload_id"],
        )
        await self._db[COLLECTION].delete_one({"_id": record_id})

    async def _call(self, method: Any, **params: Any) -> Any:
        try:
            return await method(**params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchUpload", "NoSuchKey"):
                raise NotFoundError(f"storage has no such upload: {code}") from None
            refused = ("InvalidPart", "InvalidPartOrder", "EntityTooSmall", "InvalidRequest")
            if code in (*refused, "MalformedXML"):
                raise InvalidRequestError(f"storage refused the parts: {code}") from None
            raise StorageUnavailableError(f"storage refused: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailableError(f"storage unavailable: {exc}") from exc


def _encode(tag: str) -> str:
    """S3 metadata is ASCII: non-ASCII tags travel percent-encoded (ingest decodes them)."""
    from urllib.parse import quote

    return quote(tag, safe="")
