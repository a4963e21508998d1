"""The whole pipeline (ingest, indexer, thumbnailer, api) as real processes on the local stack."""

import shutil
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from pymongo import MongoClient

from tests.support import auth
from tests.support.browser import BrowserSession, new_page, save_screenshot
from tests.support.stack import (
    MONGO_URL,
    TEST_DB,
    TEST_GROUP_PREFIX,
    TRACES,
    GatewayProcess,
    ServiceProcess,
    prepare_test_lane,
    running,
    s3_client,
    skip_history,
)

GATEWAY_PORT = 18080
WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"


@pytest.fixture(scope="session")
def services() -> Iterator[dict[str, ServiceProcess]]:
    """Start every service once for the session; stop them at the end."""
    with MongoClient(MONGO_URL) as client:
        client.drop_database(TEST_DB)
    shutil.rmtree(TRACES, ignore_errors=True)  # spans of this session only
    prepare_test_lane()
    skip_history(TEST_GROUP_PREFIX)
    procs = {
        # Spans for test_traces.py; lag sampled every second for test_observability.py, the
        # quota report refreshed every second for test_quotas.py.
        name: ServiceProcess(
            name,
            env={
                "TRACES_DIR": str(TRACES),
                "KAFKA_LAG_INTERVAL_S": "1",
                "INDEXER_QUOTA_REPORT_INTERVAL_S": "1",
            },
        )
        for name in ("indexer", "ingest", "thumbnailer", "snapshotter", "notifier", "api")
    }
    try:
        for proc in procs.values():
            proc.start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


@pytest.fixture(scope="session")
def secured_api(services: dict[str, ServiceProcess]) -> Iterator[ServiceProcess]:
    """A second API on the same stack that requires bearer tokens (API_AUTH=jwt)."""
    # Multipart from 5 MiB (the least S3 allows), so the UI's part-by-part upload is tested.
    # Webhook targets as in production: loopback, private, ... refused (test_webhooks.py).
    env = auth.API_ENV | {
        "API_MULTIPART_THRESHOLD": str(5 * 1024 * 1024),
        "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "false",
    }
    with running(ServiceProcess("api", port_offset=10, env=env)) as proc:
        yield proc


@pytest.fixture(scope="session")
def web_root() -> Path:
    """The web UI as built by ``make web`` (``make test`` builds it first)."""
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail(f"the web UI is not built in {WEB_DIST}: run make web")
    return WEB_DIST


@pytest.fixture(scope="session")
def gateway(services: dict[str, ServiceProcess], web_root: Path) -> Iterator[GatewayProcess]:
    """nginx with the gateway config in front of the test API (1 MiB body limit)."""
    with running(GatewayProcess("test", GATEWAY_PORT, web_root=web_root, body_limit="1m")) as proc:
        yield proc


@pytest.fixture(scope="session")
def s3() -> Any:
    """boto3 S3 client for MinIO."""
    return s3_client()


@pytest.fixture
def dataset_id() -> str:
    """A dataset no other test (or earlier run) uses."""
    return f"e2e-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def browser_session() -> Iterator[BrowserSession]:
    """One headless Chromium (devstack's) for the session; an error if it is not installed."""
    session = BrowserSession()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def browser(browser_session: BrowserSession) -> Iterator[Browser]:
    """The session's Chromium, for this test (tests/support/browser.py says why per test)."""
    with browser_session.using() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A 1280x800 page in a fresh browser context, closed after the test."""
    with new_page(browser) as fresh:
        yield fresh


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that used ``page`` leaves a screenshot under .local/test-artifacts."""
    report = yield
    if report.when == "call" and report.failed:
        save_screenshot(item, report)
    return report
