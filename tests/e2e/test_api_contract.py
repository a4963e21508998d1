"""The live API keeps its own OpenAPI contract: schemathesis, every check, on real processes.

Schemathesis runs as its CLI in a child process: its pytest integration needs the schema at
collection time (the API only starts in the session fixture), and its lazy loader breaks on
pytest 9. The CLI runs every phase (examples, coverage, fuzzing, stateful) and every check
(server errors, status codes, content types, headers incl. ``Allow`` on 405, response
schemas, negative-data rejection, routes that ignore authentication, ...) and exits non-zero on
any failure. It runs against the API that requires tokens (API_AUTH=jwt).
"""

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import images
from tests.support.auth import bearer
from tests.support.stack import BUCKET, LOGS, ServiceProcess, put_object, wait_for

# One dataset with items in several states, so listings return pages, cursors and URLs.
SEEDED = f"contract-{uuid.uuid4().hex[:8]}"
UPLOADS = {
    "a.jpg": images.jpeg(64, 48),
    "b.png": images.png(32, 32),
    "sub/c d.jpg": images.jpeg(40, 40),
    "sub/ünï (1).webp": images.webp(20, 10),
    "notes.jpg": b"not an image at all\n" * 4,
}
# Bounded so the run takes well under two minutes; a fixed seed makes it repeatable.
MAX_EXAMPLES = 30
SEED = 20261122


def _page(api: ServiceProcess, **params: Any) -> dict[str, Any]:
    url = f"{api.base_url}/v1/datasets/{SEEDED}/images"
    return httpx.get(url, params=params, timeout=10).raise_for_status().json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def seeded(services: dict[str, ServiceProcess], s3: Any) -> dict[str, list[str]]:
    """Upload the dataset through the whole pipeline; its ids, folders and real cursors."""
    api = services["api"]
    for path, body in UPLOADS.items():
        put_object(s3, f"{SEEDED}/images/{path}", body)

    def settled() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = _page(api)["items"]
        done = len(items) == len(UPLOADS) and all(i["status"] != "pending" for i in items)
        return items if done else None

    items = wait_for("the contract dataset to settle", settled, timeout=60)
    assert {i["status"] for i in items} >= {"ready", "rejected"}
    cursors = [_page(api, limit=n)["next_cursor"] for n in (1, 2, 4)]
    cursors.append(_page(api, limit=1, folder="sub")["next_cursor"])
    # Tampered ones too, where a decoder is most likely to break (non-ASCII once gave a 500).
    body, _, signature = cursors[0].partition(".")
    cursors += [f"{body}.{'ü' * 22}", f"{body}.{signature[::-1]}", f"{body}é.{signature}"]
    # A multipart upload in progress, so its routes are reached with a real id.
    upload = httpx.post(
        f"{api.base_url}/v1/datasets/{SEEDED}/uploads",
        json={"path": "big.bin", "size": 70 * 1024 * 1024, "content_type": "image/tiff"},
        timeout=30,
    ).json()
    # An import (of a zip that is refused: what it holds does not matter here).
    s3.put_object(Bucket=BUCKET, Key=f"{SEEDED}/imports/seed.zip", Body=b"not a zip")
    started = httpx.post(
        f"{api.base_url}/v1/datasets/{SEEDED}/imports",
        json={"key": f"{SEEDED}/imports/seed.zip"},
        timeout=30,
    ).json()
    # Share links of the dataset, so the public share routes are reached with real tokens: a
    # plain one, one that allows originals, one with a password (its unlock is reachable).
    shares = [
        httpx.post(
            f"{api.base_url}/v1/datasets/{SEEDED}/shares",
            json={"expires_in_s": 3600} | extra,
            timeout=30,
        ).json()["token"]
        for extra in ({}, {"allow_originals": True}, {"password": "contract-password"})
    ]
    # A webhook (to a closed port: its pings just fail), so its routes get a real id.
    webhook = httpx.post(
        f"{api.base_url}/v1/datasets/{SEEDED}/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["image.ready"]},
        timeout=30,
    ).json()
    return {
        "webhooks": [webhook["id"]],
        "shares": shares,
        "locked_shares": shares[2:],
        "imports": [started["import_id"]],
        "uploads": [upload["upload_id"]],
        "datasets": [SEEDED],
        "images": [i["id"] for i in items],
        "folders": ["sub", "/sub/", ""],
        "cursors": cursors,
    }


