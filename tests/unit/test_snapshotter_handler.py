"""The snapshotter's handler with in-memory fakes of its ports: no broker, no database, no S3.

A command runs its job to the end; an outage is raised for redelivery and the job resumes;
a command that can never succeed fails its job, goes to the dead-letter topic with the
reason, and the next command of the partition runs.
"""

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pymongo.errors import ServerSelectionTimeoutError

from assetflow.contracts import topics
from assetflow.contracts.commands import CreateSnapshot, ImportFinished, ImportZip, SnapshotEvent
from assetflow.contracts.errors import StorageUnavailableError
from assetflow.contracts.topics import Topics
from assetflow.domain.annotating import ImportReport
from assetflow.domain.coco import ImageShapes
from assetflow.platform.consuming import WORK_CONTEXT, raw_batch_decoder
from assetflow.platform.deadletter import SourceRecord
from assetflow.platform.producer import BrokerProducer, Producer
from assetflow.readmodel import snapshots
from assetflow.readmodel.annotations import Shape
from assetflow.readmodel.imports import I
from assetflow.readmodel.snapshots import S
from assetflow.snapshotter.building import Builder
from assetflow.snapshotter.handling import (
    DEAD_LETTERED,
    SnapshotterContext,
    handle_batch,
    handle_command,
)
from assetflow.snapshotter.importing import Importer
from assetflow.snapshotter.main import create_app
from assetflow.snapshotter.settings import SnapshotterOptions
from tests.support import images
from tests.support.fakes import FakeProducer
from tests.support.snapshotter_fakes import (
    FakeImportStore,
    FakeOriginals,
    FakeS3,
    FakeSnapshotStore,
)

BUCKET = "datasets"
DATASET = "cats"
CAT = Shape(id="a", type="bbox", label="cat", bbox=(1, 2, 10, 20))


