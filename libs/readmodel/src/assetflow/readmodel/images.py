"""The image read model: one document per object, written by the indexer, read by the API.

This module is the only place that knows the collection's name, its field names, the shape
of a document and the indexes the listings need. Services build and read documents through
it, never through string keys of their own.
"""

import base64
from datetime import datetime
from typing import Any, Final, TypedDict

from pymongo import ASCENDING, DESCENDING, IndexModel

from assetflow.contracts.errors import InvalidEventError
from assetflow.contracts.events import (
    ImageStatus,
    ObjectCreated,
    ObjectRemoved,
    Split,
    ThumbnailsCreated,
    ThumbnailsFailed,
)
from assetflow.contracts.layout import IMAGES_SEGMENT, parse_object_key
from assetflow.readmodel import similarity

COLLECTION: Final = "images"


class F:
    """Field names of an image document."""

    ID: Final = "_id"
    BUCKET: Final = "bucket"
    KEY: Final = "key"
    DATASET_ID: Final = "dataset_id"
    PATH: Final = "path"
    FOLDER: Final = "folder"
    FILE_NAME: Final = "file_name"
    SEQUENCER: Final = "sequencer"
    INDEXED_AT: Final = "indexed_at"
    DELETED: Final = "deleted"
    DELETED_AT: Final = "deleted_at"
    SIZE: Final = "size"
    ETAG: Final = "etag"
    CONTENT_TYPE: Final = "content_type"
    UPLOADED_AT: Final = "uploaded_at"
    STATUS: Final = "status"
    STATUS_REASON: Final = "status_reason"
    WIDTH: Final = "width"
    HEIGHT: Final = "height"
    THUMBHASH: Final = "thumbhash"
    SOURCE_FORMAT: Final = "source_format"
    RENDITIONS: Final = "renditions"
    EXIF: Final = "exif"
    THUMBNAILED_AT: Final = "thumbnailed_at"
    TAGS: Final = "tags"
    TAG_COMMANDS: Final = "tag_commands"
    SAMPLE_KEY: Final = "sample_key"
    # A summary of the image's annotations (written by the API with them, cleared on delete).
    LABELS: Final = "labels"
    ANNOTATION_REVISION: Final = "annotation_revision"
    ANNOTATION_HASH: Final = "annotation_hash"
    # Content hashes of the live version (from ThumbnailsCreated; None until then and after
    # a delete): the original's sha256 and a 64-bit perceptual hash of its pixels.
    SHA256: Final = "sha256"
    PHASH: Final = "phash"
    PHASH_BANDS: Final = "phash_bands"  # the pHash cut into bands, indexed (similarity.py)
    # True while another live image of the dataset has the same sha256 (the indexer keeps
    # it with the sha256 counters, in the same transaction).
    DUPLICATE: Final = "duplicate"
    SPLIT: Final = "split"  # train, val, test or None (ChangeSplit commands set it)


class RenditionDoc(TypedDict):
    """One stored rendition (thumb or preview)."""

    key: str
    width: int
    height: int
    size: int
    content_type: str


class RenditionsDoc(TypedDict):
    """Where an image's renditions are."""

    bucket: str
    thumb: RenditionDoc
    preview: RenditionDoc


class ExifDoc(TypedDict):
    """The EXIF summary kept for the listing."""

    captured_at: str | None
    make: str | None
    model: str | None
    orientation: int | None


class ImageDocument(TypedDict):
    """An image document as stored. A removed object stays as a tombstone (``deleted``)."""

    _id: str
    bucket: str
    key: str
    dataset_id: str
    path: str
    folder: str
    file_name: str
    sequencer: str
    indexed_at: datetime
    deleted: bool
    deleted_at: datetime | None
    size: int
    etag: str
    content_type: str | None
    uploaded_at: datetime
    status: ImageStatus
    status_reason: str | None
    width: int | None
    height: int | None
    thumbhash: str | None
    source_format: str | None
    renditions: RenditionsDoc | None
    exif: ExifDoc | None
    thumbnailed_at: datetime | None
    tags: list[str]
    tag_commands: list[str]
    sample_key: float
    sha256: str | None
    phash: str | None
    phash_bands: list[int]
    duplicate: bool
    split: Split | None


