"""Share links: admins create, list and revoke them; anyone with a link's token opens it.

The ``/v1/shares/{share_token}`` routes take no bearer token: the link's token is the
credential (and ``X-Share-Session`` for a link with a password), checked on every request.
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import RedirectResponse
from pydantic_core import to_json

from assetflow.api.deps import (
    AdministeredDataset,
    CallerDep,
    CursorsDep,
    SharedSelection,
    SharesDep,
    ShareSessionHeader,
    ShareToken,
)
from assetflow.api.problems import problem_responses
from assetflow.api.schemas.shares import (
    ShareCreate,
    ShareCreated,
    SharedImage,
    SharedImagesPage,
    ShareInfo,
    ShareList,
    SharePublic,
    ShareSession,
    ShareUnlock,
)
from assetflow.api.schemas.tags import Filter
from assetflow.api.services.media import Variant
from assetflow.api.services.shares import GONE, state_of
from assetflow.readmodel.shares import S, ShareDocument

router = APIRouter(prefix="/v1")

_ADMIN = problem_responses(403, 422, 503, descriptions={403: "only an admin may"})
_LOCKED = "the link has a password: no valid X-Share-Session (see WWW-Authenticate)"


def _link_responses(*statuses: int, descriptions: dict[int, str]) -> dict[int | str, Any]:
    """A public share route's problems: its 401 is the link's password, not a bearer token."""
    responses = problem_responses(*statuses, descriptions=descriptions)
    if 401 in responses:
        responses[401] = responses[401] | {
            "headers": {
                "WWW-Authenticate": {
                    "description": 'Share-Password realm="assetflow"',
                    "schema": {"type": "string"},
                }
            }
        }
    return responses


def _public(doc: ShareDocument, view_name: str | None) -> dict[str, Any]:
    where = {key: value for key, value in doc[S.WHERE].items() if value is not None}
    return {
        "id": doc[S.ID],
        "dataset_id": doc[S.DATASET_ID],
        "view_id": doc[S.VIEW_ID],
        "view_name": view_name,
        "where": Filter.model_validate(where, strict=False),
        "expires_at": doc[S.EXPIRES_AT],
        "allow_originals": doc[S.ALLOW_ORIGINALS],
        "has_password": doc[S.PASSWORD_HASH] is not None,
        "created_by": doc[S.CREATED_BY],
        "created_at": doc[S.CREATED_AT],
        "revoked_at": doc[S.REVOKED_AT],
        "state": state_of(doc, datetime.now(UTC)),
    }


@router.post(
    "/datasets/{dataset_id}/shares",
    status_code=201,
    response_model=ShareCreated,
    responses=problem_responses(
        400, 403, 422, 503, descriptions={400: "no such view", 403: "only an admin may"}
    ),
)
async def create_share(
    dataset_id: AdministeredDataset, body: ShareCreate, shares: SharesDep, caller: CallerDep
) -> ShareCreated:
    """Create a read-only, expiring link (admin); its token is returned this once only."""
    doc, token, view_name = await shares.create(
        dataset_id,
        expires_in_s=body.expires_in_s,
        expires_at=body.expires_at,
        view_id=body.view_id,
        password=body.password,
        allow_originals=body.allow_originals,
        created_by=caller.subject,
    )
    return ShareCreated(**_public(doc, view_name), token=token, path=f"/s/{token}")


@router.get("/datasets/{dataset_id}/shares", response_model=ShareList, responses=_ADMIN)
async def list_shares(dataset_id: AdministeredDataset, shares: SharesDep) -> ShareList:
    """The dataset's links, newest first, revoked and expired ones too (admin; no tokens)."""
    found = await shares.of_dataset(dataset_id)
    return ShareList(items=[SharePublic(**_public(doc, name)) for doc, name in found])


