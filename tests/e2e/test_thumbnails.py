"""Upload images -> thumbnailer -> indexer -> API: renditions, statuses, overwrite, delete."""

from typing import Any

import httpx
import pyvips

from tests.support import images, raw
from tests.support.raw_samples import sample_path
from tests.support.stack import BUCKET, THUMBNAILS_BUCKET, ServiceProcess, put_object, wait_for

THUMBS = THUMBNAILS_BUCKET
CAMERA_EXIF = {
    "exif-ifd0-Make": "Canon",
    "exif-ifd0-Model": "Canon EOS R5",
    "exif-ifd2-DateTimeOriginal": "2024:05:01 12:30:45",
}


def listing(api: ServiceProcess, dataset_id: str, **params: Any) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{api.base_url}/v1/datasets/{dataset_id}/images",
        params={"limit": 100, **params},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def settled(api: ServiceProcess, dataset_id: str, n: int) -> dict[str, dict[str, Any]] | None:
    """The listing by path once it has ``n`` items and none is pending."""
    items = listing(api, dataset_id)
    if len(items) != n or any(item["status"] == "pending" for item in items):
        return None
    return {item["path"]: item for item in items}


def fetch_image(url: str) -> tuple[pyvips.Image, httpx.Response]:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return pyvips.Image.new_from_buffer(response.content, ""), response


def thumbnail_keys(s3: Any, dataset_id: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=THUMBS, Prefix=f"{dataset_id}/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_images_get_renditions_and_bad_files_get_reasons(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    uploads = {
        "rotated.jpg": images.jpeg(1200, 800, orientation=6, exif=CAMERA_EXIF),
        "alpha.png": images.png(640, 480, alpha=True),
        "wide.webp": images.webp(2000, 500),
        "notes.jpg": b"this is a text file with an image name\n" * 10,
        "broken.png": images.png(300, 300)[:40] + bytes(500),
    }
    for name, body in uploads.items():
        put_object(s3, f"{dataset_id}/images/{name}", body)

    items = wait_for(
        "every upload to leave 'pending'", lambda: settled(api, dataset_id, 5), timeout=30
    )

    expected = {"rotated.jpg": (800, 1200), "alpha.png": (640, 480), "wide.webp": (2000, 500)}
    for path, (width, height) in expected.items():
        item = items[path]
        assert item["status"] == "ready", item
        assert item["status_reason"] is None
        assert (item["width"], item["height"]) == (width, height)
        assert item["thumbhash"]
        thumb, response = fetch_image(item["thumb_url"])
        assert thumb.get("vips-loader") == "webpload_buffer"
        assert max(thumb.width, thumb.height) == min(256, max(width, height))
        assert abs(thumb.width / thumb.height - width / height) < 0.02
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        preview, _ = fetch_image(item["preview_url"])
        assert preview.get("vips-loader") == "jpegload_buffer"
        assert max(preview.width, preview.height) == min(1280, max(width, height))

    rotated = items["rotated.jpg"]
    assert (rotated["camera"], rotated["captured_at"]) == ("Canon EOS R5", "2024-05-01T12:30:45")
    assert items["alpha.png"]["camera"] is None

    notes, broken = items["notes.jpg"], items["broken.png"]
    assert (notes["status"], notes["status_reason"]) == (
        "rejected",
        "not an image: it looks like text",
    )
    assert broken["status"] == "failed"
    assert broken["status_reason"].startswith("cannot ")
    for item in (notes, broken):
        assert item["thumb_url"] is None and item["preview_url"] is None
        assert item["width"] is None

    by_status = {
        status: sorted(i["path"] for i in listing(api, dataset_id, status=status))
        for status in ("ready", "rejected", "failed", "pending")
    }
    assert by_status == {
        "ready": ["alpha.png", "rotated.jpg", "wide.webp"],
        "rejected": ["notes.jpg"],
        "failed": ["broken.png"],
        "pending": [],
    }
    one = httpx.get(f"{api.base_url}/v1/images/{rotated['id']}", timeout=10).json()
    assert {k: one[k] for k in ("status", "width", "height", "camera")} == {
        "status": "ready",
        "width": 800,
        "height": 1200,
        "camera": "Canon EOS R5",
    }

    # Bad files did not block anything: a later upload still flows.
    put_object(s3, f"{dataset_id}/images/later.jpg", images.jpeg(300, 200))
    later = wait_for(
        "the later upload to be ready",
        lambda: (settled(api, dataset_id, 6) or {}).get("later.jpg"),
        timeout=30,
    )
    assert (later["status"], later["width"], later["height"]) == ("ready", 300, 200)


