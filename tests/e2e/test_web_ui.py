"""The web UI in a real Chromium, through the gateway, against the whole running pipeline."""

import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips
from playwright.sync_api import Page, expect

from tests.support import auth, images
from tests.support.stack import BUCKET, GatewayProcess, ServiceProcess, running, wait_for

SECURED_GATEWAY_PORT = 18082
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def seed(s3: Any, dataset_id: str, files: dict[str, tuple[bytes, list[str]]]) -> None:
    """Put ``path -> (body, upload-time tags)`` under the dataset's images/, concurrently."""

    def put(item: tuple[str, tuple[bytes, list[str]]]) -> None:
        path, (body, tags) = item
        metadata = {"tags": ",".join(tags)} if tags else {}
        key = f"{dataset_id}/images/{path}"
        s3.put_object(
            Bucket=BUCKET, Key=key, Body=body, ContentType="image/jpeg", Metadata=metadata
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, files.items()))


def wait_ready(api: ServiceProcess, dataset_id: str, n: int) -> None:
    """Until the dataset's ``n`` images are indexed and thumbnailed."""

    def ready() -> bool:
        stats = httpx.get(f"{api.base_url}/v1/datasets/{dataset_id}/stats", timeout=10).json()
        return bool(stats.get("statuses", {}).get("ready") == n)

    wait_for(f"{n} images ready in {dataset_id}", ready, timeout=90)


def listing(api: ServiceProcess, dataset_id: str, **params: Any) -> list[dict[str, Any]]:
    """The first page of the dataset's listing (up to 500)."""
    url = f"{api.base_url}/v1/datasets/{dataset_id}/images"
    body = httpx.get(url, params={"limit": 500, **params}, timeout=10).json()
    return list(body["items"])


def tiles(page: Page) -> Any:
    return page.get_by_role("gridcell")


def painted_thumbs(page: Page) -> int:
    """Tiles in the DOM whose WebP thumb has loaded and decoded."""
    return int(
        page.evaluate(
            "() => [...document.querySelectorAll('[role=gridcell] img.thumb')]"
            ".filter(img => img.complete && img.naturalWidth > 0).length"
        )
    )


def tag_box(page: Page, tag: str) -> Any:
    """The tag's checkbox in the filters (by name and count: "cat" is in "duplicates only")."""
    return page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(tag)}\s*\d"))


def shown(page: Page) -> Callable[[], str]:
    return lambda: page.locator(".toolbar [aria-live]").inner_text()


def small_jpegs(n: int, tags: Callable[[int], list[str]] = lambda i: []) -> dict[str, Any]:
    body = images.jpeg(96, 72, quality=60)
    return {f"img{i:04d}.jpg": (body, tags(i)) for i in range(n)}


@dataclass
class Browsing:
    """One browser test's world: the pipeline, the gateway serving the UI, a fresh dataset."""

    api: ServiceProcess
    gateway: GatewayProcess
    s3: Any
    page: Page
    dataset_id: str

    def seed(self, files: dict[str, tuple[bytes, list[str]]]) -> None:
        """Upload ``files`` into the dataset and wait until all are thumbnailed."""
        seed(self.s3, self.dataset_id, files)
        wait_ready(self.api, self.dataset_id, len(files))

    def open(self, path: str = "") -> None:
        """Navigate to the dataset's page (or a page under it: ``/snapshots?tags=x``)."""
        self.page.goto(f"{self.gateway.base_url}/datasets/{self.dataset_id}{path}")

    def listing(self, **params: Any) -> list[dict[str, Any]]:
        """The dataset's first page, from the API."""
        return listing(self.api, self.dataset_id, **params)


@pytest.fixture
def ui(
    services: dict[str, ServiceProcess],
    gateway: GatewayProcess,
    s3: Any,
    page: Page,
    dataset_id: str,
) -> Browsing:
    """The pipeline and the UI behind the gateway, a page, and a dataset of its own."""
    return Browsing(services["api"], gateway, s3, page, dataset_id)


@pytest.mark.e2e
def test_grid_paints_thumbs_and_loads_the_next_page_on_scroll(
    ui: Browsing,
) -> None:
    page = ui.page
    ui.seed(small_jpegs(130))

    ui.open()
    expect(page.locator(".toolbar [aria-live]")).to_contain_text("100+ shown")
    wait_for("thumbs painted", lambda: painted_thumbs(page) >= 20, timeout=20)
    in_dom = tiles(page).count()
    # Virtualized: only the rows in view (plus overscan) are in the DOM, and every one of
    # them shows its thumb.
    assert 20 <= in_dom < 100, in_dom
    wait_for("every tile in the DOM painted", lambda: painted_thumbs(page) == tiles(page).count())

    grid = page.get_by_role("grid")
    for _ in range(10):  # scroll to the end until the second page has come
        grid.evaluate("element => element.scrollTo(0, element.scrollHeight)")
        page.wait_for_timeout(200)
        if "130 shown" in shown(page)():
            break
    expect(page.locator(".toolbar [aria-live]")).to_contain_text("130 shown")
    grid.evaluate("element => element.scrollTo(0, element.scrollHeight)")  # the new rows' end
    oldest = ui.listing()[-1]
    expect(page.locator(f'[data-image="{oldest["id"]}"]')).to_be_visible()


