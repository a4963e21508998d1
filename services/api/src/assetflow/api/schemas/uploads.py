"""Direct uploads: start (one PUT, or multipart), resume, complete."""

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

MAX_PARTS = 10_000  # S3's limit
UploadTarget = Literal["images", "imports"]


def _no_bool(value: Any) -> Any:
    """JSON true/false is not a number (pydantic would read it as 1/0)."""
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


class UploadBody(BaseModel):
    """The file to upload: where it goes, how big it is, what it is."""

    # What a schema can state; the rest ('..' or empty segments, 1,024 UTF-8 bytes, the size
    # limit of the content type) is a 400 naming the rule.
    path: str = Field(
        min_length=1,
        max_length=1024,
        pattern=r"^[^/\\\x00-\x1f\x7f][^\\\x00-\x1f\x7f]*$",
        description="relative, under <dataset>/images/ (or <dataset>/imports/)",
    )
    size: int = Field(ge=0, le=100 * 1024**3, description="bytes")
    content_type: str = Field(
        pattern=r"^(image/[a-z0-9.+-]{1,64}|application/octet-stream|application/zip)$",
        description="image/*, application/octet-stream or (imports) application/zip, with the "
        "default API_UPLOAD_LIMITS",
        examples=["image/jpeg"],
    )
    tags: list[str] = Field(default_factory=list, max_length=1000, description="upload-time tags")
    target: UploadTarget = Field(
        default="images",
        description="images: a dataset image; imports: a zip to unpack with POST .../imports",
    )

    _size_is_a_number = field_validator("size", mode="before")(_no_bool)


class PartUrl(BaseModel):
    """Where to PUT one part (send its bytes as the body; keep the ETag of the answer)."""

    number: int
    url: str


class UploadStarted(BaseModel):
    """PUT: send the file to ``url`` with ``headers``. MULTIPART: PUT each part, then complete."""

    method: Literal["PUT", "MULTIPART"]
    key: str
    url: str | None = None
    headers: dict[str, str] | None = None
    upload_id: str | None = None
    part_size: int | None = None
    parts: list[PartUrl] | None = None


class StoredPart(BaseModel):
    """A part storage already holds."""

    number: int
    etag: str
    size: int


class UploadProgress(BaseModel):
    """What a multipart upload already has, and fresh URLs for the parts it lacks."""

    upload_id: str
    key: str
    part_size: int
    parts: list[StoredPart]
    missing: list[PartUrl]


class CompletedPart(BaseModel):
    """A part's number and the ETag storage answered its PUT with."""

    number: int = Field(ge=1, le=MAX_PARTS)

    _number_is_a_number = field_validator("number", mode="before")(_no_bool)
    etag: str = Field(
        pattern=r'^"?[0-9a-fA-F]{32}"?$', description="as storage answered the part's PUT"
    )


class CompleteBody(BaseModel):
    """Every part, once."""

    parts: list[CompletedPart] = Field(min_length=1, max_length=MAX_PARTS)


class Completed(BaseModel):
    """The object exists; it is indexed when storage's notification arrives."""

    key: str