@dataclass
class Snapshotter:
    """The handler's context over fakes, and what the jobs reported."""

    producer: Producer = field(default_factory=FakeProducer)
    s3: FakeS3 = field(default_factory=FakeS3)
    events: list[SnapshotEvent] = field(default_factory=list)
    finished: list[ImportFinished] = field(default_factory=list)
    annotated: list[tuple[str, list[ImageShapes]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.snapshots = FakeSnapshotStore()
        self.imports = FakeImportStore(self.s3)
        self.originals = FakeOriginals(self.s3, BUCKET)
        self.ctx = SnapshotterContext(
            builds=Builder(
                self.snapshots, self.s3, self.originals, BUCKET, SnapshotterOptions(), self.emit
            ),
            imports=Importer(
                self.imports, self.s3, BUCKET, self.annotate, announce=self.finished.append
            ),
            producer=self.producer,
        )

    def emit(self, event: SnapshotEvent) -> None:
        self.events.append(event)

    def annotate(self, dataset_id: str, items: list[ImageShapes]) -> ImportReport:
        self.annotated.append((dataset_id, items))
        return ImportReport(images=len(items))

    def dead_letters(self) -> list[tuple[bytes, dict[str, str]]]:
        assert isinstance(self.producer, FakeProducer)
        return self.producer.dead_letters()

    def snapshot(self, snapshot_id: str) -> dict[str, object]:
        return self.snapshots.requests[snapshot_id]


def record(command: CreateSnapshot | ImportZip | bytes, offset: int = 0) -> SourceRecord:
    """A command as the subscriber hands it over (keyed by its dataset)."""
    if isinstance(command, bytes):
        return SourceRecord(topics.COMMANDS, 2, offset, DATASET.encode(), command)
    value = command.model_dump_json().encode()
    return SourceRecord(topics.COMMANDS, 2, offset, command.dataset_id.encode(), value)


def build(snapshot_id: str) -> CreateSnapshot:
    return CreateSnapshot(
        snapshot_id=snapshot_id, dataset_id=DATASET, requested_at=datetime.now(UTC)
    )


def seeded(producer: Producer | None = None) -> tuple[Snapshotter, dict[str, bytes]]:
    """A snapshotter over a dataset of three images in two folders, one annotated."""
    app = Snapshotter(producer=producer or FakeProducer())
    originals = {
        "a/1.jpg": images.jpeg(64, 48),
        "a/2.png": images.png(30, 20),
        "b/3.jpg": images.jpeg(40, 30),
    }
    for path, body in originals.items():
        shapes = [CAT] if path == "a/1.jpg" else None
        app.snapshots.add_image(app.s3, BUCKET, DATASET, path, body, size=(64, 48), shapes=shapes)
    return app, originals


def archive(app: Snapshotter, version: int) -> zipfile.ZipFile:
    return zipfile.ZipFile(
        io.BytesIO(app.s3.objects[(BUCKET, snapshots.zip_key(DATASET, version))])
    )


@pytest.mark.asyncio
async def test_a_command_builds_its_snapshot_and_a_redelivered_one_does_nothing() -> None:
    app, originals = seeded()
    app.snapshots.add_request("s1", DATASET)

    assert await handle_command(record(build("s1")), app.ctx) == "ready"

    zipped = archive(app, 1)
    assert zipped.testzip() is None
    for path, body in originals.items():
        assert zipped.read(f"images/{path}") == body
    coco = json.loads(zipped.read("annotations.json"))
    assert [(a["bbox"], a["category_id"]) for a in coco["annotations"]] == [([1, 2, 10, 20], 1)]
    manifest = [json.loads(line)["path"] for line in zipped.read("manifest.jsonl").splitlines()]
    assert manifest == sorted(originals)
    doc = app.snapshot("s1")
    assert (doc[S.STATUS], doc[S.VERSION], doc[S.IMAGES_DONE], doc[S.UPLOAD_ID]) == (
        "ready",
        1,
        3,
        None,
    )
    assert doc[S.SIZE] == len(app.s3.objects[(BUCKET, snapshots.zip_key(DATASET, 1))])
    latest = json.loads(app.s3.objects[(BUCKET, snapshots.latest_key(DATASET))])
    assert latest["version"] == 1 and latest["content_id"] == doc[S.CONTENT_ID]
    assert [(e.type, e.status, e.snapshot_version) for e in app.events[-1:]] == [
        ("SnapshotCreated", "ready", 1)
    ]
    assert app.s3.uploads == {} and app.dead_letters() == []

    emitted = len(app.events)
    assert await handle_command(record(build("s1"), offset=1), app.ctx) == "ready"
    assert len(app.events) == emitted  # nothing rebuilt, nothing announced twice


@pytest.mark.asyncio
async def test_a_filtered_yolo_request_and_an_unchanged_one() -> None:
    app, _ = seeded()
    app.snapshots.add_request("s1", DATASET)
    app.snapshots.add_request("s2", DATASET)
    app.snapshots.add_request("s3", DATASET, "yolo", {"folder": "a"})

    statuses = await handle_batch(
        [record(build(s), n) for n, s in enumerate(("s1", "s2", "s3"))], app.ctx
    )

    assert statuses == ["ready", "unchanged", "ready"]
    assert app.snapshot("s2")[S.BASED_ON] == 1
    zipped = archive(app, 2)
    assert sorted(n for n in zipped.namelist() if n.startswith("images/")) == [
        "images/a/1.jpg",
        "images/a/2.png",
    ]
    cx, cy, w, h = (1 + 10 / 2) / 64, (2 + 20 / 2) / 48, 10 / 64, 20 / 48
    assert zipped.read("labels/a/1.txt").decode() == f"0 {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"


@pytest.mark.asyncio
@pytest.mark.parametrize("outage", ["originals", "storage", "database"])
async def test_an_outage_is_raised_for_redelivery_and_the_redelivered_command_builds(
    outage: str,
) -> None:
    app, originals = seeded()
    app.snapshots.add_request("s1", DATASET)
    fake: Any = {"originals": app.originals, "storage": app.s3, "database": app.snapshots}[outage]
    fake.unavailable = True
    expected = ServerSelectionTimeoutError if outage == "database" else StorageUnavailableError

    with pytest.raises(expected):
        await handle_command(record(build("s1")), app.ctx)

    assert app.snapshot("s1")[S.STATUS] in ("queued", "running")  # not failed
    assert app.dead_letters() == []
    assert [e for e in app.events if e.type == "SnapshotFailed"] == []

    fake.unavailable = False
    assert await handle_command(record(build("s1")), app.ctx) == "ready"
    assert archive(app, 1).read("images/b/3.jpg") == originals["b/3.jpg"]
    assert app.s3.uploads == {}  # the interrupted attempt's parts are gone


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("request_fields", "reason"),
    [
        (
            {"format_": "tfrecord"},
            "snapshot bad: cannot build format 'tfrecord' (one of coco, hf, voc, yolo)",
        ),
        (
            {"where": {"shelf": "top"}},
            "snapshot bad: cannot select {'shelf': 'top'}: ListingFilter.__init__() got an "
            "unexpected keyword argument 'shelf'",
        ),
    ],
)
async def test_a_build_that_fails_for_good_is_dead_lettered_and_the_next_command_is_built(
    request_fields: dict[str, object], reason: str
) -> None:
    app, _ = seeded()
    app.snapshots.add_request("bad", DATASET, **request_fields)  # type: ignore[arg-type]
    app.snapshots.add_request("good", DATASET)
    bad = record(build("bad"), offset=7)

    statuses = await handle_batch([bad, record(build("good"), offset=8)], app.ctx)

    assert statuses == [DEAD_LETTERED, "ready"]
    [(value, headers)] = app.dead_letters()
    assert value == bad.value
    assert headers[topics.DLQ_REASON_HEADER] == reason
    assert headers[topics.DLQ_SERVICE_HEADER] == "snapshotter"
    assert (headers[topics.DLQ_SOURCE_TOPIC_HEADER], headers[topics.DLQ_SOURCE_OFFSET_HEADER]) == (
        topics.COMMANDS,
        "7",
    )
    failed = app.snapshot("bad")
    assert (failed[S.STATUS], failed[S.REASON]) == ("failed", reason)
    assert [(e.snapshot_id, e.type, e.reason) for e in app.events if e.status == "failed"] == [
        ("bad", "SnapshotFailed", reason)
    ]
    assert app.snapshot("good")[S.STATUS] == "ready"


@pytest.mark.asyncio
async def test_an_unreadable_command_is_dead_lettered_and_nothing_runs() -> None:
    app, _ = seeded()
    app.snapshots.add_request("s1", DATASET)
    unknown = b'{"version": 1, "type": "DeleteDataset", "dataset_id": "cats"}'

    statuses = await handle_batch([record(b"{not json"), record(unknown, 1)], app.ctx)

    assert statuses == [DEAD_LETTERED, DEAD_LETTERED]
    reasons = [h[topics.DLQ_REASON_HEADER] for _, h in app.dead_letters()]
    assert reasons[0].startswith("invalid command: Invalid JSON")
    assert reasons[1].startswith("invalid command: Input tag 'DeleteDataset'")
    assert app.snapshot("s1")[S.STATUS] == "queued" and app.events == []


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, body in files.items():
            out.writestr(name, body)
    return buffer.getvalue()


def unpack(import_id: str) -> ImportZip:
    return ImportZip(import_id=import_id, dataset_id=DATASET, requested_at=datetime.now(UTC))


@pytest.mark.asyncio
async def test_an_import_unpacks_its_zip_and_one_whose_zip_is_gone_fails_without_blocking() -> None:
    app = Snapshotter()
    coco = {"images": [{"id": 1, "file_name": "x/1.jpg"}], "categories": [], "annotations": []}
    body = zipped(
        {"images/x/1.jpg": images.jpeg(20, 20), "annotations.json": json.dumps(coco).encode()}
    )
    app.s3.objects[(BUCKET, "cats/imports/ok.zip")] = body
    app.imports.add_request("gone", DATASET, "cats/imports/deleted.zip")
    app.imports.add_request("ok", DATASET, "cats/imports/ok.zip")

    statuses = await handle_batch([record(unpack("gone")), record(unpack("ok"), 1)], app.ctx)

    assert statuses == ["failed", "done"]
    gone = app.imports.requests["gone"]
    assert gone[I.STATUS] == "failed"
    assert gone[I.PROBLEMS][0].startswith(
        "cats/imports/deleted.zip (or an image written from it) was deleted or replaced"
    )
    done = app.imports.requests["ok"]
    assert (done[I.STATUS], done[I.IMAGES_DONE], done[I.ANNOTATED]) == ("done", 1, 1)
    assert app.s3.objects[(BUCKET, "cats/images/x/1.jpg")] == images.jpeg(20, 20)
    assert [(ds, [i.file_name for i in items]) for ds, items in app.annotated] == [
        (DATASET, ["x/1.jpg"])
    ]
    assert app.dead_letters() == []
    # Each outcome is published once it is final (for webhooks), again if redelivered.
    outcomes = [(e.import_id, e.status, e.images, e.annotated) for e in app.finished]
    assert outcomes == [("gone", "failed", 0, 0), ("ok", "done", 1, 1)]
    assert app.finished[0].problems == gone[I.PROBLEMS]
    assert await handle_command(record(unpack("ok"), 2), app.ctx) == "done"
    assert [e.import_id for e in app.finished] == ["gone", "ok", "ok"]


@pytest.mark.asyncio
async def test_an_import_outage_is_raised_for_redelivery() -> None:
    app = Snapshotter()
    app.s3.objects[(BUCKET, "cats/imports/ok.zip")] = zipped({"images/1.jpg": b"jpeg"})
    app.imports.add_request("ok", DATASET, "cats/imports/ok.zip")
    app.s3.unavailable = True

    with pytest.raises(StorageUnavailableError):
        await handle_command(record(unpack("ok")), app.ctx)

    assert app.imports.requests["ok"][I.STATUS] == "running" and app.dead_letters() == []
    assert app.finished == []  # not finished: nothing told
    app.s3.unavailable = False
    assert await handle_command(record(unpack("ok")), app.ctx) == "done"
    assert [e.status for e in app.finished] == ["done"]


@pytest.mark.asyncio
async def test_the_subscriber_dead_letters_a_poison_command_and_builds_the_next() -> None:
    """Wired as in production, on FastStream's in-memory broker."""
    server = create_app()
    broker = server.broker
    assert broker is not None
    app, originals = seeded(BrokerProducer(broker, Topics()))
    broker.context.set_global(WORK_CONTEXT, app.ctx)
    app.snapshots.add_request("bad", DATASET, "tfrecord")
    app.snapshots.add_request("good", DATASET)
    dead: list[tuple[bytes, dict[str, str]]] = []

    @broker.subscriber(topics.DLQ, decoder=raw_batch_decoder)
    async def dlq(body: bytes, msg: KafkaMessage) -> None:
        dead.append((body, dict(msg.headers)))

    bad = build("bad").model_dump_json().encode()
    async with TestKafkaBroker(broker) as test_broker:
        for body in (bad, b"{not json", build("good").model_dump_json().encode()):
            await test_broker.publish(body, topic=topics.COMMANDS, key=DATASET.encode())

    reasons = {body: headers[topics.DLQ_REASON_HEADER] for body, headers in dead}
    assert (
        reasons[bad] == "snapshot bad: cannot build format 'tfrecord' (one of coco, hf, voc, yolo)"
    )
    assert reasons[b"{not json"].startswith("invalid command:")
    assert set(reasons) == {bad, b"{not json"}
    assert app.snapshot("bad")[S.STATUS] == "failed"
    assert app.snapshot("good")[S.STATUS] == "ready"
    assert archive(app, 1).read("images/a/2.png") == originals["a/2.png"]