@pytest.mark.e2e
def test_tag_filter_shows_exactly_the_matching_images_and_the_url_follows(
    ui: Browsing,
) -> None:
    page = ui.page

    def tags(i: int) -> list[str]:
        return ["cat"] if i < 5 else ["dog"] if i < 8 else []

    ui.seed(small_jpegs(12, tags))
    cats = {item["id"] for item in ui.listing(tags="cat")}
    assert len(cats) == 5

    ui.open()
    expect(tiles(page)).to_have_count(12)
    expect(page.locator('[data-tag-count="cat"]')).to_have_text("5")
    # Click, then wait: the box is bound to the URL, so its state follows the navigation.
    tag_box(page, "cat").click()
    expect(tag_box(page, "cat")).to_be_checked()
    expect(page).to_have_url(re.compile(r"[?&]tags=cat(&|$)"))
    expect(tiles(page)).to_have_count(5)
    assert {tiles(page).nth(i).get_attribute("data-image") for i in range(5)} == cats

    tag_box(page, "dog").click()  # cat AND dog: none
    expect(tag_box(page, "dog")).to_be_checked()
    expect(page.get_by_text("No images match.")).to_be_visible()
    page.get_by_role("button", name="any of").click()  # cat OR dog
    expect(tiles(page)).to_have_count(8)
    expect(page).to_have_url(re.compile(r"match=any"))

    page.go_back()  # all of cat, dog
    expect(page.get_by_text("No images match.")).to_be_visible()
    page.go_back()
    page.go_back()
    expect(tiles(page)).to_have_count(12)
    # A shared link opens the same filter.
    ui.open("?untagged=true")
    expect(tiles(page)).to_have_count(4)
    expect(page.get_by_role("checkbox", name="untagged")).to_be_checked()


@pytest.mark.e2e
def test_an_upload_through_the_file_input_appears_in_the_grid_without_reload(
    ui: Browsing,
    tmp_path: Path,
) -> None:
    page = ui.page
    ui.seed(small_jpegs(2))
    ui.open()
    expect(tiles(page)).to_have_count(2)
    expect(page.locator(".live")).to_have_text("● live")

    photo = tmp_path / "fresh-upload.jpg"
    photo.write_bytes(images.jpeg(320, 240))
    page.get_by_role("button", name="Upload", exact=True).click()
    page.get_by_label("Upload files").set_input_files(str(photo))
    expect(page.get_by_role("status").filter(has_text="uploaded")).to_contain_text(
        "1 of 1 uploaded"
    )
    expect(tiles(page)).to_have_count(3)  # indexed: in the grid, live
    fresh = page.locator('[role=gridcell]:has(img[alt="fresh-upload.jpg"])')
    expect(fresh).to_have_attribute("data-status", "ready", timeout=30_000)  # then thumbnailed
    wait_for(
        "the new thumb painted",
        lambda: fresh.locator("img").evaluate("img => img.complete && img.naturalWidth > 0"),
    )
    stored = ui.s3.head_object(Bucket=BUCKET, Key=f"{ui.dataset_id}/images/fresh-upload.jpg")
    assert stored["ContentLength"] == photo.stat().st_size


@pytest.mark.e2e
def test_uploads_go_into_the_folder_the_grid_shows(ui: Browsing, tmp_path: Path) -> None:
    page = ui.page
    ui.seed(small_jpegs(1))
    ui.open("?folder=inbox/new")  # no image there yet
    expect(page.get_by_text("No images match.")).to_be_visible()
    expect(page.locator(".live")).to_have_text("● live")
    photo = tmp_path / "filed.jpg"
    photo.write_bytes(images.jpeg(160, 120))
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("region", name="uploads")).to_contain_text("Upload to inbox/new/")
    page.get_by_label("Upload files").set_input_files(str(photo))
    expect(tiles(page)).to_have_count(1)  # the folder's stream shows it
    ui.s3.head_object(Bucket=BUCKET, Key=f"{ui.dataset_id}/images/inbox/new/filed.jpg")
    expect(page.get_by_role("tree", name="folders")).to_contain_text("inbox")


