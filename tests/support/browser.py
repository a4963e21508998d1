"""Headless Chromium through Playwright's sync API, on the browser devstack installs.

Playwright's sync API runs its own asyncio loop on the test's thread and leaves that loop
marked as the thread's running loop between calls, for as long as the driver lives. A
browser kept for the whole session would then make every later ``asyncio.run`` (the Kafka
helpers in ``tests/support/stack.py``) and pytest-asyncio test raise "cannot be called from
a running event loop" (measured with playwright 1.65.2). So the session holds one driver and
one browser, and ``BrowserSession.using()`` marks the loop as running only while a test
uses them.
"""

import asyncio
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from devstack import browser as devstack_browser
from devstack import config

ARGS = ("--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu")
"""No sandbox: CI runs as root, where Chromium refuses it; /dev/shm is small in containers."""
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
ARTIFACTS = config.LOCAL / "test-artifacts"


class BrowserSession:
    """One Playwright driver and one headless Chromium, shared by the tests of a session."""

    def __init__(self) -> None:
        executable, env = devstack_browser.chromium()
        self._playwright: Playwright = sync_playwright().start()
        try:
            self.browser: Browser = self._playwright.chromium.launch(
                executable_path=executable,
                env={**os.environ, **env},
                headless=True,
                args=list(ARGS),
            )
        except BaseException:
            self._playwright.stop()
            raise
        self._loop = asyncio.get_running_loop()  # Playwright's, marked by the calls above
        asyncio._set_running_loop(None)

    @contextmanager
    def using(self) -> Iterator[Browser]:
        """The browser, with Playwright's loop marked as running for the block's duration."""
        asyncio._set_running_loop(self._loop)
        try:
            yield self.browser
        finally:
            asyncio._set_running_loop(None)

    def close(self) -> None:
        """Close the browser and stop the driver (which unmarks its loop)."""
        asyncio._set_running_loop(self._loop)
        try:
            self.browser.close()
        finally:
            self._playwright.stop()


@contextmanager
def new_page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context (no cookies or storage from other tests), 1280x800."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()


def save_screenshot(item: pytest.Item, report: pytest.TestReport) -> None:
    """After a failed test that used ``page``: a screenshot under .local/test-artifacts,
    named in the report."""
    page = getattr(item, "funcargs", {}).get("page")
    if not isinstance(page, Page) or page.is_closed():
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", item.nodeid) + ".png")
    try:
        page.screenshot(path=path, full_page=True)
    except Exception as exc:  # the page may be what broke; the test's own failure matters
        report.sections.append(("browser screenshot", f"not taken: {exc}"))
        return
    report.sections.append(("browser screenshot", str(path)))