def _config(dictionaries: dict[str, list[str]]) -> str:
    """schemathesis.toml: half the cases take the seeded dataset's values."""
    bindings = {
        "path.dataset_id": "datasets",
        "path.image_id": "images",
        "query.folder": "folders",
        "query.cursor": "cursors",
        "path.upload_id": "uploads",
        "path.import_id": "imports",
        "path.webhook_id": "webhooks",
        "path.share_token": "shares",
    }
    lines = []
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for parameter, name in bindings.items():
        lines.append(f'"{parameter}" = {{ dictionary = "{name}", probability = 0.5 }}')
    # A cursor is opaque: only one this API issued for the same listing is valid, and no
    # schema can say which strings those are, so a made-up one is a valid-looking 400.
    lines += [
        "",
        "[[operations]]",
        'include-path = "/v1/datasets/{dataset_id}/images"',
        "checks.positive_data_acceptance.expected-statuses = "
        '["2xx", "3xx", 400, 401, 403, 404, 409, 429, "5xx"]',
        "",
        "[[operations]]",  # the catalog's cursor is just as opaque
        'include-path = "/v1/datasets"',
        "checks.positive_data_acceptance.expected-statuses = "
        '["2xx", "3xx", 400, 401, 403, 404, 409, 429, "5xx"]',
        "",
        "[[operations]]",  # and so is the duplicate groups' cursor
        'include-path = "/v1/datasets/{dataset_id}/duplicates"',
        "checks.positive_data_acceptance.expected-statuses = "
        '["2xx", "3xx", 400, 401, 403, 404, 409, 429, "5xx"]',
        "",
        "[[operations]]",  # and a share link's listing cursor (bound to its link)
        'include-path = "/v1/shares/{share_token}/images"',
        "checks.positive_data_acceptance.expected-statuses = "
        '["2xx", "3xx", 400, 401, 403, 404, 409, 429, "5xx"]',
    ]
    # A tag change is checked after normalisation (NFC, lower case, trimmed: "  " is empty,
    # "A" and "a" are one tag), against the image's current tags (at most 50) and for
    # add/remove overlap: rules no JSON Schema can state, each a 400 naming the rule.
    # The sample's and a snapshot's filters have one cross-parameter rule (untagged=true
    # with tags is a 400) that OpenAPI parameters cannot state; an upload's path rules (no
    # '..' or empty segment, UTF-8 length), its per-content-type size limit and the accepted
    # types are checked by the server, each a 400 naming the rule. Split ratios must sum to
    # 1; a saved view's filter has the listing's rule, and its name is unique (409); a view
    # named as a filter must exist and stand alone (400).
    for path in (
        "/v1/datasets/{dataset_id}/splits",
        "/v1/datasets/{dataset_id}/views",
        "/v1/datasets/{dataset_id}/views/{view_id}",
        "/v1/images/{image_id}/tags",
        "/v1/datasets/{dataset_id}/tags/bulk",
        "/v1/datasets/{dataset_id}/snapshots",
        "/v1/datasets/{dataset_id}/archive",
        "/v1/datasets/{dataset_id}/imports",  # the key must lie under <dataset_id>/imports/
        "/v1/datasets/{dataset_id}/sample",
        "/v1/datasets/{dataset_id}/uploads",
        # A webhook's URL must resolve to public addresses only (the secured API refuses
        # loopback and private targets; a made-up host does not resolve): a 400 naming why.
        "/v1/datasets/{dataset_id}/webhooks",
        "/v1/datasets/{dataset_id}/webhooks/{webhook_id}",
        # A share link has one expiry (expires_in_s or expires_at), within 90 days of now, and
        # its view must exist (400); a link without a password has nothing to unlock (400).
        "/v1/datasets/{dataset_id}/shares",
        "/v1/shares/{share_token}/unlock",
    ):
        lines += [
            "",
            "[[operations]]",
            f'include-path = "{path}"',
            "checks.positive_data_acceptance.expected-statuses = "
            '["2xx", "3xx", 400, 401, 403, 404, 409, 429, "5xx"]',
        ]
        if path.endswith("/unlock"):  # always the link that has a password: else it is a 404
            token = dictionaries["locked_shares"][0]
            lines.append(f'parameters = {{ "path.share_token" = "{token}" }}')
    # Annotation writes are conditional: a made-up If-Match names another revision (412), a
    # shape's fit inside the image and unique ids are checked by the server (400), and a
    # missing If-Match is 428 Precondition Required (RFC 6585), not a validation error.
    lines += [
        "",
        "[[operations]]",
        'include-path = "/v1/images/{image_id}/annotations"',
        "checks.positive_data_acceptance.expected-statuses = "
        '["2xx", "3xx", 400, 401, 403, 404, 409, 412, 429, "5xx"]',
        "checks.missing_required_header.expected-statuses = [428]",
    ]
    # A live event stream never ends, so no request/response check applies; its auth is in
    # tests/e2e/test_auth.py, its behaviour in tests/e2e/test_live_events.py.
    lines += [
        "",
        "[[operations]]",
        'include-path = "/v1/datasets/{dataset_id}/events"',
        "enabled = false",
    ]
    # Completing needs the ETags storage answered real part uploads with: no generated body
    # can be valid, so this one operation is left to tests/e2e/test_uploads.py.
    lines += [
        "",
        "[[operations]]",
        'include-path = "/v1/datasets/{dataset_id}/uploads/{upload_id}/complete"',
        "enabled = false",
    ]
    return "\n".join(lines) + "\n"