@pytest.mark.e2e
def test_files_dropped_on_the_page_are_uploaded(ui: Browsing) -> None:
    page = ui.page
    ui.seed(small_jpegs(1))
    ui.open()
    expect(tiles(page)).to_have_count(1)
    expect(page.locator(".live")).to_have_text("● live")
    body = list(images.jpeg(120, 90))
    # A drop as the browser delivers one: dragover (the drop zone shows), then drop.
    page.evaluate(
        """bytes => {
          const transfer = new DataTransfer();
          const file = new File([new Uint8Array(bytes)], "dropped.jpg", {type: "image/jpeg"});
          transfer.items.add(file);
          const init = {dataTransfer: transfer, cancelable: true};
          window.dispatchEvent(new DragEvent("dragover", init));
          window.__transfer = transfer;
        }""",
        body,
    )
    expect(page.get_by_text(f"Drop files or folders to upload to {ui.dataset_id}")).to_be_visible()
    page.evaluate(
        """() => window.dispatchEvent(
          new DragEvent("drop", {dataTransfer: window.__transfer, cancelable: true}))"""
    )
    expect(page.get_by_role("status").filter(has_text="uploaded")).to_contain_text("1 of 1")
    expect(tiles(page)).to_have_count(2)
    stored = ui.s3.head_object(Bucket=BUCKET, Key=f"{ui.dataset_id}/images/dropped.jpg")
    assert stored["ContentLength"] == len(body)


@pytest.mark.e2e
def test_bulk_tagging_the_selection_updates_the_counts(
    ui: Browsing,
) -> None:
    page = ui.page
    ui.seed(small_jpegs(6))
    ui.open()
    expect(tiles(page)).to_have_count(6)

    # Click one, shift-click another: the range between them is selected.
    tiles(page).nth(0).get_by_role("checkbox").check()
    tiles(page).nth(2).click(modifiers=["Shift"])
    expect(page.get_by_label("selection")).to_contain_text("3 selected")
    picked = {tiles(page).nth(i).get_attribute("data-image") for i in range(3)}

    page.get_by_role("grid").press("t")
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Add tags").fill("reviewed")
    dialog.get_by_role("button", name="Apply").click()
    expect(dialog.get_by_role("status")).to_contain_text("Done: 3 changed of 3 matched")
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator('[data-tag-count="reviewed"]')).to_have_text("3")
    tagged = {item["id"] for item in ui.listing(tags="reviewed")}
    assert tagged == picked

    page.get_by_role("button", name="Select all matching").click()
    page.get_by_role("button", name="Tag…").click()
    page.get_by_role("dialog").get_by_label("Add tags").fill("batch-2")
    page.get_by_role("dialog").get_by_role("button", name="Apply").click()
    expect(page.get_by_role("dialog").get_by_role("status")).to_contain_text("6 changed of 6")
    page.get_by_role("dialog").get_by_role("button", name="Close").click()
    expect(page.locator('[data-tag-count="batch-2"]')).to_have_text("6")


GREY = 128
WIDTH, HEIGHT = 400, 300
BOX = [100.0, 75.0, 200.0, 150.0]


def grey_jpeg() -> bytes:
    flat = (pyvips.Image.black(WIDTH, HEIGHT, bands=3) + GREY).cast("uchar")
    return bytes(flat.copy(interpretation="srgb").jpegsave_buffer(Q=95))


