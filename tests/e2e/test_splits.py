"""Splits and saved views through the whole pipeline: upload -> hashes -> split commands ->
indexer -> exact split counts, group-aware assignment, the leakage report, filters and views."""

import io
import json
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
import pyvips

from tests.support import images
from tests.support.stack import ServiceProcess, put_object, wait_for

RATIOS = {"train": 0.8, "val": 0.1, "test": 0.1}


def call(api: ServiceProcess, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{api.base_url}{path}", timeout=30, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def noise_jpeg(seed: int) -> bytes:
    """A 48x48 picture of random pixels: its pHash is as random as its bytes."""
    pixels = np.random.default_rng(seed).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    image = pyvips.Image.new_from_memory(pixels.tobytes(), 48, 48, 3, "uchar")
    return bytes(image.jpegsave_buffer(Q=85))


def upload(s3: Any, dataset_id: str, files: dict[str, bytes]) -> None:
    def put(item: tuple[str, bytes]) -> None:
        put_object(s3, f"{dataset_id}/images/{item[0]}", item[1])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, files.items()))


def wait_ready(api: ServiceProcess, dataset_id: str, n: int) -> None:
    def ready() -> bool:
        stats = call(api, "GET", f"/v1/datasets/{dataset_id}/stats")
        return bool(stats["image_count"] == n and stats.get("statuses", {}).get("ready") == n)

    wait_for(f"{n} images ready in {dataset_id}", ready, timeout=300, interval=1)


