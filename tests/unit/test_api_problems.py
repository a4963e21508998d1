"""Every API error is an RFC 9457 problem document, and the OpenAPI says so (no I/O)."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pymongo.errors import ServerSelectionTimeoutError

from assetflow.api.main import build_state, create_app
from assetflow.api.problems import PROBLEM_JSON
from assetflow.api.schemas.health import ReadinessProblem
from assetflow.api.schemas.problems import Problem
from assetflow.api.settings import ApiSettings
from assetflow.api.state import AppState
from assetflow.storage.presign import Presigner

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class _Unreachable:
    """Stands for a database (or S3) the API cannot reach: every call times out."""

    def __getitem__(self, name: str) -> "_Unreachable":
        return self

    def __getattr__(self, name: str) -> "_Unreachable":
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> "_Unreachable":
        # Like pymongo's cursors: building a query is synchronous, awaiting it is the I/O.
        return self

    def __await__(self) -> Any:
        raise ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused")
        yield  # a generator, as __await__ must be

    def __aiter__(self) -> "_Unreachable":
        return self

    async def __anext__(self) -> Any:
        raise ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused")


def _app_without_backends() -> FastAPI:
    """The real app and routes, with lifespan state whose backends are all unreachable."""
    settings = ApiSettings()
    app = create_app(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, AppState]]:
        state = build_state(
            settings,
            mongo=_Unreachable(),  # type: ignore[arg-type]
            s3=_Unreachable(),
            presigner=Presigner(endpoint_url="http://s3:9000", access_key="a", secret_key="s"),
            signing=_Unreachable(),
        )
        yield state.lifespan_state()

    app.router.lifespan_context = lifespan
    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(_app_without_backends(), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()  # type: ignore[no-any-return]


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    Problem.model_validate(body)
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["instance"] == response.request.url.path
    return body


def test_method_not_allowed_says_which_methods_are(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = client.request(method, "/v1/datasets/ds/images")
        assert response.headers["allow"] == "GET"
        _problem(response, 405)
    # One path, two routes: both methods are allowed.
    response = client.request("PUT", "/v1/datasets/ds/uploads/some-upload")
    assert response.headers["allow"] == "DELETE, GET"


def test_unknown_route_is_404_problem(client: TestClient) -> None:
    _problem(client.get("/v1/nothing-here"), 404)
    # An encoded slash in a path parameter matches no route either.
    _problem(client.get("/v1/datasets/a%2Fb/images"), 404)


def test_validation_error_is_422_problem_with_each_field(client: TestClient) -> None:
    response = client.get("/v1/datasets/ds/images", params={"limit": 0, "status": "done"})
    body = _problem(response, 422)
    assert {tuple(e["loc"]) for e in body["errors"]} == {("query", "limit"), ("query", "status")}
    assert "limit" in body["detail"] and "status" in body["detail"]


@pytest.mark.parametrize("cursor", ["bogus", "é.é", "x" * 512, "e30.AAAAAAAAAAAAAAAAAAAAAA"])
def test_bad_cursor_is_400_problem(client: TestClient, cursor: str) -> None:
    body = _problem(client.get("/v1/datasets/ds/images", params={"cursor": cursor}), 400)
    assert "cursor" in body["detail"]


@pytest.mark.parametrize(
    "path", ["/v1/datasets/ds/images", "/v1/images/abc", "/v1/datasets/ds/stats"]
)
def test_database_unreachable_is_503_problem(client: TestClient, path: str) -> None:
    body = _problem(client.get(path), 503)
    assert body["detail"] == "database unavailable: ServerSelectionTimeoutError"


def test_not_ready_is_503_problem_naming_each_failed_check(client: TestClient) -> None:
    response = client.get("/readyz")
    body = _problem(response, 503)
    ReadinessProblem.model_validate(body)
    assert set(body["checks"]) == {"mongo", "s3"}
    assert all(v.startswith("failed: ServerSelectionTimeoutError") for v in body["checks"].values())


def _responses(openapi: dict[str, Any], path: str) -> dict[str, Any]:
    return openapi["paths"][path]["get"]["responses"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("path", "statuses"),
    [
        ("/v1/datasets/{dataset_id}/images", {"200", "400", "401", "403", "404", "422", "503"}),
        ("/v1/images/{image_id}", {"200", "401", "403", "404", "422", "503"}),
        ("/v1/datasets/{dataset_id}/stats", {"200", "401", "403", "404", "422", "503"}),
    ],
)
def test_openapi_declares_problem_json_for_every_error(
    openapi: dict[str, Any], path: str, statuses: set[str]
) -> None:
    responses = _responses(openapi, path)
    assert set(responses) == statuses
    for status in statuses - {"200"}:
        assert responses[status]["content"] == {PROBLEM_JSON: {"schema": PROBLEM_REF}}


def test_openapi_has_no_default_validation_error_schema(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert "HTTPValidationError" not in str(openapi["paths"])
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance"}
    assert set(problem["properties"]) == {*problem["required"], "errors"}


def test_openapi_documents_readiness_failure_and_metrics_text(openapi: dict[str, Any]) -> None:
    readyz = _responses(openapi, "/readyz")
    assert readyz["503"]["content"] == {
        PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ReadinessProblem"}}
    }
    assert "checks" in openapi["components"]["schemas"]["ReadinessProblem"]["required"]
    assert set(_responses(openapi, "/metrics")["200"]["content"]) == {"text/plain"}


def test_every_openapi_reference_resolves(openapi: dict[str, Any]) -> None:
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(openapi)
    schemas = openapi["components"]["schemas"]
    assert refs and all(ref.removeprefix("#/components/schemas/") in schemas for ref in refs)


def test_every_v1_operation_declares_its_auth_problems(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            secured = bool(operation.get("security"))
            # Share links are opened with the link's own token, never a bearer token.
            public = path.startswith("/v1/shares/")
            assert secured == (path.startswith("/v1/") and not public), f"{method} {path}"
            if public and "401" in operation["responses"]:
                challenge = operation["responses"]["401"]["headers"]["WWW-Authenticate"]
                assert challenge["description"].startswith("Share-Password")
            if secured:
                unauthorized = operation["responses"]["401"]
                assert unauthorized["content"][PROBLEM_JSON]["schema"] == PROBLEM_REF
                assert "WWW-Authenticate" in unauthorized["headers"]
                assert "403" in operation["responses"]