def annotated_image(api: ServiceProcess, s3: Any, dataset_id: str) -> str:
    """A flat grey image with one box on it; returns its id."""
    seed(s3, dataset_id, {"street/grey.jpg": (grey_jpeg(), [])})
    wait_ready(api, dataset_id, 1)
    (image,) = listing(api, dataset_id)
    shape = {"id": "b1", "type": "bbox", "label": "car", "bbox": BOX}
    response = httpx.put(
        f"{api.base_url}/v1/images/{image['id']}/annotations",
        json={"annotations": [shape]},
        headers={"If-Match": '"0"'},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(image["id"])


def coloured(pixel: tuple[float, ...]) -> bool:
    """Far from the flat grey: a drawn stroke."""
    return max(pixel[:3]) - min(pixel[:3]) > 80


def open_viewer(page: Page, gateway: GatewayProcess, dataset_id: str, image_id: str) -> Any:
    page.goto(f"{gateway.base_url}/datasets/{dataset_id}/images/{image_id}")
    frame = page.locator(".frame img")
    wait_for("the preview loaded", lambda: frame.evaluate("i => i.complete && i.naturalWidth > 0"))
    return frame


@pytest.mark.e2e
def test_the_viewer_draws_the_box_where_the_annotation_puts_it(
    ui: Browsing,
) -> None:
    page = ui.page
    image_id = annotated_image(ui.api, ui.s3, ui.dataset_id)
    frame = open_viewer(page, ui.gateway, ui.dataset_id, image_id)
    expect(page.get_by_role("dialog")).to_contain_text("400 \u00d7 300")
    box = frame.bounding_box()
    assert box is not None
    shot = pyvips.Image.new_from_buffer(page.screenshot(), "")
    scale = box["width"] / WIDTH
    assert abs(box["height"] / HEIGHT - scale) < 0.01  # aspect kept

    def at(x: float, y: float) -> tuple[float, ...]:
        return tuple(shot.getpoint(round(box["x"] + x * scale), round(box["y"] + y * scale)))

    def stroke_near(x: float, y: float) -> bool:
        """A coloured pixel within 3 screen pixels of image point (x, y)."""
        px, py = round(box["x"] + x * scale), round(box["y"] + y * scale)
        return any(
            coloured(tuple(shot.getpoint(px + dx, py + dy)))
            for dx in range(-3, 4)
            for dy in range(-3, 4)
        )

    x, y, w, h = BOX
    # On each edge of the box, a stroke; inside and outside it, the grey image.
    assert stroke_near(x, y + h / 2) and stroke_near(x + w, y + h / 2)
    assert stroke_near(x + w / 2, y + h) and stroke_near(x + w / 2, y)
    for point in ((x + w / 2, y + h / 2), (x - 40, y + h / 2), (x + w + 40, y + h / 2)):
        assert not coloured(at(*point)), point
    assert not stroke_near(x + 30, y + h / 2)


@pytest.mark.e2e
def test_editing_saves_with_if_match_and_a_conflict_says_so(
    ui: Browsing,
) -> None:
    page = ui.page
    api = ui.api
    image_id = annotated_image(api, ui.s3, ui.dataset_id)
    frame = open_viewer(page, ui.gateway, ui.dataset_id, image_id)
    box = frame.bounding_box()
    assert box is not None
    scale = box["width"] / WIDTH

    # Drag the box 50 image pixels right and save: revision 2, moved.
    rect = page.locator('rect[data-shape="b1"]')
    start = (box["x"] + 150 * scale, box["y"] + 150 * scale)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 25 * scale, start[1], steps=4)
    page.mouse.move(start[0] + 50 * scale, start[1], steps=4)
    page.mouse.up()
    expect(rect).to_have_attribute("x", re.compile(r"^1(49|50|51)(\.\d)?$"))
    page.get_by_role("button", name="Save annotations").click()
    expect(page.get_by_role("dialog")).to_contain_text("rev 2")
    url = f"{api.base_url}/v1/images/{image_id}/annotations"
    stored = httpx.get(url, timeout=10).json()
    assert stored["revision"] == 2 and abs(stored["annotations"][0]["bbox"][0] - 150) <= 1

    # Someone else writes revision 3; the page still edits revision 2.
    changed = httpx.put(
        url,
        json={"annotations": [{"id": "b9", "type": "bbox", "label": "bus", "bbox": [1, 1, 9, 9]}]},
        headers={"If-Match": '"2"'},
        timeout=10,
    )
    assert changed.status_code == 200
    rect.click()  # select the box, then the Delete key removes it
    page.keyboard.press("Delete")
    expect(rect).to_have_count(0)
    page.get_by_role("button", name="Save annotations").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Someone else changed these annotations")
    expect(alert).to_contain_text("revision 3")
    assert httpx.get(url, timeout=10).json()["annotations"][0]["label"] == "bus"  # not lost
    alert.get_by_role("button", name="Load their version").click()
    expect(page.locator('rect[data-label="bus"]')).to_have_count(1)


@pytest.mark.e2e
def test_screenshots_of_the_main_pages(
    services: dict[str, ServiceProcess], gateway: GatewayProcess, s3: Any, page: Page
) -> None:
    """docs/screenshots/*.png, made here so they show the UI as it is."""
    dataset_id = "street-scenes"
    folders = ["", "day", "day/rain", "night"]
    tag_sets = [["car"], ["car", "person"], ["bus"], []]
    files = {
        f"{folders[i % 4]}/{i:03d}.jpg".lstrip("/"): (
            images.jpeg(160 + (i % 3) * 40, 120, quality=70),
            tag_sets[i % 4],
        )
        for i in range(40)
    }
    seed(s3, dataset_id, files)
    wait_ready(services["api"], dataset_id, 40)
    image_id = annotated_image(services["api"], s3, f"{dataset_id}-annotated")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{gateway.base_url}/")
    expect(page.get_by_role("link", name=dataset_id, exact=True)).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "datasets.png")

    page.goto(f"{gateway.base_url}/datasets/{dataset_id}?tags=car")
    expect(tiles(page)).to_have_count(20)
    wait_for("thumbs painted", lambda: painted_thumbs(page) == 20)
    page.screenshot(path=SCREENSHOTS / "dataset.png")

    open_viewer(page, gateway, f"{dataset_id}-annotated", image_id)
    page.locator('rect[data-shape="b1"]').click()
    page.screenshot(path=SCREENSHOTS / "viewer.png")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{gateway.base_url}/datasets/{dataset_id}")
    wait_for("thumbs painted", lambda: painted_thumbs(page) >= 4)
    page.screenshot(path=SCREENSHOTS / "phone.png")
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


