"""Backfill and reconcile the index from the bucket listing.

The bucket is listed with ``ListObjectsV2`` pages (sorted by key) and each page is compared
with the index range of the same keys (the ``by_key`` index, also sorted), so memory stays
flat whatever the bucket's size. What differs becomes ordinary object events on
``assets.objects``, which the indexer (and the thumbnailer) apply like any other:

- an object missing from the index, or whose etag differs, or that the index holds as
  deleted: an ``ObjectCreated`` whose sequencer is derived from the object's
  ``LastModified`` (minus 1 ms). MinIO's sequencers are the event's Unix time in
  nanoseconds, so the real event of this version, or of any later version or delete,
  compares newer and wins; an older real event arriving late stays stale.
- an index entry whose object is gone: an ``ObjectRemoved`` whose sequencer is the moment
  the listing page was read, so an upload made after that moment is never removed.

Upload-time tags live in user metadata, which a plain S3 listing does not carry. MinIO
adds it to ``ListObjectsV2`` pages on request (``metadata=true``, see ``listing_pages``),
at about twice the listing's cost: the backfill CLI, where most listed objects are new,
asks for it; the periodic sweep, where differences are rare, does not. A created event
whose listing entry has no metadata gets its tags from one ``HEAD`` of that exact version
(``If-Match`` its etag), a page's HEADs concurrently.
"""

import asyncio
import logging
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.contracts.events import ObjectCreated, ObjectRemoved, event_time_utc
from assetflow.contracts.layout import parse_object_key
from assetflow.contracts.sequencer import normalize_sequencer
from assetflow.contracts.tags import metadata_tags
from assetflow.indexer.observability import RECONCILE_MISSING, RECONCILE_STALE
from assetflow.readmodel import images
from assetflow.readmodel.images import F

Database = AsyncDatabase[dict[str, Any]]
Event = ObjectCreated | ObjectRemoved
Publish = Callable[[list[Event]], Awaitable[None]]
log = logging.getLogger(__name__)

PROGRESS = "backfill_progress"
PAGE_SIZE = 1000
TAG_LOOKUPS = 32  # concurrent HEADs for upload tags
USER_METADATA = "UserMetadata"
_S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_KEY_END = "\U0010ffff"


def sequencer_at(moment: datetime) -> str:
    """A sequencer for ``moment``, comparable with MinIO's (Unix time in ns, hex)."""
    nanos = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000
    return normalize_sequencer(f"{nanos:X}")


@dataclass
class Report:
    """What a run found (and published, unless it was a dry run)."""

    listed: int = 0
    missing: int = 0
    changed: int = 0
    gone: int = 0
    skipped: int = 0
    published: int = 0
    last_key: str | None = None
    by_dataset: dict[str, int] = field(default_factory=dict)

    @property
    def differences(self) -> int:
        """Objects whose index entry was missing, outdated, or left behind."""
        return self.missing + self.changed + self.gone


def created_event(bucket: str, obj: dict[str, Any]) -> ObjectCreated | None:
    """The event a listed object stands for, or None if its key is outside the layout."""
    location = parse_object_key(obj["Key"])
    if location is None:
        return None
    modified: datetime = obj["LastModified"].astimezone(UTC)
    return ObjectCreated(
        bucket=bucket,
        key=obj["Key"],
        dataset_id=location.dataset_id,
        path=location.path,
        event_time=event_time_utc(modified),
        sequencer=sequencer_at(modified - timedelta(milliseconds=1)),
        size=int(obj.get("Size") or 0),
        etag=str(obj.get("ETag") or "").strip('"'),
        tags=metadata_tags(obj.get(USER_METADATA) or {}).tags,
    )


def removed_event(bucket: str, doc: dict[str, Any], listed_at: datetime) -> ObjectRemoved:
    """The removal of an index entry whose object the listing no longer has."""
    return ObjectRemoved(
        bucket=bucket,
        key=doc[F.KEY],
        dataset_id=doc[F.DATASET_ID],
        path=doc[F.PATH],
        event_time=event_time_utc(listed_at),
        sequencer=sequencer_at(listed_at),
    )


