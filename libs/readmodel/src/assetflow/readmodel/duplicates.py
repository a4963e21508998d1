"""Exact duplicates: how many live images of a dataset have each sha256.

One counter document per (dataset, sha256), kept like the tag and folder counters: the
indexer moves it by the difference between an image's state before and after, in the same
transaction as the image (``counters.CounterDeltas``), so it is exact under replays,
crashes and concurrent writers, and ``reconcile`` recounts and repairs it. A counter that
falls to 0 stays (as tag counters do); the ``groups`` index holds only counts of 2 or more,
so a page of duplicate groups reads only groups, largest first, whatever the dataset's size.
"""

from collections import Counter
from typing import Any, Final, TypedDict

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateMany, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.readmodel.images import COLLECTION as IMAGES
from assetflow.readmodel.images import F

COLLECTION: Final = "sha256_counts"
MIN_GROUP: Final = 2
GROUPS_INDEX: Final = "groups"


class D:
    """Field names of a sha256 counter document."""

    ID: Final = "_id"
    DATASET_ID: Final = "dataset_id"
    SHA256: Final = "sha256"
    COUNT: Final = "count"


class Sha256CountDocument(TypedDict):
    """How many live images of a dataset have this sha256 (kept at 0 when none do)."""

    _id: str
    dataset_id: str
    sha256: str
    count: int


# Largest groups first, then by hash; only documents with count >= 2 are in it.
GROUP_ORDER: Final = [(D.COUNT, DESCENDING), (D.SHA256, ASCENDING)]
INDEXES: Final = (
    IndexModel(
        [(D.DATASET_ID, ASCENDING), *GROUP_ORDER],
        name=GROUPS_INDEX,
        partialFilterExpression={D.COUNT: {"$gte": MIN_GROUP}},
    ),
)

Db = AsyncDatabase[dict[str, Any]]


def counter_id(dataset_id: str, sha256: str) -> str:
    """Id of a (dataset, sha256) counter; a dataset id never contains '/'."""
    return f"{dataset_id}/{sha256}"


def inc_updates(deltas: Counter[tuple[str, str]]) -> list[UpdateOne]:
    """One ``$inc`` upsert per (dataset, sha256) counter whose count moved."""
    return [
        UpdateOne(
            {D.ID: counter_id(dataset, sha256)},
            {"$inc": {D.COUNT: delta}, "$setOnInsert": {D.DATASET_ID: dataset, D.SHA256: sha256}},
            upsert=True,
        )
        for (dataset, sha256), delta in sorted(deltas.items())
        if delta
    ]


async def stored(
    db: Db, dataset_id: str, session: AsyncClientSession | None = None
) -> dict[str, int]:
    """The non-zero counters of a dataset, by sha256 (for reconcile and checks)."""
    found = db[COLLECTION].find({D.DATASET_ID: dataset_id, D.COUNT: {"$ne": 0}}, session=session)
    return {doc[D.SHA256]: int(doc[D.COUNT]) async for doc in found}


async def recount(
    db: Db, dataset_id: str, session: AsyncClientSession | None = None
) -> dict[str, int]:
    """The truth from the live images, by sha256: O(images); for reconcile and checks only."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {F.DATASET_ID: dataset_id, F.DELETED: False, F.SHA256: {"$type": "string"}}},
        {"$group": {"_id": f"${F.SHA256}", "count": {"$sum": 1}}},
    ]
    rows = await db[IMAGES].aggregate(pipeline, session=session)
    return {doc["_id"]: int(doc["count"]) async for doc in rows}


def drift(stored: dict[str, int], truth: dict[str, int]) -> dict[str, int]:
    """Every counter that differs from the truth, as 'sha256:<hex>': stored - truth."""
    return {
        f"sha256:{sha256}": stored.get(sha256, 0) - truth.get(sha256, 0)
        for sha256 in sorted(set(stored) | set(truth))
        if stored.get(sha256, 0) != truth.get(sha256, 0)
    }


async def flagged(
    db: Db, dataset_id: str, session: AsyncClientSession | None = None
) -> dict[Any, int]:
    """Live images flagged ``duplicate``, by sha256: O(flagged images); for reconcile."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {F.DATASET_ID: dataset_id, F.DELETED: False, F.DUPLICATE: True}},
        {"$group": {"_id": f"${F.SHA256}", "count": {"$sum": 1}}},
    ]
    rows = await db[IMAGES].aggregate(pipeline, session=session)
    return {doc["_id"]: int(doc["count"]) async for doc in rows}


def _flag_drifted(flagged: dict[Any, int], truth: dict[str, int]) -> list[Any]:
    """Hashes (None too: a flag left without a hash) whose flagged images differ from the
    group's count; a group of one should have none flagged."""
    expected = {sha256: n for sha256, n in truth.items() if n >= MIN_GROUP}
    return sorted(
        (h for h in set(flagged) | set(expected) if flagged.get(h, 0) != expected.get(h, 0)),
        key=str,
    )


def flag_drift(flagged: dict[Any, int], truth: dict[str, int]) -> dict[str, int]:
    """Every group whose flags are wrong, as 'duplicate:<hex>': flagged - expected."""
    return {
        f"duplicate:{h}": flagged.get(h, 0) - (truth.get(h, 0) if truth.get(h, 0) >= 2 else 0)
        for h in _flag_drifted(flagged, truth)
    }


def flag_repairs(
    dataset_id: str, flagged: dict[Any, int], truth: dict[str, int]
) -> list[UpdateMany]:
    """Set the flag of every drifted group from its true count."""
    return [
        mark_update(dataset_id, h, truth.get(h, 0) if h else 0)
        for h in _flag_drifted(flagged, truth)
    ]


def repair_updates(
    dataset_id: str, stored: dict[str, int], truth: dict[str, int]
) -> list[UpdateOne]:
    """One upsert setting each (dataset, sha256) counter that differs from the truth."""
    return [
        UpdateOne(
            {D.ID: counter_id(dataset_id, sha256)},
            {
                "$set": {
                    D.COUNT: truth.get(sha256, 0),
                    D.DATASET_ID: dataset_id,
                    D.SHA256: sha256,
                }
            },
            upsert=True,
        )
        for sha256 in sorted(set(stored) | set(truth))
        if stored.get(sha256, 0) != truth.get(sha256, 0)
    ]


def mark_update(dataset_id: str, sha256: str | None, count: int) -> UpdateMany:
    """Set the ``duplicate`` flag of a group's live images from its count (on ``by_sha256``)."""
    duplicate = count >= MIN_GROUP
    return UpdateMany(
        {
            F.DATASET_ID: dataset_id,
            F.DELETED: False,
            F.SHA256: sha256,
            F.DUPLICATE: {"$ne": duplicate},
        },
        {"$set": {F.DUPLICATE: duplicate}},
    )


def groups_query(dataset_id: str, after: tuple[int, str] | None = None) -> dict[str, Any]:
    """The filter of a page of duplicate groups on the ``groups`` index, after a cursor
    (count, sha256) in ``GROUP_ORDER``."""
    query: dict[str, Any] = {D.DATASET_ID: dataset_id, D.COUNT: {"$gte": MIN_GROUP}}
    if after is not None:
        count, sha256 = after
        query[D.COUNT]["$lte"] = count
        query["$or"] = [{D.COUNT: {"$lt": count}}, {D.SHA256: {"$gt": sha256}}]
    return query
