"""Liveness and readiness."""

from pydantic import BaseModel, Field

from assetflow.api.schemas.problems import Problem


class Health(BaseModel):
    """The process is up."""

    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    """Every dependency answered."""

    status: str = Field(examples=["ready"])
    checks: dict[str, str] = Field(description="'ok' per dependency (mongo, s3)")


class ReadinessProblem(Problem):
    """Not ready: a problem document that also says which dependency failed and why."""

    checks: dict[str, str] = Field(description="'ok' or 'failed: <error>' per dependency")