@router.delete(
    "/datasets/{dataset_id}/shares/{share_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(
        403,
        404,
        422,
        503,
        descriptions={403: "only an admin may", 404: "no link with this id in the dataset"},
    ),
)
async def revoke_share(
    dataset_id: AdministeredDataset, share_id: str, shares: SharesDep
) -> Response:
    """Revoke a link (admin): every request through it answers 404 from now on."""
    await shares.revoke(dataset_id, share_id)
    return Response(status_code=204)


@router.get(
    "/shares/{share_token}",
    response_model=ShareInfo,
    responses=problem_responses(404, 422, 503, descriptions={404: GONE}),
)
async def get_share(
    share_token: ShareToken, shares: SharesDep, session: ShareSessionHeader = None
) -> ShareInfo:
    """What a link opens (no bearer token); behind a password, only that one is needed."""
    share = await shares.open(share_token, session)
    doc = share.doc
    return ShareInfo(
        expires_at=doc[S.EXPIRES_AT],
        needs_password=doc[S.PASSWORD_HASH] is not None,
        unlocked=share.unlocked,
        dataset_id=doc[S.DATASET_ID] if share.unlocked else None,
        view_name=share.view_name if share.unlocked else None,
        allow_originals=doc[S.ALLOW_ORIGINALS],
    )


@router.post(
    "/shares/{share_token}/unlock",
    response_model=ShareSession,
    responses=_link_responses(
        400,
        401,
        404,
        422,
        503,
        descriptions={400: "the link has no password", 401: "wrong password", 404: GONE},
    ),
)
async def unlock_share(
    share_token: ShareToken, body: ShareUnlock, shares: SharesDep
) -> ShareSession:
    """Trade a link's password for a short-lived session (send it as X-Share-Session)."""
    session, expires_at = await shares.unlock(share_token, body.password)
    return ShareSession(session=session, expires_at=expires_at)


@router.get(
    "/shares/{share_token}/images",
    response_model=SharedImagesPage,
    responses=_link_responses(400, 401, 404, 422, 503, descriptions={401: _LOCKED, 404: GONE}),
)
async def list_shared_images(
    share: SharedSelection,
    shares: SharesDep,
    cursors: CursorsDep,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """The link's images, newest first, one keyset page at a time (its filter only)."""
    after = cursors.decode(cursor, share.scope) if cursor else None
    items, next_after = await shares.page(share, after, limit)
    next_cursor = cursors.encode(next_after, share.scope) if next_after else None
    return Response(
        to_json({"items": items, "next_cursor": next_cursor}), media_type="application/json"
    )


@router.get(
    "/shares/{share_token}/images/{image_id}",
    response_model=SharedImage,
    responses=_link_responses(
        401, 404, 422, 503, descriptions={401: _LOCKED, 404: f"{GONE}; or not an image it shows"}
    ),
)
async def get_shared_image(share: SharedSelection, image_id: str, shares: SharesDep) -> Response:
    """One image the link shows; 404 for any other."""
    return Response(to_json(await shares.image(share, image_id)), media_type="application/json")


def _media_route(variant: Variant) -> None:
    """One GET per file kind: a 307 to a presigned URL, for an image the link shows."""

    async def get_shared_media(
        share: SharedSelection, image_id: str, shares: SharesDep
    ) -> Response:
        return RedirectResponse(await shares.media_url(share, image_id, variant), status_code=307)

    get_shared_media.__doc__ = f"The shared image's {variant}: 307 to a presigned GET."
    get_shared_media.__name__ = f"get_shared_{variant}"
    refused = {403: "this link does not allow originals"} if variant == "original" else {}
    router.add_api_route(
        f"/shares/{{share_token}}/images/{{image_id}}/{variant}",
        get_shared_media,
        methods=["GET"],
        status_code=307,
        response_class=Response,
        responses={
            307: {"description": "redirect to a presigned GET of the file"},
            **_link_responses(
                *sorted({401, 404, 422, 503} | set(refused)),
                descriptions={
                    401: _LOCKED,
                    404: f"{GONE}; or not an image it shows, or no such rendition yet",
                    **refused,
                },
            ),
        },
    )


for _variant in ("thumb", "preview", "original"):
    _media_route(_variant)