def test_api_keeps_its_openapi_contract(
    secured_api: ServiceProcess, seeded: dict[str, list[str]], tmp_path: Path
) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(seeded))
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{secured_api.base_url}/openapi.json",
        # An admin token: every route is reachable, and the ignored_auth check proves that
        # each one refuses a request without (or with a made-up) token.
        "--header",
        "Authorization: " + bearer("admin", ttl_s=3600)["Authorization"],
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--no-color",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / "schemathesis-contract.log").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, f"schemathesis found contract failures:\n{run.stdout[-8000:]}"
    warnings = _warned_operations(run.stdout)
    assert warnings <= EXPECTED_WARNINGS, run.stdout[-2000:]
    assert warnings or "No issues found" in run.stdout, run.stdout[-2000:]


# An import names an object under <dataset_id>/imports/: a rule across the path and the body
# that no schema can state, so generated keys are (correctly) mostly a 400; the valid case is
# tests/e2e/test_imports.py. The duplicate groups take only a limit and an opaque cursor, so
# most generated requests carry a made-up cursor (a 400, like the listing's); their valid
# paging is tests/e2e/test_curation.py. A webhook's URL must resolve to a public address (this
# API refuses private targets), which generated host names do not: a 400, tested in
# tests/unit/test_webhook_targets.py and tests/e2e/test_webhooks.py. A share link's unlock takes
# the link's password, which no schema can name: a wrong one is a 401 (tests/e2e/test_shares.py).
# Any other warning fails the test.
EXPECTED_WARNINGS = {
    ("Schema validation mismatch", "POST /v1/datasets/{dataset_id}/imports"),
    ("Schema validation mismatch", "GET /v1/datasets/{dataset_id}/duplicates"),
    ("Schema validation mismatch", "POST /v1/datasets/{dataset_id}/webhooks"),
    ("Schema validation mismatch", "POST /v1/shares/{share_token}/unlock"),
}


def _warned_operations(stdout: str) -> set[tuple[str, str]]:
    """(warning, operation) pairs from the WARNINGS section of a schemathesis run."""
    section = stdout.partition("= WARNINGS =")[2].partition("= SUMMARY =")[0]
    found: set[tuple[str, str]] = set()
    warning = ""
    for line in section.splitlines():
        if ":" in line and not line.startswith(" "):
            warning = line.split(":", 1)[0].strip()
        elif line.strip().startswith("- "):
            found.add((warning, line.strip()[2:]))
    return found
