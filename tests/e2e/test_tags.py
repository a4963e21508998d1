"""Tags end to end: upload-time tags, PATCH, bulk by ids and by filter, counts that stay exact
through concurrent edits, a SIGKILLed indexer, a duplicated command, deletes and overwrites."""

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from assetflow.contracts.events import ChangeTags
from assetflow.contracts.layout import message_key
from tests.e2e.test_pipeline import list_all
from tests.support.stack import BUCKET, TOPICS, ServiceProcess, produce, wait_for

POOL = ["cat", "dog", "bird", "night", "street", "d%C3%B6g"]  # the last one is "dög"
N = 300


def upload_tags(i: int) -> list[str]:
    """Deterministic upload-time tags: 0-2 of the pool (every 5th image untagged)."""
    if i % 5 == 0:
        return []
    return sorted({POOL[i % len(POOL)], POOL[(i * 7) % len(POOL)]})


def put_tagged(s3: Any, key: str, tags: list[str], body: bytes) -> None:
    s3.put_object(
        Bucket=BUCKET,
        Key=key,
        Body=body,
        ContentType="image/jpeg",
        Metadata={"tags": ",".join(t.upper() for t in tags)} if tags else {},
    )


def tag_counts(api: ServiceProcess, dataset_id: str) -> dict[str, Any]:
    response = httpx.get(f"{api.base_url}/v1/datasets/{dataset_id}/tags", timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def truth(items: list[dict[str, Any]]) -> tuple[dict[str, int], int]:
    """(count per tag, untagged) computed client-side from the listed images."""
    counts: Counter[str] = Counter(tag for item in items for tag in item["tags"])
    return dict(counts), sum(1 for item in items if not item["tags"])


def counts_match_truth(api: ServiceProcess, dataset_id: str) -> bool:
    items = list_all(api, dataset_id, 200)
    counts, untagged = truth(items)
    served = tag_counts(api, dataset_id)
    got = {row["tag"]: row["count"] for row in served["tags"]}
    return got == counts and served["untagged"] == untagged


def wait_done(api: ServiceProcess, command_id: str, timeout: float = 60) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        body = httpx.get(f"{api.base_url}/v1/commands/{command_id}", timeout=10).json()
        return body if body["status"] == "done" else None

    return wait_for(f"command {command_id} to be done", done, timeout=timeout)


def bulk(api: ServiceProcess, dataset_id: str, body: dict[str, Any]) -> str:
    response = httpx.post(
        f"{api.base_url}/v1/datasets/{dataset_id}/tags/bulk", json=body, timeout=30
    )
    assert response.status_code == 202, response.text
    return str(response.json()["command_id"])


def patch(api: ServiceProcess, image_id: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.patch(f"{api.base_url}/v1/images/{image_id}/tags", json=body, timeout=30)


@pytest.fixture
def second_indexer(services: dict[str, ServiceProcess]) -> Iterator[ServiceProcess]:
    """A second indexer in the same consumer group: the two share the partitions."""
    proc = ServiceProcess("indexer", port_offset=50)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.mark.e2e
def test_tag_counts_stay_exact_through_everything(
    services: dict[str, ServiceProcess], second_indexer: ServiceProcess, s3: Any, dataset_id: str
) -> None:
    api, indexer = services["api"], services["indexer"]
    keys = [f"{dataset_id}/images/f{i % 3}/img {i:03d}.jpg" for i in range(N)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda i: put_tagged(s3, keys[i], upload_tags(i), b"x" * (i + 1)), range(N)))

    def indexed() -> bool:
        stats = httpx.get(f"{api.base_url}/v1/datasets/{dataset_id}/stats", timeout=10).json()
        return bool(stats["image_count"] == N)

    wait_for("300 uploads indexed", indexed, timeout=90)
    items = list_all(api, dataset_id, 100)
    by_key = {item["key"]: item for item in items}
    # Upload-time tags arrive normalised (lower case, percent-decoded).
    assert by_key[keys[1]]["tags"] == sorted(
        {"dög" if t.startswith("d%") else t for t in upload_tags(1)}
    )
    assert by_key[keys[5]]["tags"] == []
    assert counts_match_truth(api, dataset_id)
    ids = [by_key[key]["id"] for key in keys]

    # Bulk by ids, then by filter (every "cat" image also gets "feline").
    first = wait_done(api, bulk(api, dataset_id, {"add": ["Batch"], "ids": ids[:100]}))
    assert (first["matched"], first["applied"]) == (100, 100)
    cats = sum(1 for item in items if "cat" in item["tags"])
    where = wait_done(api, bulk(api, dataset_id, {"add": ["feline"], "where": {"tags": ["cat"]}}))
    assert where["matched"] == cats

    # Eight clients PATCH the same 20 images at once.
    rng = random.Random(3)
    edits = [
        (
            ids[rng.randrange(20)],
            {"add": rng.sample(POOL[:5], 2), "remove": [rng.choice(["x", "batch"])]},
        )
        for _ in range(80)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda edit: patch(api, *edit), edits))
    assert all(r.status_code == 202 for r in responses), [r.text for r in responses][:3]
    for response in responses[-8:]:
        wait_done(api, response.json()["command_id"])

    # Both indexers applied part of the commands (they share the partitions); read before
    # the kill below, which restarts the first one's counters.
    assert indexer.metric("assetflow_indexer_tag_commands_total") > 0
    assert second_indexer.metric("assetflow_indexer_tag_commands_total") > 0

    # The indexer is SIGKILLed while a bulk command over the whole dataset is applied.
    everything = bulk(api, dataset_id, {"add": ["all"], "where": {}})
    indexer.kill()
    indexer.start()
    assert wait_done(api, everything, timeout=90)["applied"] == N

    # A raw tag command produced twice (same command id) is applied once.
    raw = ChangeTags(
        command_id=uuid.uuid4().hex,
        bucket=BUCKET,
        key=keys[7],
        dataset_id=dataset_id,
        add=["twice"],
        requested_at=datetime.now(UTC),
    )
    message = (message_key(BUCKET, keys[7]), raw.model_dump_json().encode())
    produce(TOPICS.asset_objects, [message, message])

    # Deletes and overwrites in between: an overwrite keeps tags and adds the new ones.
    for key in keys[200:220]:
        s3.delete_object(Bucket=BUCKET, Key=key)
    for key in keys[220:240]:
        put_tagged(s3, key, ["overwritten"], b"new version")

    def settled() -> bool:
        listed = {item["key"]: item for item in list_all(api, dataset_id, 200)}
        return (
            len(listed) == N - 20
            and "twice" in listed[keys[7]]["tags"]
            and all("overwritten" in listed[key]["tags"] for key in keys[220:240])
            and counts_match_truth(api, dataset_id)
        )

    wait_for("counts equal to the truth after the storm", settled, timeout=90)
    final = {item["key"]: item for item in list_all(api, dataset_id, 200)}
    assert all("all" in item["tags"] for key, item in final.items() if key not in keys[220:240])
    assert all({"all", "overwritten"} <= set(final[key]["tags"]) for key in keys[220:240])
    assert tag_counts(api, dataset_id)["tags"][0] == {"tag": "all", "count": N - 20}
    check_filtered_listings(api, dataset_id, list(final.values()))