# The listing order is newest first with the id as tie-break; each index below serves one
# listing filter as an equality prefix followed by that order, so a page is one index range.
LISTING_ORDER: Final = [(F.UPLOADED_AT, DESCENDING), (F.ID, DESCENDING)]
LISTING_INDEX: Final = "listing"
FOLDER_INDEX: Final = "listing_by_folder"
STATUS_INDEX: Final = "listing_by_status"
TAG_INDEX: Final = "listing_by_tag"
SPLIT_INDEX: Final = "listing_by_split"
DUPLICATE_INDEX: Final = "listing_by_duplicate"
SAMPLE_INDEX: Final = "sample"
SHA256_INDEX: Final = "by_sha256"
SIMILAR_INDEX: Final = "similar"


def _listing_index(name: str, *prefix: str) -> IndexModel:
    keys = [(F.DATASET_ID, ASCENDING), (F.DELETED, ASCENDING)]
    keys += [(field, ASCENDING) for field in prefix]
    return IndexModel(keys + LISTING_ORDER, name=name)


INDEXES: Final = (
    _listing_index(LISTING_INDEX),
    _listing_index(FOLDER_INDEX, F.FOLDER),
    _listing_index(STATUS_INDEX, F.STATUS),
    # Multikey: one entry per tag, and one ([]) for an untagged image, so "has tag t",
    # "has any of ts" and "untagged" are each a bounded range in upload order.
    _listing_index(TAG_INDEX, F.TAGS),
    _listing_index(SPLIT_INDEX, F.SPLIT),
    _listing_index(DUPLICATE_INDEX, F.DUPLICATE),
    # Backfill walks the index in key order beside the bucket listing.
    IndexModel([(F.BUCKET, ASCENDING), (F.KEY, ASCENDING)], name="by_key"),
    # Random samples: a uniform key per image, so "the first image at or after p" is a
    # bounded range read whatever the dataset's size.
    IndexModel(
        [(F.DATASET_ID, ASCENDING), (F.DELETED, ASCENDING), (F.SAMPLE_KEY, ASCENDING)],
        name=SAMPLE_INDEX,
    ),
    # The images of one exact-duplicate group, by path.
    IndexModel(
        [
            (F.DATASET_ID, ASCENDING),
            (F.DELETED, ASCENDING),
            (F.SHA256, ASCENDING),
            (F.PATH, ASCENDING),
        ],
        name=SHA256_INDEX,
    ),
    # Near duplicates: multikey, one entry per pHash band (similarity.py says why). The hash
    # and id ride along so the candidate read is covered: no document is fetched to verify
    # a candidate's distance (measured on 300k images: 2.2x faster at k=10).
    IndexModel(
        [
            (F.DATASET_ID, ASCENDING),
            (F.DELETED, ASCENDING),
            (F.PHASH_BANDS, ASCENDING),
            (F.PHASH, ASCENDING),
            (F.ID, ASCENDING),
        ],
        name=SIMILAR_INDEX,
    ),
)

RECENT_TAG_COMMANDS: Final = 20
"""How many applied tag command ids an image remembers, so a redelivered one is skipped."""


# What the thumbnailer adds; a new version of the object starts again without them.
NOT_THUMBNAILED: Final[dict[str, Any]] = {
    F.STATUS: "pending",
    F.STATUS_REASON: None,
    F.WIDTH: None,
    F.HEIGHT: None,
    F.THUMBHASH: None,
    F.SOURCE_FORMAT: None,
    F.RENDITIONS: None,
    F.EXIF: None,
    F.THUMBNAILED_AT: None,
    F.SHA256: None,
    F.PHASH: None,
    F.PHASH_BANDS: [],
    F.DUPLICATE: False,
}


