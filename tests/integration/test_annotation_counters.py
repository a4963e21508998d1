"""Annotation writes on the real database: revisions, label counts exact under races and deletes."""

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.api.publishing import Publisher
from assetflow.contracts.errors import (
    DatabaseUnavailableError,
    InvalidRequestError,
    NotFoundError,
    StaleRevisionError,
)
from assetflow.contracts.layout import image_id
from assetflow.domain.annotating import Annotating, patch_with, replace_with
from assetflow.indexer.writes import apply_changes
from assetflow.platform.settings import KafkaSettings
from assetflow.readmodel import annotations
from assetflow.readmodel.annotations import A, L, Shape
from assetflow.readmodel.images import F
from tests.support.events import created, removed, thumbnails_created
from tests.support.stack import service_env

Db = AsyncDatabase[dict[str, Any]]
LABELS = ["cat", "dog", "bird"]


@pytest_asyncio.fixture
async def annotating(db: Db, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Annotating]:
    for name, value in service_env().items():
        if name.startswith("KAFKA_"):
            monkeypatch.setenv(name, value)
    publisher = Publisher(KafkaSettings())
    yield Annotating(db, publisher)
    await publisher.close()


def shape(shape_id: str, label: str, x: float = 1) -> Shape:
    return Shape(id=shape_id, type="bbox", label=label, bbox=[x, 1, 5, 5])


async def label_counts(db: Db, dataset: str = "d") -> dict[str, tuple[int, int]]:
    found = db[annotations.LABEL_COUNTS].find({L.DATASET_ID: dataset})
    return {
        doc[L.LABEL]: (doc[L.SHAPES], doc[L.IMAGES])
        async for doc in found
        if doc[L.SHAPES] or doc[L.IMAGES]
    }


async def truth(db: Db, dataset: str = "d") -> dict[str, tuple[int, int]]:
    """Counts recomputed from the annotation documents of live images."""
    live = {doc[F.ID] async for doc in db["images"].find({F.DATASET_ID: dataset, F.DELETED: False})}
    shapes: Counter[str] = Counter()
    images: Counter[str] = Counter()
    async for doc in db[annotations.COLLECTION].find({A.DATASET_ID: dataset}):
        if doc[A.ID] not in live:
            assert not doc[A.SHAPES], "a deleted image kept its shapes"
            continue
        labels = [s["label"] for s in doc[A.SHAPES]]
        shapes.update(labels)
        images.update(set(labels))
    return {label: (shapes[label], images[label]) for label in shapes}


@pytest.mark.asyncio
async def test_revisions_are_checked_and_counted(db: Db, annotating: Annotating) -> None:
    key = "d/images/a.jpg"
    await apply_changes(db, [created(key, 1)])
    image = image_id("datasets", key)
    assert (await annotating.read(image)).revision == 0

    first = await annotating.write(image, 0, replace_with([shape("1", "cat"), shape("2", "cat")]))
    assert first.revision == 1
    with pytest.raises(StaleRevisionError) as stale:
        await annotating.write(image, 0, replace_with([]))
    assert stale.value.current == 1
    second = await annotating.write(image, 1, patch_with([shape("3", "dog")], ["1"]))
    assert [(s.id, s.label) for s in second.shapes] == [("2", "cat"), ("3", "dog")]
    assert await label_counts(db) == {"cat": (1, 1), "dog": (1, 1)}
    doc = await db["images"].find_one({F.ID: image})
    assert doc is not None and doc[F.ANNOTATION_REVISION] == 2
    assert doc[F.LABELS] == [{"label": "cat", "shapes": 1}, {"label": "dog", "shapes": 1}]
    stored = await db[annotations.COLLECTION].find_one({A.ID: image})
    assert stored is not None and "unpublished" not in stored  # its event reached Kafka


@pytest.mark.asyncio
async def test_shapes_must_fit_the_image_once_its_size_is_known(
    db: Db, annotating: Annotating
) -> None:
    key = "d/images/small.jpg"
    event = created(key, 1)
    await apply_changes(db, [event, thumbnails_created(event)])  # 640x480
    image = image_id("datasets", key)
    doc = await db["images"].find_one({F.ID: image})
    assert doc is not None
    width = doc[F.WIDTH]
    with pytest.raises(InvalidRequestError, match="outside"):
        await annotating.write(image, 0, replace_with([shape("1", "cat", x=width)]))
    assert (await annotating.read(image)).revision == 0


@pytest.mark.asyncio
async def test_deleting_an_image_takes_its_labels_out_and_keeps_counting_revisions(
    db: Db, annotating: Annotating
) -> None:
    key = "d/images/gone.jpg"
    await apply_changes(db, [created(key, 1)])
    image = image_id("datasets", key)
    await annotating.write(image, 0, replace_with([shape("1", "cat"), shape("2", "dog")]))
    assert await label_counts(db) == {"cat": (1, 1), "dog": (1, 1)}

    await apply_changes(db, [removed(key, 2)])
    assert await label_counts(db) == {}
    with pytest.raises(NotFoundError):
        await annotating.read(image)
    # Re-created: it starts unannotated, and an If-Match from its first life cannot match.
    await apply_changes(db, [created(key, 3)])
    again = await annotating.read(image)
    assert (again.revision, again.shapes) == (2, [])
    with pytest.raises(StaleRevisionError):
        await annotating.write(image, 1, replace_with([shape("1", "cat")]))


@pytest.mark.asyncio
async def test_label_counts_stay_exact_under_concurrent_writers_and_deletes(
    db: Db, annotating: Annotating
) -> None:
    rng = random.Random(11)
    keys = [f"d/images/{i}.jpg" for i in range(12)]
    await apply_changes(db, [created(key, 1) for key in keys])
    ids = [image_id("datasets", key) for key in keys]
    seq = [1]
    stale = 0

    async def writer(n: int) -> None:
        nonlocal stale
        for _ in range(n):
            target = rng.choice(ids)
            try:
                current = await annotating.read(target)
            except NotFoundError:
                continue
            shapes = [shape(str(i), rng.choice(LABELS)) for i in range(rng.randint(0, 4))]
            try:
                await annotating.write(target, current.revision, replace_with(shapes))
            except StaleRevisionError:
                stale += 1  # another writer got there first: exactly what If-Match is for
            except NotFoundError:
                pass  # deleted between the read and the write
            except DatabaseUnavailableError:
                pass  # conflicts outlasted the retries: a 503, the client tries again

    async def indexer(n: int) -> None:
        for _ in range(n):
            key = rng.choice(keys)
            seq[0] += 1
            event = removed(key, seq[0]) if rng.random() < 0.5 else created(key, seq[0])
            while True:  # as the consumer does: a batch that keeps conflicting is redelivered
                try:
                    await apply_changes(db, [event])
                    break
                except DatabaseUnavailableError:
                    await asyncio.sleep(0.01)
            await asyncio.sleep(0)

    await asyncio.gather(writer(60), writer(60), writer(60), indexer(40))
    assert await label_counts(db) == await truth(db)
    assert stale > 0  # the race really happened
