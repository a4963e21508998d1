"""An image's files: a redirect to a presigned URL, or streamed through the API with Range."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from assetflow.api.deps import CallerDep, MediaDep
from assetflow.api.problems import problem, problem_responses
from assetflow.api.services.media import Download, NotModified, OutOfRange, Redirect, Variant

router = APIRouter(prefix="/v1")

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
        media: MediaDep,
        caller: CallerDep,
        proxy: Annotated[bool, Query(description="stream through the API (Range, ETag)")] = False,
    ) -> Response:
        wanted = request.headers.get("range")
        found = await media.fetch(
            image_id,
            variant,
            caller,
            proxy=proxy,
            range_=wanted,
            if_none_match=request.headers.get("if-none-match"),
        )
        return _response(found, wanted, request)

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


def _response(
    found: Redirect | NotModified | OutOfRange | Download, wanted: str | None, request: Request
) -> Response:
    """What the service found, as the HTTP response."""
    if isinstance(found, Redirect):
        return RedirectResponse(found.url, status_code=307)
    if isinstance(found, NotModified):
        return Response(status_code=304, headers={"ETag": found.etag} if found.etag else None)
    if isinstance(found, OutOfRange):
        return problem(416, f"range {wanted!r} is outside the file", request)
    return StreamingResponse(found.body, status_code=found.status, headers=found.headers)


for _variant in ("original", "thumb", "preview"):
    _media_route(_variant)
