"""Share links in a real Chromium: a link opens its images read-only with no bearer token (the
API requires tokens here), asks for its password, and says so once revoked or expired."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_web_ui import (
    SCREENSHOTS,
    listing,
    painted_thumbs,
    seed,
    tiles,
    wait_ready,
)
from tests.support import images
from tests.support.auth import bearer
from tests.support.stack import GatewayProcess, ServiceProcess, running, wait_for

SHARE_GATEWAY_PORT = 18084


@pytest.fixture(scope="module")
def secured_gateway(secured_api: ServiceProcess, web_root: Path) -> Iterator[GatewayProcess]:
    """The built UI through a gateway whose API requires bearer tokens (API_AUTH=jwt)."""
    gateway = GatewayProcess(
        "shares-ui", SHARE_GATEWAY_PORT, web_root=web_root, api_port=secured_api.port
    )
    with running(gateway) as proc:
        yield proc


def _pets(s3: Any, api: ServiceProcess, dataset_id: str) -> tuple[set[str], set[str]]:
    """3 cats and 3 dogs, thumbnailed; their ids."""
    files = {
        f"pets/{i}.jpg": (images.scene_jpeg(500 + i, 240, 180), ["cat"] if i < 3 else ["dog"])
        for i in range(6)
    }
    seed(s3, dataset_id, files)
    wait_ready(api, dataset_id, 6)
    cats = {item["id"] for item in listing(api, dataset_id, tags="cat")}
    dogs = {item["id"] for item in listing(api, dataset_id, tags="dog")}
    assert len(cats) == 3 and len(dogs) == 3
    return cats, dogs


def _share(secured_api: ServiceProcess, dataset_id: str, **body: Any) -> dict[str, Any]:
    url = f"{secured_api.base_url}/v1/datasets/{dataset_id}/shares"
    created = httpx.post(url, json={"expires_in_s": 3600} | body, headers=bearer("admin"))
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


def _shown(page: Page, n: int) -> set[str]:
    expect(tiles(page)).to_have_count(n)
    return {str(tiles(page).nth(i).get_attribute("data-image")) for i in range(n)}


@pytest.mark.e2e
def test_a_link_shows_exactly_its_images_read_only_without_a_token(
    services: dict[str, ServiceProcess],
    secured_api: ServiceProcess,
    secured_gateway: GatewayProcess,
    s3: Any,
    page: Page,
    dataset_id: str,
) -> None:
    cats, _ = _pets(s3, services["api"], dataset_id)
    view = httpx.post(
        f"{secured_api.base_url}/v1/datasets/{dataset_id}/views",
        json={"name": "cats", "where": {"tags": ["cat"]}},
        headers=bearer("admin"),
    ).json()
    link = _share(secured_api, dataset_id, view_id=view["id"])

    page.goto(f"{secured_gateway.base_url}{link['path']}")
    assert _shown(page, 3) == cats  # exactly the view's images, no token asked
    wait_for("the 3 thumbs painted", lambda: painted_thumbs(page) == 3)
    expect(page.get_by_role("heading", name="cats")).to_be_visible()
    expect(page.get_by_role("dialog", name="Sign in with a token")).to_have_count(0)
    # Read-only: nothing to select, upload, tag, split or snapshot.
    expect(page.get_by_role("checkbox")).to_have_count(0)
    for name in ("Upload", "Splits…", "Share…", "Snapshots", "Token"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "share.png")

    tiles(page).first.click()
    viewer = page.get_by_role("dialog")
    expect(viewer.get_by_role("heading", name=re.compile(r"^pets.\d\.jpg$"))).to_be_visible()
    expect(viewer.locator(".frame img")).to_have_js_property("complete", True)
    assert viewer.locator(".frame img").evaluate("img => img.naturalWidth") > 0  # the preview
    expect(viewer.get_by_role("link", name="Download original")).to_have_count(0)  # not allowed
    expect(viewer.get_by_label("Add tags")).to_have_count(0)
    expect(viewer.get_by_role("list", name="tags")).to_contain_text("cat")
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(r"/s/[^/]+/images/[^/]+$"))
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page).to_have_url(f"{secured_gateway.base_url}{link['path']}")

    # Revoked while open: the next request says the link is gone.
    revoked = httpx.delete(
        f"{secured_api.base_url}/v1/datasets/{dataset_id}/shares/{link['id']}",
        headers=bearer("admin"),
    )
    assert revoked.status_code == 204
    page.reload()
    gone = page.get_by_role("heading", name="This link has expired or was revoked")
    expect(gone).to_be_visible()
    expect(tiles(page)).to_have_count(0)
    page.goto(f"{secured_gateway.base_url}/s/{'A' * 43}")  # never existed: the same page
    expect(gone).to_be_visible()


@pytest.mark.e2e
def test_a_password_link_asks_first_and_originals_follow_the_link(
    services: dict[str, ServiceProcess],
    secured_api: ServiceProcess,
    secured_gateway: GatewayProcess,
    s3: Any,
    page: Page,
    dataset_id: str,
) -> None:
    cats, dogs = _pets(s3, services["api"], dataset_id)
    link = _share(secured_api, dataset_id, password="open sesame", allow_originals=True)

    page.goto(f"{secured_gateway.base_url}{link['path']}")
    form = page.get_by_role("form", name="This shared link needs a password")
    expect(form).to_be_visible()
    expect(tiles(page)).to_have_count(0)
    form.get_by_label("Password").fill("open sesami")
    form.get_by_role("button", name="Open").click()
    expect(form.get_by_role("alert")).to_have_text("Wrong password.")
    form.get_by_label("Password").fill("open sesame")
    form.get_by_role("button", name="Open").click()
    assert _shown(page, 6) == cats | dogs  # the whole dataset
    expect(page.get_by_role("dialog", name="Sign in with a token")).to_have_count(0)

    tiles(page).first.click()
    download = page.get_by_role("dialog").get_by_role("link", name="Download original")
    expect(download).to_be_visible()
    original = httpx.get(str(download.get_attribute("href")), timeout=10)
    assert original.status_code == 200 and original.content[:2] == b"\xff\xd8"


@pytest.mark.e2e
def test_an_admin_shares_the_open_view_from_the_dataset_page_and_revokes_it(
    services: dict[str, ServiceProcess],
    gateway: GatewayProcess,
    s3: Any,
    page: Page,
    dataset_id: str,
) -> None:
    api = services["api"]
    cats, _ = _pets(s3, api, dataset_id)
    view = httpx.post(
        f"{api.base_url}/v1/datasets/{dataset_id}/views",
        json={"name": "cats", "where": {"tags": ["cat"]}},
    ).json()
    page.goto(f"{gateway.base_url}/datasets/{dataset_id}?view={view['id']}")
    expect(tiles(page)).to_have_count(3)
    page.get_by_role("button", name="Share…").click()
    dialog = page.get_by_role("dialog", name=f"Share {dataset_id}")
    expect(dialog.get_by_label("the view “cats”")).to_be_checked()
    dialog.get_by_label("Expires after").select_option(label="1 day")
    dialog.get_by_role("button", name="Create link").click()
    made = dialog.get_by_label("New link (shown this once)")
    expect(made).to_have_value(re.compile(rf"^{re.escape(gateway.base_url)}/s/[\w-]{{43}}$"))
    url = made.input_value()
    links = dialog.get_by_role("list", name="share links")
    expect(links.get_by_role("listitem")).to_have_count(1)
    expect(links).to_contain_text("view cats · expires in 23 hours")

    shared = page.context.new_page()  # the link, as its holder opens it
    shared.goto(url)
    assert _shown(shared, 3) == cats

    links.get_by_role("button", name="Revoke").click()
    expect(links).to_contain_text("revoked")
    expect(links.get_by_role("button", name="Revoke")).to_have_count(0)
    shared.reload()
    expect(
        shared.get_by_role("heading", name="This link has expired or was revoked")
    ).to_be_visible()
