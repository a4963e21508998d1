"""RFC 9457 problem documents: the body of every error response."""

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    """One request field that failed validation."""

    loc: list[str] = Field(description="where: 'query', 'path', then the parameter name")
    msg: str


class Problem(BaseModel):
    """An RFC 9457 problem document: the body of every error response."""

    type: str = Field(
        description="URI of the problem type: about:blank, or one of ours naming a problem "
        "with extension members (a quota refusal: tag:assetflow,2026:problems/quota-exceeded)"
    )
    title: str = Field(description="the HTTP status phrase")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong with this request, for a person")
    instance: str = Field(description="the request path")
    errors: list[FieldError] | None = Field(
        default=None, description="each invalid field (422 only)"
    )


class RevisionProblem(Problem):
    """A conditional write that lost: the body says which revision is current."""

    current_revision: int = Field(description="re-read at this revision, then retry")
