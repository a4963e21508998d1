"""An image's files: a redirect to a presigned URL, or streamed through the API with Range."""

import re
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from assetflow.api import repository
from assetflow.api.auth import CallerDep, require_visible
from assetflow.api.deps import DbDep, PresignerDep, SettingsDep
from assetflow.api.observability import PRESIGNED
from assetflow.api.problems import problem, problem_responses
from assetflow.common.errors import NotFoundError, StorageUnavailableError
from assetflow.common.images import F

router = APIRouter(prefix="/v1")
Variant = Literal["original", "thumb", "preview"]
CHUNK = 256 * 1024
# One byte range (RFC 9110): "bytes=a-b", "bytes=a-" or "bytes=-n". Several ranges in one
# request are served whole (a server may ignore Range), as S3 does.
_ONE_RANGE = re.compile(r"^bytes=(\d+-\d*|-\d+)$")
# Response headers copied from storage when streaming.
_PASSED = {
    "ETag": "ETag",
    "ContentType": "Content-Type",
    "ContentLength": "Content-Length",
    "ContentRange": "Content-Range",
    "LastModified": "Last-Modified",
    "CacheControl": "Cache-Control",
}


async def _s3(request: Request) -> Any:
    return request.state.s3


S3Dep = Annotated[Any, Depends(_s3)]


def locate(doc: dict[str, Any], variant: Variant) -> tuple[str, str]:
    """(bucket, key) of one of an image's files; NotFoundError if it has none yet."""
    if variant == "original":
        return doc[F.BUCKET], doc[F.KEY]
    renditions = doc.get(F.RENDITIONS) or {}
    if not renditions.get(variant):
        raise NotFoundError(f"the image has no {variant} (status {doc.get(F.STATUS)!r})")
    return renditions["bucket"], renditions[variant]["key"]


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the whole file (proxied)", "content": {"*/*": {}}},
    206: {"description": "the requested byte range (proxied)", "content": {"*/*": {}}},
    304: {"description": "If-None-Match matched the file's ETag (proxied)"},
    307: {"description": "redirect to a presigned GET of the file"},
    **problem_responses(
        404,
        416,
        422,
        503,
        descriptions={
            404: "no live image has this id, or it has no such rendition yet",
            416: "the range lies outside the file",
        },
    ),
}


def _media_route(variant: Variant) -> None:
    """One GET route per file kind (a path of its own, so /images/{id}/tags stays PATCH's)."""

    async def get_media(
        image_id: str,
        request: Request,
        db: DbDep,
        presigner: PresignerDep,
        settings: SettingsDep,
        s3: S3Dep,
        caller: CallerDep,
        proxy: Annotated[bool, Query(description="stream through the API (Range, ETag)")] = False,
    ) -> Response:
        doc = await repository.get_image(db, image_id)
        if doc is None:
            raise NotFoundError(f"no image with id {image_id!r}")
        require_visible(caller, doc["dataset_id"], f"image with id {image_id!r}")
        return await _serve(doc, variant, request, presigner, settings, s3, proxy)

    get_media.__doc__ = f"The image's {variant}: 307 to storage, or streamed with Range and ETag."
    get_media.__name__ = f"get_{variant}"
    router.add_api_route(
        f"/images/{{image_id}}/{variant}",
        get_media,
        methods=["GET"],
        status_code=307,
        responses=_RESPONSES,
        response_class=Response,
    )


async def _serve(
    doc: dict[str, Any],
    variant: Variant,
    request: Request,
    presigner: Any,
    settings: Any,
    s3: Any,
    proxy: bool,
) -> Response:
    bucket, key = locate(doc, variant)
    if not (proxy or settings.api.media_proxy):
        options = settings.api
        immutable = variant != "original"  # renditions' keys name their content
        if immutable and options.rendition_url_period_s:  # the same URL all period
            sign = presigner.stable_signer(
                options.rendition_url_expires_s, options.rendition_url_period_s
            )
        else:
            sign = presigner.signer(
                options.rendition_url_expires_s if immutable else options.presign_expires_s
            )
        url = sign(bucket, key)
        PRESIGNED.labels("rendition" if immutable else "original").inc()
        return RedirectResponse(url, status_code=307)
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if (wanted := request.headers.get("range")) and _ONE_RANGE.match(wanted):
        params["Range"] = wanted
    if match := request.headers.get("if-none-match"):
        params["IfNoneMatch"] = match
    try:
        stored = await s3.get_object(**params)
    except ClientError as exc:
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if status == 304:
            etag = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("etag")
            return Response(status_code=304, headers={"ETag": etag} if etag else None)
        if status == 416:
            return problem(416, f"range {wanted!r} is outside the file", request)
        if status == 404:
            raise NotFoundError(f"the {variant} is missing from storage") from None
        raise StorageUnavailableError(f"storage refused the download: {exc}") from exc
    except BotoCoreError as exc:
        raise StorageUnavailableError(f"storage unavailable: {exc}") from exc
    headers = {name: str(stored[field]) for field, name in _PASSED.items() if stored.get(field)}
    if "Last-Modified" in headers:
        headers["Last-Modified"] = stored["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT")
    headers["Accept-Ranges"] = "bytes"
    status = 206 if "Content-Range" in headers else 200
    return StreamingResponse(_chunks(stored["Body"]), status_code=status, headers=headers)


for _variant in ("original", "thumb", "preview"):
    _media_route(_variant)


async def _chunks(body: Any) -> AsyncIterator[bytes]:
    """The storage response, chunk by chunk: memory stays constant whatever the file's size."""
    try:
        async for chunk in body.iter_chunks(CHUNK):
            yield chunk
    finally:
        body.close()
