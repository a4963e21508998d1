"""RFC 9457 ``application/problem+json`` responses for every error the API returns."""

import logging
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from pymongo.errors import ConnectionFailure, ExecutionTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from assetflow.api.schemas.problems import Problem
from assetflow.api.schemas.quotas import QUOTA_EXCEEDED
from assetflow.api.sharing import ShareLockedError
from assetflow.contracts.errors import (
    ConflictError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    PreconditionRequiredError,
    QuotaExceededError,
    StaleRevisionError,
    TransientError,
    UnauthenticatedError,
)

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


# What each declared status means on our routes; a route may say it more precisely.
_MEANINGS: Final[dict[int, str]] = {
    400: "bad request, e.g. a cursor that is malformed or from another listing",
    401: "no bearer token, or one that is invalid or expired (see WWW-Authenticate)",
    403: "the token does not grant this dataset (or this access to it)",
    404: "not found",
    409: "conflicts with what exists, e.g. a name already taken",
    412: "the revision If-Match names is not the current one",
    416: "range not satisfiable",
    422: "a parameter failed validation",
    428: "the write needs If-Match",
    503: "a dependency (the database) is unavailable; retry later",
}
_REF: Final = "#/components/schemas/{model}"
# Problem models that some route declares, so the OpenAPI components define each of them.
_DECLARED: dict[str, type[Problem]] = {}


def problem_responses(
    *statuses: int, model: type[Problem] = Problem, descriptions: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries: a problem+json body of ``model`` for each status."""
    _DECLARED[model.__name__] = model
    descriptions = descriptions or {}
    content = {PROBLEM_JSON: {"schema": {"$ref": _REF.format(model=model.__name__)}}}
    return {
        status: {"description": descriptions.get(status) or _MEANINGS[status], "content": content}
        for status in statuses
    }


def install_problem_schemas(app: FastAPI) -> None:
    """Define the declared Problem models in the app's OpenAPI components.

    FastAPI would document an error ``model=`` as ``application/json`` (the route's media
    type); the responses refer to these schemas under ``application/problem+json`` instead.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()  # FastAPI caches it in app.openapi_schema: completed in place
        _declare_auth_problems(schema)
        models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
            (model, "serialization") for model in _DECLARED.values()
        ]
        _, defs = models_json_schema(models, ref_template=_REF)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(defs["$defs"])
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare_auth_problems(schema: dict[str, Any]) -> None:
    """Every operation that takes a bearer token may answer 401 and 403."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if operation.get("security"):
                responses = operation.setdefault("responses", {})
                for status, entry in problem_responses(401, 403).items():
                    responses.setdefault(str(status), entry)
                responses["401"]["headers"] = {
                    "WWW-Authenticate": {
                        "description": "Bearer, with error=invalid_token for a bad token",
                        "schema": {"type": "string"},
                    }
                }


def _allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI documents at this request's path (the contract clients see)."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {method.upper() for method in operations}
    return sorted(methods)


IF_MATCH: Final = "If-Match"


def _missing_precondition(error: Mapping[str, Any]) -> bool:
    """A required If-Match header that is absent: 428 (RFC 6585), not a validation error."""
    return error.get("type") == "missing" and tuple(error.get("loc", ())) == (
        "header",
        IF_MATCH.lower(),
    )


def problem(
    status: int,
    detail: str,
    request: Request,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    type_uri: str = "about:blank",
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": type_uri,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Translate exceptions to problem+json at the HTTP edge."""

    @app.exception_handler(InvalidRequestError)
    async def _invalid(request: Request, exc: InvalidRequestError) -> JSONResponse:
        return problem(400, str(exc), request)

    @app.exception_handler(UnauthenticatedError)
    async def _unauthenticated(request: Request, exc: UnauthenticatedError) -> JSONResponse:
        challenge = 'Bearer realm="assetflow"'
        if isinstance(exc, ShareLockedError):  # a share link's password, not a bearer token
            challenge = exc.challenge
        elif exc.error:
            challenge += f', error="{exc.error}"'
        return problem(401, str(exc), request, headers={"WWW-Authenticate": challenge})

    @app.exception_handler(ForbiddenError)
    async def _forbidden(request: Request, exc: ForbiddenError) -> JSONResponse:
        return problem(403, str(exc), request)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return problem(404, str(exc), request)

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> JSONResponse:
        return problem(409, str(exc), request)

    @app.exception_handler(QuotaExceededError)
    async def _over_quota(request: Request, exc: QuotaExceededError) -> JSONResponse:
        return problem(
            409,
            str(exc),
            request,
            title="Dataset quota exceeded",
            type_uri=QUOTA_EXCEEDED,
            exceeded=exc.exceeded,
            quota=exc.quota,
            usage=exc.usage,
        )

    @app.exception_handler(StaleRevisionError)
    async def _stale(request: Request, exc: StaleRevisionError) -> JSONResponse:
        headers = {"ETag": f'"{exc.current}"'}
        return problem(412, str(exc), request, headers=headers, current_revision=exc.current)

    @app.exception_handler(PreconditionRequiredError)
    async def _unconditional(request: Request, exc: PreconditionRequiredError) -> JSONResponse:
        return problem(428, str(exc), request)

    @app.exception_handler(TransientError)
    async def _unavailable(request: Request, exc: TransientError) -> JSONResponse:
        return problem(503, str(exc), request)

    # The read path calls PyMongo directly, so its "cannot reach the server" errors arrive
    # here untranslated; they are the same outage as a DatabaseUnavailableError.
    @app.exception_handler(ConnectionFailure)
    @app.exception_handler(ExecutionTimeout)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc, extra={"path": request.url.path})
        return problem(503, f"database unavailable: {type(exc).__name__}", request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(_missing_precondition(e) for e in exc.errors()):
            return problem(
                428,
                f"this write needs {IF_MATCH} with the revision it is based on, "
                f'e.g. {IF_MATCH}: "0"',
                request,
            )
        errors = [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)
        return problem(422, detail, request, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Keep the exception's headers: a 405 must say which methods are allowed (Allow).
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first route whose path matched; a path served by
            # several routes (GET and DELETE of one upload) allows all of their methods.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem(exc.status_code, str(exc.detail), request, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem(500, "internal error; see the service log", request)