def event_fields(event: ObjectCreated | ObjectRemoved, now: datetime) -> dict[str, Any]:
    """Fields to ``$set`` for an object event; a removal leaves a tombstone so replays stay stale.

    Raises InvalidEventError for a key outside the dataset layout (ingest never emits one).
    """
    location = parse_object_key(event.key)
    if location is None:
        raise InvalidEventError(f"key outside the dataset layout: {event.key!r}")
    fields: dict[str, Any] = {
        F.BUCKET: event.bucket,
        F.KEY: event.key,
        F.DATASET_ID: location.dataset_id,
        F.PATH: location.path,
        F.FOLDER: location.folder,
        F.FILE_NAME: location.file_name,
        F.SEQUENCER: event.sequencer,
        F.INDEXED_AT: now,
    }
    if isinstance(event, ObjectCreated):
        return fields | {
            F.DELETED: False,
            F.SIZE: event.size,
            F.ETAG: event.etag,
            F.CONTENT_TYPE: event.content_type,
            F.UPLOADED_AT: event.event_time,
            F.DELETED_AT: None,
            **NOT_THUMBNAILED,
        }
    # A tombstone keeps no content hash (a deleted image is in no duplicate group) and no
    # split: re-creating the path starts afresh, as with tags.
    return fields | {
        F.DELETED: True,
        F.DELETED_AT: event.event_time,
        F.SHA256: None,
        F.PHASH: None,
        F.PHASH_BANDS: [],
        F.DUPLICATE: False,
        F.SPLIT: None,
    }


def sample_key(image_id: str) -> float:
    """A uniform number in [0, 1) fixed by the id (itself a BLAKE2b digest), stable forever."""
    digest = base64.urlsafe_b64decode(image_id + "=" * (-len(image_id) % 4))
    return int.from_bytes(digest[:7], "big") / float(1 << 56)


def new_document(
    event: ObjectCreated | ObjectRemoved, image_id: str, now: datetime
) -> ImageDocument:
    """A complete document for an object the index has never seen."""
    doc: dict[str, Any] = {
        F.ID: image_id,
        F.TAGS: [],
        F.TAG_COMMANDS: [],
        F.SAMPLE_KEY: sample_key(image_id),
        F.DUPLICATE: False,
        F.SPLIT: None,
    }
    if isinstance(event, ObjectRemoved):
        # A tombstone for an object we never saw still carries every field, typed.
        doc |= {
            F.SIZE: 0,
            F.ETAG: "",
            F.CONTENT_TYPE: None,
            F.UPLOADED_AT: event.event_time,
            **NOT_THUMBNAILED,
        }
    doc |= event_fields(event, now)
    if isinstance(event, ObjectCreated):
        doc[F.TAGS] = list(event.tags)
    return doc  # type: ignore[return-value]


def result_fields(result: ThumbnailsCreated | ThumbnailsFailed, now: datetime) -> dict[str, Any]:
    """Fields to ``$set`` when the thumbnailer reports on one object version."""
    if isinstance(result, ThumbnailsFailed):
        return NOT_THUMBNAILED | {
            F.STATUS: result.status,
            F.STATUS_REASON: result.reason,
            F.THUMBNAILED_AT: now,
        }
    return {
        F.STATUS: "ready",
        F.STATUS_REASON: None,
        F.WIDTH: result.width,
        F.HEIGHT: result.height,
        F.THUMBHASH: result.thumbhash,
        F.SOURCE_FORMAT: result.source_format,
        F.RENDITIONS: {
            "bucket": result.thumbnails_bucket,
            "thumb": result.thumb.model_dump(),
            "preview": result.preview.model_dump(),
        },
        F.EXIF: result.exif.model_dump(),
        F.THUMBNAILED_AT: now,
        F.SHA256: result.sha256,
        F.PHASH: result.phash,
        F.PHASH_BANDS: similarity.bands(result.phash) if result.phash else [],
    }


def result_guard(result: ThumbnailsCreated | ThumbnailsFailed) -> dict[str, Any]:
    """Filter a result's update must match: the same live version it was made from."""
    return {F.ID: result.image_id, F.ETAG: result.etag, F.DELETED: False}


def live_in_key_order(bucket: str, dataset_id: str) -> dict[str, Any]:
    """The query for a dataset's live images by key range (``by_key`` index; sort by key)."""
    prefix = f"{dataset_id}/{IMAGES_SEGMENT}/"
    return {
        F.BUCKET: bucket,
        F.KEY: {"$gte": prefix, "$lt": prefix + "\U0010ffff"},
        F.DELETED: False,
    }