def compare_page(
    bucket: str,
    listed: list[dict[str, Any]],
    indexed: list[dict[str, Any]],
    listed_at: datetime,
    report: Report,
) -> list[Event]:
    """Events that bring the index range of one listing page in line with the listing; pure."""
    by_key = {doc[F.KEY]: doc for doc in indexed}
    events: list[Event] = []
    listed_keys = set()
    for obj in listed:
        event = created_event(bucket, obj)
        if event is None:
            report.skipped += 1
            continue
        listed_keys.add(event.key)
        doc = by_key.get(event.key)
        if doc is None or doc.get(F.DELETED):
            report.missing += 1
        elif doc.get(F.ETAG) != event.etag:
            report.changed += 1
        else:
            continue
        events.append(event)
    for key, doc in by_key.items():
        if key not in listed_keys and not doc.get(F.DELETED):
            report.gone += 1
            events.append(removed_event(bucket, doc, listed_at))
    for change in events:
        report.by_dataset[change.dataset_id] = report.by_dataset.get(change.dataset_id, 0) + 1
    return events


async def index_range(
    db: Database, bucket: str, after: str | None, upto: str | None, prefix: str
) -> list[dict[str, Any]]:
    """Index entries of ``bucket`` with ``after < key <= upto`` (within ``prefix``), by key."""
    bounds: dict[str, Any] = {"$gt": after} if after is not None else {"$gte": prefix}
    bounds["$lte" if upto is not None else "$lt"] = upto if upto is not None else prefix + _KEY_END
    fields = {F.KEY: 1, F.ETAG: 1, F.DELETED: 1, F.DATASET_ID: 1, F.PATH: 1}
    found = db[images.COLLECTION].find({F.BUCKET: bucket, F.KEY: bounds}, fields).sort(F.KEY, 1)
    return [doc for doc in await found.to_list() if doc[F.KEY].startswith(prefix)]


async def with_upload_tags(s3: Any, events: list[Event], unknown: set[str]) -> list[Event]:
    """``events`` with upload-time tags read by HEAD for created objects whose key is in
    ``unknown`` (listed without their user metadata)."""
    limit = asyncio.Semaphore(TAG_LOOKUPS)

    async def tagged(event: Event) -> Event:
        if not isinstance(event, ObjectCreated) or event.key not in unknown:
            return event
        async with limit:
            try:
                head = await s3.head_object(
                    Bucket=event.bucket, Key=event.key, IfMatch=f'"{event.etag}"'
                )
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status in (404, 412):
                    return event  # deleted or replaced since listed: its own event follows
                raise
        tags = metadata_tags(head.get("Metadata") or {}).tags
        return event.model_copy(update={"tags": tags}) if tags else event

    return list(await asyncio.gather(*(tagged(event) for event in events)))


async def backfill(
    db: Database,
    pages: AsyncIterator[list[dict[str, Any]]],
    bucket: str,
    prefix: str,
    publish: Publish | None,
    start_after: str | None = None,
    on_page: Callable[[Report], Awaitable[None]] | None = None,
    tags_from: Any | None = None,
) -> Report:
    """Walk the listing pages, compare each with the index and publish the differences.

    ``publish`` None is a dry run. Progress (the last key whose page is durable in Kafka)
    is handed to ``on_page`` after each page, so a run can resume from it. ``tags_from``
    is the S3 client that reads upload-time tags (None: events carry no tags).
    """
    report = Report(last_key=start_after)
    async for listed in pages:
        listed_at = datetime.now(UTC)
        upto = listed[-1]["Key"] if listed else None
        indexed = await index_range(db, bucket, report.last_key, upto, prefix)
        events = compare_page(bucket, listed, indexed, listed_at, report)
        unknown = {obj["Key"] for obj in listed if USER_METADATA not in obj}
        if events and unknown and tags_from is not None and publish is not None:
            events = await with_upload_tags(tags_from, events, unknown)
        if events and publish is not None:
            await publish(events)
            report.published += len(events)
        report.listed += len(listed)
        report.last_key = upto or report.last_key
        if on_page is not None:
            await on_page(report)
    # Index entries after the last listed key belong to objects that are gone too.
    tail = await index_range(db, bucket, report.last_key, None, prefix)
    events = compare_page(bucket, [], tail, datetime.now(UTC), report)
    if events and publish is not None:
        await publish(events)
        report.published += len(events)
    return report