@pytest.mark.e2e
def test_keyboard_moves_opens_and_closes(
    ui: Browsing,
) -> None:
    page = ui.page
    ui.seed(small_jpegs(8))
    order = [item["id"] for item in ui.listing()]
    ui.open()
    expect(tiles(page)).to_have_count(8)
    grid = page.get_by_role("grid")
    grid.focus()
    grid.press("ArrowRight")
    grid.press("ArrowRight")
    grid.press("ArrowLeft")
    grid.press("Enter")
    expect(page).to_have_url(re.compile(f"/datasets/{ui.dataset_id}/images/{order[1]}$"))
    viewer = page.get_by_role("dialog")
    expect(viewer).to_be_visible()
    viewer.press("ArrowRight")  # the next image in the listing
    expect(page).to_have_url(re.compile(f"/datasets/{ui.dataset_id}/images/{order[2]}$"))
    viewer.press("Escape")
    expect(viewer).to_have_count(0)
    expect(page).to_have_url(re.compile(f"/datasets/{ui.dataset_id}$"))
    grid.press(" ")  # Space selects the focused tile
    expect(page.get_by_label("selection")).to_contain_text("1 selected")
    grid.press("Escape")
    expect(page.get_by_label("selection")).not_to_contain_text("selected")


@pytest.mark.e2e
def test_snapshots_are_created_followed_downloaded_and_compared(
    ui: Browsing,
) -> None:
    page = ui.page
    ui.seed(small_jpegs(4, lambda i: ["keep"] if i < 3 else []))
    ui.open("/snapshots")
    page.get_by_role("button", name="Create snapshot").click()
    first = page.locator('tr[data-status="ready"]')
    expect(first).to_have_count(1, timeout=60_000)
    expect(first).to_contain_text("v1")
    with page.expect_download() as started:  # presigned: straight from storage
        first.get_by_role("button", name="coco.zip").click()
    archive = Path(started.value.path())
    assert archive.read_bytes()[:2] == b"PK"

    # A second version of only the tagged images, from the dataset page's filter.
    ui.open("/snapshots?tags=keep")
    expect(page.get_by_text("of the images matching tags=keep")).to_be_visible()
    page.get_by_role("button", name="Create snapshot").click()
    expect(page.locator('tr[data-status="ready"]')).to_have_count(2, timeout=60_000)
    page.get_by_role("checkbox", name="Compare version 1").check()
    page.get_by_role("checkbox", name="Compare version 2").check()
    diff = page.get_by_role("region", name="snapshot diff")
    expect(diff).to_contain_text("v1 → v2")
    expect(diff.locator("li")).to_have_count(1)
    expect(diff).to_contain_text("removed")


@pytest.mark.e2e
def test_with_tokens_required_the_ui_asks_for_one_and_uploads_big_files_in_parts(
    services: dict[str, ServiceProcess],
    secured_api: ServiceProcess,
    web_root: Path,
    s3: Any,
    page: Page,
    dataset_id: str,
    tmp_path: Path,
) -> None:
    seed(s3, dataset_id, small_jpegs(1))
    wait_ready(services["api"], dataset_id, 1)
    token = auth.bearer(f"datasets:{dataset_id}:write")["Authorization"].removeprefix("Bearer ")
    with running(
        GatewayProcess(
            "secured", SECURED_GATEWAY_PORT, web_root=web_root, api_port=secured_api.port
        )
    ) as gateway:
        page.goto(f"{gateway.base_url}/")
        dialog = page.get_by_role("dialog", name="Sign in with a token")
        expect(dialog).to_contain_text("requires a token")
        dialog.get_by_label("Bearer token").fill("not-a-token")
        dialog.get_by_role("button", name="Use token").click()
        expect(dialog).to_contain_text("The token was refused")
        dialog.get_by_label("Bearer token").fill(token)
        dialog.get_by_role("button", name="Use token").click()
        expect(page.get_by_role("link", name=dataset_id, exact=True)).to_be_visible()
        page.get_by_role("link", name=dataset_id, exact=True).click()
        expect(tiles(page)).to_have_count(1)
        expect(page.locator(".live")).to_have_text("● live")  # the event stream sent the token

        big = tmp_path / "big.jpg"  # 11 MiB: three parts of 5, 5 and 1 MiB
        big.write_bytes(os.urandom(11 * 1024 * 1024))
        page.get_by_role("button", name="Upload", exact=True).click()
        page.get_by_label("Upload files").set_input_files(str(big))
        uploads = page.get_by_role("status").filter(has_text="uploaded")
        expect(uploads).to_contain_text("1 of 1 uploaded", timeout=60_000)
        expect(tiles(page)).to_have_count(2)
        stored = s3.head_object(Bucket=BUCKET, Key=f"{dataset_id}/images/big.jpg")
        assert stored["ContentLength"] == big.stat().st_size
        assert stored["ETag"].strip('"').endswith("-3")  # completed from three parts


def painted(locator: Any) -> int:
    """Images under ``locator`` that have loaded and decoded."""
    return int(
        locator.evaluate(
            "root => [...root.querySelectorAll('img')]"
            ".filter(img => img.complete && img.naturalWidth > 0).length"
        )
    )