def check_filtered_listings(
    api: ServiceProcess, dataset_id: str, items: list[dict[str, Any]]
) -> None:
    """any / all / untagged listings (paged small, with folder) equal client-side truth."""
    untag = bulk(api, dataset_id, {"remove": ["all"], "ids": [item["id"] for item in items[:30]]})
    wait_done(api, untag)
    items = list_all(api, dataset_id, 200)
    cases: list[tuple[dict[str, str], Any]] = [
        ({"tags": "cat,dog", "match": "all"}, lambda t: {"cat", "dog"} <= t),
        ({"tags": "cat,DOG", "match": "any"}, lambda t: bool({"cat", "dog"} & t)),
        ({"tags": "dög"}, lambda t: "dög" in t),
        ({"untagged": "true"}, lambda t: not t),
    ]
    for params, predicate in cases:
        expected = sorted(item["id"] for item in items if predicate(set(item["tags"])))
        got = [item["id"] for item in list_all(api, dataset_id, 7, **params)]
        assert len(got) == len(set(got)), f"{params}: an image was listed twice"
        assert sorted(got) == expected, params
        in_folder = [item["id"] for item in list_all(api, dataset_id, 5, folder="f1", **params)]
        expected_f1 = sorted(
            i["id"] for i in items if i["folder"] == "f1" and predicate(set(i["tags"]))
        )
        assert sorted(in_folder) == expected_f1, (params, "f1")


@pytest.mark.e2e
def test_tag_requests_are_validated(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    key = f"{dataset_id}/images/one.jpg"
    put_tagged(s3, key, [f"t{i}" for i in range(49)], b"x")
    item = wait_for("the image", lambda: list_all(api, dataset_id, 10))[0]
    # What the schema states (length, comma, control characters) is a 422; what only the
    # server can judge (normalised duplicates, the per-image limit) is a 400 naming the rule.
    cases = [
        ({"add": ["a,b"]}, 422, "pattern"),
        ({"add": ["x" * 65]}, 422, "at most 64"),
        ({"add": ["   "]}, 422, "pattern"),
        ({"add": [f"n{i}" for i in range(51)]}, 400, "at most 50"),
        ({"add": ["one", "two"]}, 400, "at most 50 tags"),  # 49 + 2 > 50
        ({}, 400, "nothing to change"),
    ]
    for body, status, reason in cases:
        response = patch(api, item["id"], body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert reason in response.json()["detail"], (body, response.json())
    assert patch(api, "no-such-image", {"add": ["a"]}).status_code == 404
    response = httpx.get(f"{api.base_url}/v1/datasets/{dataset_id}/images?tags=a&untagged=true")
    assert response.status_code == 400
    both = {"add": ["a"], "ids": [item["id"]], "where": {}}
    response = httpx.post(f"{api.base_url}/v1/datasets/{dataset_id}/tags/bulk", json=both)
    assert response.status_code == 400 and "exactly one" in response.json()["detail"]
    assert httpx.get(f"{api.base_url}/v1/commands/nope").status_code == 404