def run_command(api: ServiceProcess, dataset_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a split request and wait until the indexer has applied every message."""
    accepted = call(api, "POST", f"/v1/datasets/{dataset_id}/splits", json=body)

    def done() -> dict[str, Any] | None:
        progress = call(api, "GET", f"/v1/commands/{accepted['command_id']}")
        return progress if progress["status"] == "done" else None

    return wait_for("the split command to finish", done, timeout=120, interval=0.5)


def splits_by_path(api: ServiceProcess, dataset_id: str, **params: Any) -> dict[str, Any]:
    """Every listed image's split, by path (paging through the whole listing)."""
    out: dict[str, Any] = {}
    cursor = None
    while True:
        query = {"limit": 500, **params} | ({"cursor": cursor} if cursor else {})
        page = call(api, "GET", f"/v1/datasets/{dataset_id}/images", params=query)
        out |= {item["path"]: item["split"] for item in page["items"]}
        if (cursor := page["next_cursor"]) is None:
            return out


def assert_shares(counts: dict[str, Any], total: int) -> None:
    assert sum(counts[s] for s in RATIOS) + counts["none"] == total == counts_total(counts)
    for split, ratio in RATIOS.items():
        assert abs(counts[split] / total - ratio) <= 0.02, counts


def counts_total(counts: dict[str, Any]) -> int:
    return int(counts["train"] + counts["val"] + counts["test"] + counts["none"])


def test_a_group_aware_ratio_split_is_exact_stable_and_leak_free(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    original = images.scene_jpeg(31, 640, 480)
    near = images.scene_jpeg(32, 640, 480)
    files = {f"noise/{i:04d}.jpg": noise_jpeg(i) for i in range(995)}
    files |= {"dup/a.jpg": original, "dup/b.jpg": original, "dup/c.jpg": original}
    files |= {"near/orig.jpg": near}
    files |= {
        "near/small.jpg": bytes(
            pyvips.Image.new_from_buffer(near, "").resize(0.7).jpegsave_buffer(Q=60)
        )
    }
    upload(s3, dataset_id, files)
    wait_ready(api, dataset_id, 1000)

    request = {"mode": "ratios", "ratios": RATIOS, "seed": "e2e", "group_aware": True}
    first = run_command(api, dataset_id, request)
    assert first["matched"] == first["applied"] == 1000
    counts = call(api, "GET", f"/v1/datasets/{dataset_id}/splits")
    assert counts["none"] == 0
    assert_shares(counts, 1000)
    splits = splits_by_path(api, dataset_id)
    assert Counter(splits.values()) == {s: counts[s] for s in RATIOS}
    assert splits["dup/a.jpg"] == splits["dup/b.jpg"] == splits["dup/c.jpg"]
    assert splits["near/orig.jpg"] == splits["near/small.jpg"]
    leakage = call(api, "GET", f"/v1/datasets/{dataset_id}/splits/leakage")
    assert leakage["groups"] >= 2 and leakage["leaks"] == 0 and leakage["items"] == []

    # The same request again moves nothing.
    again = run_command(api, dataset_id, request)
    assert again["matched"] == 0
    assert splits_by_path(api, dataset_id) == splits

    # 100 new images: a re-run places them alone and the shares still hold.
    upload(s3, dataset_id, {f"more/{i:03d}.jpg": noise_jpeg(10_000 + i) for i in range(100)})
    wait_ready(api, dataset_id, 1100)
    grown = run_command(api, dataset_id, request)
    assert grown["matched"] == 100
    after = splits_by_path(api, dataset_id)
    assert {path: after[path] for path in splits} == splits
    assert_shares(call(api, "GET", f"/v1/datasets/{dataset_id}/splits"), 1100)

    # Filters by split agree with the counters.
    counts = call(api, "GET", f"/v1/datasets/{dataset_id}/splits")
    val = splits_by_path(api, dataset_id, split="val")
    assert len(val) == counts["val"] and set(val.values()) == {"val"}

    # A manual move of one copy leaks its group, and the report names it.
    a_id = _id_of(api, dataset_id, "dup/a.jpg")
    target = next(s for s in RATIOS if s != splits["dup/a.jpg"])
    run_command(api, dataset_id, {"mode": "manual", "split": target, "ids": [a_id]})
    report = call(api, "GET", f"/v1/datasets/{dataset_id}/splits/leakage")
    assert report["leaks"] == 1
    [leak] = report["items"]
    assert leak["size"] == 3 and leak["splits"] == {splits["dup/a.jpg"]: 2, target: 1}
    assert sorted(item["path"] for item in leak["items"]) == ["dup/a.jpg", "dup/b.jpg", "dup/c.jpg"]
    # ... and a group-aware re-run puts the copy back with its group.
    run_command(api, dataset_id, request)
    assert call(api, "GET", f"/v1/datasets/{dataset_id}/splits/leakage")["leaks"] == 0


def test_saved_views_filter_listings_counts_and_bulk_commands(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    files = {f"{'cats' if i % 3 else 'dogs'}/{i:02d}.jpg": noise_jpeg(500 + i) for i in range(30)}
    files["cats/copy.jpg"] = files["cats/01.jpg"]
    upload(s3, dataset_id, files)
    wait_ready(api, dataset_id, 31)
    base = f"/v1/datasets/{dataset_id}/views"
    view = call(api, "POST", base, json={"name": "dog pictures", "where": {"folder": "dogs"}})
    assert view["where"]["folder"] == "dogs" and view["count"] is None
    clash = httpx.post(f"{api.base_url}{base}", json={"name": "dog pictures"}, timeout=10)
    assert clash.status_code == 409
    assert clash.headers["content-type"].startswith("application/problem+json")
    assert call(api, "GET", f"{base}/{view['id']}")["count"] == 10
    listed = splits_by_path(api, dataset_id, view=view["id"])
    assert sorted(listed) == sorted(p for p in files if p.startswith("dogs/"))
    mixed = httpx.get(
        f"{api.base_url}/v1/datasets/{dataset_id}/images",
        params={"view": view["id"], "folder": "cats"},
        timeout=10,
    )
    assert mixed.status_code == 400

    # Duplicates-only, saved as a view and used as a bulk command's selection.
    dups = call(api, "POST", base, json={"name": "copies", "where": {"duplicates": True}})
    assert call(api, "GET", f"{base}/{dups['id']}")["count"] == 2
    run_command(api, dataset_id, {"mode": "manual", "split": "test", "where": {"view": dups["id"]}})
    assert splits_by_path(api, dataset_id, split="test") == {
        "cats/01.jpg": "test",
        "cats/copy.jpg": "test",
    }

    renamed = call(
        api, "PUT", f"{base}/{view['id']}", json={"name": "dogs", "where": {"folder": "cats"}}
    )
    assert renamed["name"] == "dogs" and renamed["where"]["folder"] == "cats"
    assert [v["name"] for v in call(api, "GET", base)["items"]] == ["copies", "dogs"]
    assert httpx.delete(f"{api.base_url}{base}/{view['id']}", timeout=10).status_code == 204
    gone = httpx.get(f"{api.base_url}{base}/{view['id']}", timeout=10)
    assert gone.status_code == 404


def test_near_duplicate_clusters_group_reencodings_and_not_distinct_pictures(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    original = images.scene_jpeg(41, 1000, 750)
    decoded = pyvips.Image.new_from_buffer(original, "")
    files = {
        "original.jpg": original,
        "copy-1.jpg": original,
        "copy-2.jpg": original,
        "resized.jpg": bytes(decoded.resize(0.7).jpegsave_buffer(Q=90)),
        "q60.jpg": bytes(decoded.jpegsave_buffer(Q=60)),
        "cropped.jpg": bytes(decoded.crop(10, 8, 980, 734).jpegsave_buffer(Q=90)),
        **{f"distinct-{i:02d}.jpg": noise_jpeg(900 + i) for i in range(20)},
    }
    upload(s3, dataset_id, files)
    wait_ready(api, dataset_id, 26)
    body = call(api, "GET", f"/v1/datasets/{dataset_id}/near-duplicates")
    assert body["k"] == 6 and body["clusters"] == 1
    [cluster] = body["items"]
    paths = {item["path"] for item in cluster["items"]}
    assert {"original.jpg", "copy-1.jpg", "copy-2.jpg", "resized.jpg", "q60.jpg"} <= paths
    assert not any(path.startswith("distinct-") for path in paths)
    assert cluster["size"] == len(paths) == body["images"]
    groups = call(api, "GET", f"/v1/datasets/{dataset_id}/duplicates")["items"]
    assert [(g["count"], len(g["items"])) for g in groups] == [(3, 3)]
    dups = splits_by_path(api, dataset_id, duplicates="true")
    assert sorted(dups) == ["copy-1.jpg", "copy-2.jpg", "original.jpg"]


def _id_of(api: ServiceProcess, dataset_id: str, path: str) -> str:
    folder, _, _ = path.rpartition("/")
    page = call(api, "GET", f"/v1/datasets/{dataset_id}/images", params={"folder": folder})
    return str(next(item["id"] for item in page["items"] if item["path"] == path))


def test_snapshots_by_folder_split_lay_yolo_and_coco_out_per_split(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    layout = {"train": 6, "val": 2, "test": 2, "misc": 1}
    files = {
        f"{folder}/{i}.jpg": noise_jpeg(700 + 10 * n + i)
        for n, (folder, count) in enumerate(layout.items())
        for i in range(count)
    }
    upload(s3, dataset_id, files)
    wait_ready(api, dataset_id, 11)
    folders = {"mode": "folders", "folders": {"train": "train", "val": "val", "test": "test"}}
    assert run_command(api, dataset_id, folders)["matched"] == 10
    assert call(api, "GET", f"/v1/datasets/{dataset_id}/splits") == {
        "dataset_id": dataset_id,
        "train": 6,
        "val": 2,
        "test": 2,
        "none": 1,
    }

    yolo = _snapshot(api, dataset_id, "yolo")
    names = set(yolo.namelist())
    for path in files:
        folder = path.split("/")[0]
        group = folder if folder != "misc" else "unassigned"
        assert f"images/{group}/{path}" in names, path
    data = yolo.read("data.yaml").decode()
    assert "train: images/train\nval: images/val\ntest: images/test\n" in data

    coco = _snapshot(api, dataset_id, "coco")
    per_split = {
        name: json.loads(coco.read(name))
        for name in coco.namelist()
        if name.startswith("annotations/instances_")
    }
    assert {name: len(doc["images"]) for name, doc in per_split.items()} == {
        "annotations/instances_train.json": 6,
        "annotations/instances_val.json": 2,
        "annotations/instances_test.json": 2,
        "annotations/instances_unassigned.json": 1,
    }
    val_files = {
        image["file_name"] for image in per_split["annotations/instances_val.json"]["images"]
    }
    assert val_files == {"val/0.jpg", "val/1.jpg"}

    # Moving one image to another split is a new version, and the diff names the move.
    first = _latest_version(api, dataset_id, "yolo")
    moved = _id_of(api, dataset_id, "val/0.jpg")
    run_command(api, dataset_id, {"mode": "manual", "split": "test", "ids": [moved]})
    again = _snapshot(api, dataset_id, "yolo")
    assert "images/test/val/0.jpg" in again.namelist()
    latest = _latest_version(api, dataset_id, "yolo")
    diff = call(api, "GET", f"/v1/datasets/{dataset_id}/snapshots/{first}/diff/{latest}")
    assert [(d["path"], d["split"], d["bytes"]) for d in diff] == [("val/0.jpg", True, False)]


def _latest_version(api: ServiceProcess, dataset_id: str, fmt: str) -> int:
    versions = call(api, "GET", f"/v1/datasets/{dataset_id}/snapshots")["items"]
    return int(next(v["version"] for v in versions if v["format"] == fmt))


def _snapshot(api: ServiceProcess, dataset_id: str, fmt: str) -> zipfile.ZipFile:
    """Request a snapshot in ``fmt``, wait for it, and open the zip."""
    accepted = call(api, "POST", f"/v1/datasets/{dataset_id}/snapshots", json={"format": fmt})

    def built() -> dict[str, Any] | None:
        body = call(api, "GET", f"/v1/snapshots/{accepted['snapshot_id']}")
        return body if body["status"] in ("ready", "unchanged", "failed") else None

    done = wait_for(f"the {fmt} snapshot", built, timeout=120, interval=0.5)
    assert done["status"] == "ready", done
    meta = call(api, "GET", f"/v1/datasets/{dataset_id}/snapshots/{done['version']}")
    return zipfile.ZipFile(io.BytesIO(httpx.get(meta["url"], timeout=60).content))