@pytest.mark.e2e
def test_keeping_one_duplicate_deletes_the_others_and_the_group_goes(ui: Browsing) -> None:
    page = ui.page
    copy = images.scene_jpeg(41)
    copies = ["a/original.jpg", "b/copy.jpg", "c/another copy.jpg"]
    files: dict[str, tuple[bytes, list[str]]] = {path: (copy, []) for path in copies}
    files |= {f"other-{n}.jpg": (images.scene_jpeg(n), []) for n in (42, 43)}
    ui.seed(files)
    ui.open()
    expect(tiles(page)).to_have_count(5)
    page.get_by_role("tab", name="Duplicates").click()
    expect(page).to_have_url(re.compile(r"[?&]tab=duplicates"))
    group = page.locator(".dup-group")
    expect(group).to_have_count(1, timeout=30_000)
    expect(group).to_contain_text("3 identical files")
    members = group.get_by_role("listitem")
    expect(members).to_have_count(3)
    for path in copies:
        expect(group).to_contain_text(path)
    wait_for("the group's thumbs painted", lambda: painted(group) == 3)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "duplicates.png")

    members.filter(has_text="b/copy.jpg").get_by_role("button", name="Keep this one").click()
    dialog = page.get_by_role("dialog", name="Keep one copy")
    expect(dialog).to_contain_text("a/original.jpg")
    expect(dialog).to_contain_text("c/another copy.jpg")
    dialog.get_by_role("button", name="Delete 2 images").click()
    expect(dialog).to_have_count(0)
    # Deleted through the API; the group goes once the index has followed the deletes.
    expect(group).to_have_count(0, timeout=60_000)
    expect(page.get_by_text("No duplicates in this dataset.")).to_be_visible()
    assert sorted(item["path"] for item in ui.listing()) == [
        "b/copy.jpg",
        "other-42.jpg",
        "other-43.jpg",
    ]

    page.get_by_role("tab", name="Images").click()
    expect(page).to_have_url(re.compile(f"/datasets/{ui.dataset_id}$"))
    expect(tiles(page)).to_have_count(3)
    expect(page.locator(".toolbar [aria-live]")).to_contain_text("3 in dataset")


@pytest.mark.e2e
def test_the_viewer_lists_similar_images_nearest_first_and_opens_them(ui: Browsing) -> None:
    page = ui.page
    original = images.scene_jpeg(21, 1000, 750)
    smaller = pyvips.Image.new_from_buffer(original, "").resize(0.7)
    ui.seed(
        {
            "original.jpg": (original, []),
            "reencoded.jpg": (bytes(smaller.jpegsave_buffer(Q=60)), []),
            "other.jpg": (images.scene_jpeg(22, 1000, 750), []),
        }
    )
    by_path = {item["path"]: item for item in ui.listing()}
    source, copy, other = (by_path[p] for p in ("original.jpg", "reencoded.jpg", "other.jpg"))
    url = f"{ui.api.base_url}/v1/images/{source['id']}/similar"
    [match] = httpx.get(url, params={"k": 6}, timeout=10).json()["items"]
    assert match["id"] == copy["id"]
    bits = match["distance"]

    open_viewer(page, ui.gateway, ui.dataset_id, source["id"])
    strip = page.get_by_role("region", name="similar images")
    found = strip.get_by_role("listitem")
    expect(found).to_have_count(1)
    expect(found).to_have_attribute("data-image", copy["id"])
    expect(found).to_contain_text(f"{bits} bit")
    expect(strip.locator(f'[data-image="{other["id"]}"]')).to_have_count(0)
    # The widest search (k = 10) still does not take the other picture.
    strip.get_by_label("Largest distance").select_option("10")
    expect(found).to_have_count(1)
    expect(strip.locator(f'[data-image="{other["id"]}"]')).to_have_count(0)

    found.get_by_role("button").click()  # opens the copy, whose nearest is the original
    expect(page).to_have_url(re.compile(f"/images/{copy['id']}$"))
    expect(page.get_by_role("dialog").get_by_role("heading", level=2)).to_have_text("reencoded.jpg")
    expect(strip.get_by_role("listitem")).to_have_attribute("data-image", source["id"])

    # An image without a pHash (a text file named .jpg, rejected): nothing to compare.
    ui.s3.put_object(
        Bucket=BUCKET,
        Key=f"{ui.dataset_id}/images/notes.jpg",
        Body=b"not an image\n" * 8,
        ContentType="image/jpeg",
    )
    rejected = wait_for(
        "the text file rejected",
        lambda: [i for i in ui.listing() if i["path"] == "notes.jpg" and i["status"] == "rejected"],
        timeout=60,
    )
    page.goto(f"{ui.gateway.base_url}/datasets/{ui.dataset_id}/images/{rejected[0]['id']}")
    expect(strip).to_contain_text("No perceptual hash yet")
    expect(strip.get_by_role("listitem")).to_have_count(0)