async def listing_pages(
    s3: Any, bucket: str, prefix: str, start_after: str | None, *, metadata: bool = False
) -> AsyncIterator[list[dict[str, Any]]]:
    """``ListObjectsV2`` pages of the bucket under ``prefix``, after ``start_after``.

    With ``metadata``, entries carry ``UserMetadata`` where the server lists it (MinIO).
    """
    if metadata:
        with_user_metadata(s3)
    params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": PAGE_SIZE}
    if start_after:
        params["StartAfter"] = start_after
    while True:
        page = await s3.list_objects_v2(**params)
        contents = page.get("Contents", [])
        listed_metadata = page.get(USER_METADATA, [])
        if len(listed_metadata) == len(contents):  # in page order, None where not listed
            for obj, listed in zip(contents, listed_metadata, strict=True):
                if listed is not None:
                    obj[USER_METADATA] = listed
        if contents:
            yield contents
        if not page.get("IsTruncated"):
            return
        params.pop("StartAfter", None)
        params["ContinuationToken"] = page["NextContinuationToken"]


def with_user_metadata(s3: Any) -> None:
    """Make this client's ``ListObjectsV2`` ask for, and keep, MinIO's per-object user metadata.

    botocore's parser drops elements the S3 model lacks, so the handler reads them from the
    raw page into ``UserMetadata``, one entry per ``Contents`` in page order (matching by
    position: raw keys are URL-encoded). Servers without the extension ignore the parameter
    and every entry is None. Registering twice is harmless (same unique ids).
    """
    events = s3.meta.events
    events.register("before-sign.s3.ListObjectsV2", _ask_for_metadata, unique_id="af-list-meta")
    events.register("before-parse.s3.ListObjectsV2", _keep_metadata, unique_id="af-keep-meta")


def _ask_for_metadata(request: Any, **_: Any) -> None:
    if "metadata=true" not in (urlsplit(request.url).query or ""):
        request.url += ("&" if "?" in request.url else "?") + "metadata=true"


def _keep_metadata(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not isinstance(body, bytes):
        return
    found: list[dict[str, str] | None] = []
    for entry in ET.fromstring(body).iter(f"{_S3_NS}Contents"):
        listed = entry.find(f"{_S3_NS}{USER_METADATA}")
        found.append(
            None
            if listed is None
            else {child.tag.removeprefix(_S3_NS): child.text or "" for child in listed}
        )
    customized_response_dict[USER_METADATA] = found


async def saved_progress(db: Database, bucket: str, prefix: str) -> str | None:
    """The last key a previous run of this bucket and prefix finished, if any."""
    doc = await db[PROGRESS].find_one({"_id": f"{bucket}/{prefix}"})
    return None if doc is None else doc.get("last_key")


async def save_progress(db: Database, bucket: str, prefix: str, report: Report) -> None:
    """Remember how far this run got (after its page is durable in Kafka)."""
    await db[PROGRESS].update_one(
        {"_id": f"{bucket}/{prefix}"},
        {"$set": {"last_key": report.last_key, "updated_at": datetime.now(UTC)}},
        upsert=True,
    )


async def clear_progress(db: Database, bucket: str, prefix: str) -> None:
    """A finished run leaves nothing to resume."""
    await db[PROGRESS].delete_one({"_id": f"{bucket}/{prefix}"})


async def sweep_bucket_forever(
    db: Database, open_s3: Callable[[], Any], bucket: str, publish: Publish, interval_s: float
) -> None:
    """The periodic sweep: the whole bucket against the index, every ``interval_s``."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            async with open_s3() as s3:
                pages = listing_pages(s3, bucket, "", None)
                report = await backfill(db, pages, bucket, "", publish, tags_from=s3)
            RECONCILE_MISSING.inc(report.missing)
            RECONCILE_STALE.inc(report.changed + report.gone)
            if report.differences:
                log.warning(
                    "reconcile published differences",
                    extra={
                        "missing": report.missing,
                        "changed": report.changed,
                        "gone": report.gone,
                    },
                )
        except Exception:  # a failed sweep must not stop the indexer; the next one retries
            log.exception("reconcile sweep failed")
