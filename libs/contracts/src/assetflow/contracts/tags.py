"""Tags: what a valid tag is, how one is normalised, and how a change applies to an image.

A tag is a string in Unicode NFC, lower case, trimmed, 1-64 characters, without control
characters or commas (a comma separates tags in the upload header). An image has at most 50.
"""

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

MAX_TAG_LENGTH: Final = 64
MAX_TAGS_PER_IMAGE: Final = 50
UPLOAD_TAGS_METADATA: Final = "X-Amz-Meta-Tags"
_UPLOAD_TAGS_NAME: Final = "tags"  # the same header as S3 clients report it, prefix stripped
"""The user-metadata entry (``x-amz-meta-tags`` on the PUT) MinIO puts in the event record."""


# What a schema can say of a tag as sent: a visible character, no comma, no control one (the
# rest, e.g. 64 characters after normalisation, is checked by normalize_tag).
_NOT_IN_TAG = r",\x00-\x1f\x7f-\x9f"
_TAG = rf"[^{_NOT_IN_TAG}]*[^\s{_NOT_IN_TAG}][^{_NOT_IN_TAG}]*"
TAG_PATTERN: Final = rf"^{_TAG}$"
TAG_LIST_PATTERN: Final = rf"^{_TAG}(,{_TAG})*$"
"""Comma-separated tags, as the listing's ``?tags=`` takes them."""


class InvalidTagError(ValueError):
    """A tag that cannot be normalised into a valid one; the message says why."""


def normalize_tag(raw: str) -> str:
    """The canonical form of a tag; raises InvalidTagError naming the rule it breaks."""
    tag = unicodedata.normalize("NFC", raw).strip().lower()
    # lower() may leave a decomposed sequence in a few scripts: normalise once more.
    tag = unicodedata.normalize("NFC", tag)
    if not tag:
        raise InvalidTagError(f"tag {raw!r} is empty")
    if len(tag) > MAX_TAG_LENGTH:
        raise InvalidTagError(f"tag {raw!r} is longer than {MAX_TAG_LENGTH} characters")
    if "," in tag:
        raise InvalidTagError(f"tag {raw!r} contains a comma")
    if any(unicodedata.category(char) == "Cc" for char in tag):
        raise InvalidTagError(f"tag {raw!r} contains a control character")
    return tag


def normalize_tags(raws: Iterable[str], *, limit: int = MAX_TAGS_PER_IMAGE) -> list[str]:
    """Distinct canonical tags, sorted; raises InvalidTagError for a bad tag or over ``limit``."""
    tags = sorted({normalize_tag(raw) for raw in raws})
    if len(tags) > limit:
        raise InvalidTagError(f"{len(tags)} tags given; at most {limit} are allowed")
    return tags


@dataclass(frozen=True, slots=True)
class UploadTags:
    """Tags read from an upload's metadata, and the entries that were not valid tags."""

    tags: list[str]
    dropped: list[str]


def parse_upload_tags(header: str | None) -> UploadTags:
    """Tags from ``x-amz-meta-tags: cat,dog``; entries may be percent-encoded UTF-8.

    S3 metadata is ASCII only, so ``d%C3%B6g`` stands for ``dög``. An upload is never
    refused for its tags: invalid entries, and any beyond the per-image limit, are dropped
    and reported, so the image is still indexed.
    """
    if not header:
        return UploadTags([], [])
    valid: set[str] = set()
    dropped: list[str] = []
    for entry in header.split(","):
        if not entry.strip():
            continue
        try:
            valid.add(normalize_tag(unquote(entry, errors="strict")))
        except (InvalidTagError, UnicodeDecodeError):
            dropped.append(entry)
    tags = sorted(valid)
    dropped += tags[MAX_TAGS_PER_IMAGE:]
    return UploadTags(tags[:MAX_TAGS_PER_IMAGE], dropped)


def metadata_tags(metadata: Mapping[str, str]) -> UploadTags:
    """Upload tags from object metadata: an event's ``X-Amz-Meta-Tags`` or a HEAD's ``tags``."""
    names = {UPLOAD_TAGS_METADATA.lower(), _UPLOAD_TAGS_NAME}
    return parse_upload_tags(
        next((value for name, value in metadata.items() if name.lower() in names), None)
    )


def changed_tags(current: Iterable[str], add: Iterable[str], remove: Iterable[str]) -> list[str]:
    """An image's tags after a change: ``remove`` taken out, then ``add`` put in; sorted."""
    return sorted((set(current) - set(remove)) | set(add))


def merge_upload_tags(current: list[str], upload: list[str]) -> list[str]:
    """An overwrite keeps the image's tags and adds the new version's, up to the limit."""
    merged = set(current) | set(upload)
    if len(merged) <= MAX_TAGS_PER_IMAGE:
        return sorted(merged)
    # Over the limit: the tags the image already had win; then the new ones in order.
    extra = sorted(set(upload) - set(current))
    return sorted([*current, *extra][:MAX_TAGS_PER_IMAGE])
