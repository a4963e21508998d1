"""Liveness, readiness and metrics."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from assetflow.api.deps import HealthDep
from assetflow.api.problems import problem, problem_responses
from assetflow.api.schemas.health import Health, Readiness, ReadinessProblem

router = APIRouter()


@router.get("/healthz", response_model=Health)
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses=problem_responses(
        503, model=ReadinessProblem, descriptions={503: "a dependency is not answering"}
    ),
)
async def readyz(request: Request, health: HealthDep) -> JSONResponse:
    """Ready when MongoDB answers ping and the bucket is reachable."""
    checks = await health.checks()
    if all(v == "ok" for v in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    failed = ", ".join(f"{k} {v}" for k, v in checks.items() if v != "ok")
    return problem(503, f"not ready: {failed}", request, checks=checks)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics() -> Response:
    """Prometheus metrics (text exposition format)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