def test_overwrite_replaces_the_thumbnail_and_delete_removes_it(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    key = f"{dataset_id}/images/cat.jpg"
    put_object(s3, key, images.jpeg(800, 600))
    first = wait_for(
        "the first version to be ready",
        lambda: (settled(api, dataset_id, 1) or {}).get("cat.jpg"),
        timeout=30,
    )
    assert (first["width"], first["height"]) == (800, 600)
    first_keys = thumbnail_keys(s3, dataset_id)
    assert len(first_keys) == 2 and all(first["etag"] in k for k in first_keys)

    put_object(s3, key, images.jpeg(500, 1000))

    def second_version() -> dict[str, Any] | None:
        item = (settled(api, dataset_id, 1) or {}).get("cat.jpg")
        return item if item and item["etag"] != first["etag"] else None

    second = wait_for("the overwrite to be ready", second_version, timeout=30)
    assert (second["status"], second["width"], second["height"]) == ("ready", 500, 1000)
    thumb, _ = fetch_image(second["thumb_url"])
    assert (thumb.width, thumb.height) == (128, 256)
    keys = wait_for(
        "the old version's renditions to be deleted",
        lambda: (k := thumbnail_keys(s3, dataset_id)) and not set(k) & set(first_keys) and k,
        timeout=30,
    )
    assert len(keys) == 2 and all(second["etag"] in k for k in keys)

    s3.delete_object(Bucket=BUCKET, Key=key)
    wait_for("the deleted image to leave the listing", lambda: listing(api, dataset_id) == [])
    wait_for("its renditions to be deleted", lambda: thumbnail_keys(s3, dataset_id) == [])
    assert httpx.get(second["thumb_url"], timeout=10).status_code == 404


def test_raw_camera_files_get_previews_from_the_embedded_jpeg_or_a_demosaic(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    uploads = {
        "with-preview.dng": raw.dng(1200, 800, preview="jpeg", orientation=6),
        "sensor-only.dng": raw.dng(1200, 800, preview=None, make="Nikon", model="Z 9"),
        "damaged.raf": b"FUJIFILMCCD-RAW 0201FF383501" + bytes(4_000),
        "sony.arw": sample_path("sony.arw").read_bytes(),  # a real camera file
    }
    for name, body in uploads.items():
        put_object(s3, f"{dataset_id}/images/raw/{name}", body)

    items = wait_for(
        "every RAW upload to leave 'pending'", lambda: settled(api, dataset_id, 4), timeout=60
    )

    sony = items["raw/sony.arw"]
    assert (sony["status"], sony["width"], sony["height"]) == ("ready", 5184, 3464)
    assert (sony["camera"], sony["captured_at"]) == ("Sony ILCE-7RM3", "2018-07-11T01:18:47")
    embedded, demosaiced = items["raw/with-preview.dng"], items["raw/sensor-only.dng"]
    assert (embedded["status"], embedded["width"], embedded["height"]) == ("ready", 800, 1200)
    assert (embedded["camera"], embedded["captured_at"]) == (
        "Assetflow Test Camera",
        "2024-05-06T07:08:09",
    )
    assert (demosaiced["status"], demosaiced["width"], demosaiced["height"]) == (
        "ready",
        1200,
        800,
    )
    assert demosaiced["camera"] == "Nikon Z 9"
    for item in (embedded, demosaiced, sony):
        preview, _ = fetch_image(item["preview_url"])
        assert preview.get("vips-loader") == "jpegload_buffer"
        assert (preview.width > preview.height) == (item["width"] > item["height"])
        thumb, _ = fetch_image(item["thumb_url"])
        assert max(thumb.width, thumb.height) == 256
    damaged = items["raw/damaged.raf"]
    assert damaged["status"] == "failed"
    assert damaged["status_reason"].startswith("cannot decode the raf file: ")