def split_counts(ui: Browsing) -> dict[str, int]:
    """The dataset's images per split, from the API."""
    url = f"{ui.api.base_url}/v1/datasets/{ui.dataset_id}/splits"
    body = httpx.get(url, timeout=10).json()
    return {split: int(body[split]) for split in ("train", "val", "test", "none")}


@pytest.mark.e2e
def test_a_ratio_split_from_the_dialog_is_leak_free_until_one_copy_is_moved(
    ui: Browsing,
) -> None:
    page = ui.page
    copy = images.scene_jpeg(51, 320, 240)
    copies = ["dup/a.jpg", "dup/b.jpg", "dup/c.jpg"]
    files: dict[str, tuple[bytes, list[str]]] = {path: (copy, []) for path in copies}
    files |= {f"scene-{n}.jpg": (images.scene_jpeg(n, 320, 240), []) for n in range(60, 77)}
    ui.seed(files)  # 20 images, one group of three identical files
    ui.open()
    expect(tiles(page)).to_have_count(20)
    expect(page.locator("[data-split-badge]")).to_have_count(0)

    page.get_by_role("button", name="Splits…").click()
    dialog = page.get_by_role("dialog", name="Splits")
    table = dialog.get_by_role("table", name="split counts")
    expect(table.locator('[data-count="none"]')).to_have_text("20")
    dialog.get_by_label("train %").fill("60")
    expect(dialog.get_by_role("alert")).to_contain_text("must sum to 100 (now 80)")
    expect(dialog.get_by_role("button", name="Assign splits")).to_be_disabled()
    dialog.get_by_label("val %").fill("20")
    dialog.get_by_label("test %").fill("20")
    dialog.get_by_label("Seed").fill("web")
    expect(dialog.get_by_label("Keep duplicate groups together")).to_be_checked()
    dialog.get_by_role("button", name="Assign splits").click()
    progress = dialog.get_by_role("status", name="split progress")
    expect(progress).to_contain_text("Done: 20 images placed", timeout=60_000)

    counts = split_counts(ui)
    assert counts["none"] == 0 and sum(counts.values()) == 20, counts
    for split, n in counts.items():  # the dialog refetched the exact counters
        row = table.locator(f'tr[data-split="{split}"]')
        expect(row.locator(f'[data-count="{split}"]')).to_have_text(str(n))
        expect(row.locator("[data-share]")).to_have_text(f"{n * 5}%")  # of 20 images
    by_path = {item["path"]: item for item in ui.listing()}
    assert len({by_path[path]["split"] for path in copies}) == 1  # the group stayed together
    report = dialog.get_by_role("region", name="leakage report")
    expect(report).to_contain_text("No leakage: none of the")
    expect(report.locator(".leak")).to_have_count(0)
    leakage = httpx.get(
        f"{ui.api.base_url}/v1/datasets/{ui.dataset_id}/splits/leakage", timeout=10
    ).json()
    assert leakage["groups"] >= 1 and leakage["leaks"] == 0

    dialog.get_by_role("button", name="Close splits").click()
    expect(page.locator("[data-split-badge]")).to_have_count(20)  # every tile has its badge
    for item in by_path.values():
        expect(page.locator(f'[role=gridcell][data-image="{item["id"]}"]')).to_have_attribute(
            "data-split", item["split"]
        )

    # The split filter shows exactly that split's images, and the URL keeps it.
    page.get_by_label("Split", exact=True).select_option("val")
    expect(page).to_have_url(re.compile(r"[?&]split=val(&|$)"))
    expect(tiles(page)).to_have_count(counts["val"])
    val = {item["id"] for item in ui.listing(split="val")}
    assert {tiles(page).nth(i).get_attribute("data-image") for i in range(counts["val"])} == val
    # Duplicates only: the live stream cannot follow it, and the page stays live without it.
    page.get_by_label("Split", exact=True).select_option("")
    page.get_by_role("checkbox", name="duplicates only").click()
    expect(page).to_have_url(re.compile(r"[?&]duplicates=true(&|$)"))
    expect(tiles(page)).to_have_count(3)
    expect(page.locator(".live")).to_have_text("● live")
    page.get_by_role("checkbox", name="duplicates only").click()
    expect(tiles(page)).to_have_count(20)

    # Move one copy into another split by hand: the report names its group.
    moved = by_path["dup/b.jpg"]
    group_split = moved["split"]
    target = next(split for split in ("train", "val", "test") if split != group_split)
    page.locator(f'[role=gridcell][data-image="{moved["id"]}"]').get_by_role("checkbox").check()
    expect(page.get_by_label("selection")).to_contain_text("1 selected")
    page.get_by_role("button", name="Splits…").click()
    dialog.get_by_role("tab", name="By hand").click()
    expect(dialog.get_by_label("the selection (1 image)")).to_be_checked()
    dialog.get_by_label("Move to").select_option(target)
    dialog.get_by_role("button", name="Move", exact=True).click()
    expect(progress).to_contain_text("Done: 1 image placed", timeout=60_000)
    expect(report).to_contain_text("1 of the")
    expect(report).to_contain_text("spans two or more splits")
    leak = report.locator(".leak")
    expect(leak).to_have_count(1)
    expect(leak).to_contain_text("3 images")
    parts = {group_split: 2, target: 1}
    order = [s for s in ("train", "val", "test") if s in parts]
    expect(leak).to_contain_text(" · ".join(f"{s} {parts[s]}" for s in order))
    for path in copies:
        expect(leak).to_contain_text(path)
    expect(leak.locator(f'[data-image="{moved["id"]}"]')).to_have_attribute("data-split", target)
    expect(table.locator(f'[data-count="{target}"]')).to_have_text(str(counts[target] + 1))
    wait_for("the leaking group's thumbs painted", lambda: painted(leak) == 3)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "splits.png")


@pytest.mark.e2e
def test_a_saved_view_opens_by_url_follows_live_and_is_renamed_and_deleted(
    ui: Browsing,
) -> None:
    page = ui.page

    def tags(i: int) -> list[str]:
        return ["cat"] if i % 3 == 0 else ["dog"]

    files = {f"pets/{i:02d}.jpg": (images.scene_jpeg(100 + i, 240, 180), tags(i)) for i in range(9)}
    ui.seed(files)
    cats = {item["id"] for item in ui.listing(tags="cat")}
    assert len(cats) == 3

    ui.open("?tags=cat")
    expect(tiles(page)).to_have_count(3)
    views = page.get_by_role("region", name="Saved views")
    expect(views).to_contain_text("None yet.")
    views.get_by_label("View name").fill("  cats  ")
    views.get_by_role("button", name="Save view").click()
    expect(views.get_by_role("button", name="cats", exact=True)).to_be_visible()
    views.get_by_label("View name").fill("cats")  # names are unique per dataset
    views.get_by_role("button", name="Save view").click()
    expect(views.get_by_role("alert")).to_contain_text("a view with this name exists")
    url = f"{ui.api.base_url}/v1/datasets/{ui.dataset_id}/views"
    [saved] = httpx.get(url, timeout=10).json()["items"]
    assert saved["name"] == "cats" and saved["where"]["tags"] == ["cat"]

    # Opened by URL: the grid shows exactly its images; the controls show its filter, disabled.
    ui.open(f"?view={saved['id']}")
    expect(tiles(page)).to_have_count(3)
    assert {tiles(page).nth(i).get_attribute("data-image") for i in range(3)} == cats
    opened = page.get_by_role("region", name="open view")
    expect(opened).to_contain_text("cats")
    expect(opened).to_contain_text("tags=cat")
    expect(tag_box(page, "cat")).to_be_checked()
    expect(tag_box(page, "cat")).to_be_disabled()
    expect(page.locator(".toolbar [aria-live]")).to_contain_text("3 in view")
    expect(page.locator(".live")).to_have_text("● live")  # the stream follows view=<id>

    # A new cat arrives live; a new dog does not enter the view.
    seed(
        ui.s3,
        ui.dataset_id,
        {
            "pets/new-cat.jpg": (images.scene_jpeg(200, 240, 180), ["cat"]),
            "pets/new-dog.jpg": (images.scene_jpeg(201, 240, 180), ["dog"]),
        },
    )
    wait_ready(ui.api, ui.dataset_id, 11)
    expect(tiles(page)).to_have_count(4)
    cats = {item["id"] for item in ui.listing(tags="cat")}
    assert {tiles(page).nth(i).get_attribute("data-image") for i in range(4)} == cats
    expect(page.locator(".toolbar [aria-live]")).to_contain_text("4 in view")
    wait_for("thumbs painted", lambda: painted_thumbs(page) == 4)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "views.png")

    # Leave it, and open it again from the list.
    opened.get_by_role("button", name="Leave view").click()
    expect(page).to_have_url(re.compile(f"/datasets/{ui.dataset_id}$"))
    expect(tiles(page)).to_have_count(11)
    views.get_by_role("button", name="cats", exact=True).click()
    expect(page).to_have_url(re.compile(rf"\?view={saved['id']}$"))
    expect(tiles(page)).to_have_count(4)

    views.get_by_role("button", name="Rename view cats").click()
    views.get_by_label("New name for cats").fill("felines")
    views.get_by_role("button", name="Save", exact=True).click()
    expect(views.get_by_role("button", name="felines", exact=True)).to_be_visible()
    expect(opened).to_contain_text("felines")
    [renamed] = httpx.get(url, timeout=10).json()["items"]
    assert renamed["name"] == "felines" and renamed["where"]["tags"] == ["cat"]  # filter kept

    # Deleting the open view shows its filter instead.
    views.get_by_role("button", name="Delete view felines").click()
    expect(views).to_contain_text("None yet.")
    expect(page).to_have_url(re.compile(r"\?tags=cat$"))
    expect(tiles(page)).to_have_count(4)
    assert httpx.get(url, timeout=10).json()["items"] == []
