"""Image documents as API items (ImagePublic's JSON shape), with presigned URLs of their files."""

from collections.abc import Callable
from typing import Any

from assetflow.api.schemas.images import rfc3339_ms
from assetflow.api.settings import ApiOptions
from assetflow.storage.presign import Presigner

Signer = Callable[[str, str], str]  # (bucket, key) -> presigned GET URL


def signers(presigner: Presigner, options: ApiOptions) -> tuple[Signer, Signer]:
    """One response's signers: originals short-lived, renditions (immutable) longer."""
    original = presigner.signer(options.presign_expires_s)
    if options.rendition_url_period_s:
        # Stable for the period: a browser keeps the thumbs it fetched across listings.
        period = options.rendition_url_period_s
        return original, presigner.stable_signer(options.rendition_url_expires_s, period)
    if options.rendition_url_expires_s == options.presign_expires_s:
        return original, original
    return original, presigner.signer(options.rendition_url_expires_s)


def to_public(
    doc: dict[str, Any], sign: Signer, sign_rendition: Signer | None = None
) -> dict[str, Any]:
    """Document -> API item (ImagePublic's JSON shape) with presigned URLs of its files."""
    # A plain dict, not an ImagePublic: validating and then serializing each item through
    # pydantic cost 13 % of a listing's CPU, for documents our own indexer wrote.
    exif = doc.get("exif") or {}
    renditions = doc.get("renditions")
    thumb_url = preview_url = None
    sign_rendition = sign_rendition or sign
    if renditions:  # absent until thumbnailed, and for rejected / failed images
        if thumb := renditions.get("thumb"):
            thumb_url = sign_rendition(renditions["bucket"], thumb["key"])
        if preview := renditions.get("preview"):
            preview_url = sign_rendition(renditions["bucket"], preview["key"])
    return {
        "id": doc["_id"],
        "dataset_id": doc["dataset_id"],
        "key": doc["key"],
        "path": doc["path"],
        "folder": doc["folder"],
        "file_name": doc["file_name"],
        "size": doc["size"],
        "content_type": doc.get("content_type"),
        "etag": doc["etag"],
        "uploaded_at": rfc3339_ms(doc["uploaded_at"]),
        "url": sign(doc["bucket"], doc["key"]),
        "status": doc.get("status") or "pending",
        "status_reason": doc.get("status_reason"),
        "width": doc.get("width"),
        "height": doc.get("height"),
        "thumbhash": doc.get("thumbhash"),
        "captured_at": exif.get("captured_at"),
        "camera": camera_name(exif.get("make"), exif.get("model")),
        "thumb_url": thumb_url,
        "preview_url": preview_url,
        "tags": doc.get("tags") or [],
        "sha256": doc.get("sha256"),
        "phash": doc.get("phash"),
        "duplicate": bool(doc.get("duplicate")),
        "split": doc.get("split"),
    }


def camera_name(make: str | None, model: str | None) -> str | None:
    """'Canon' + 'Canon EOS R5' -> 'Canon EOS R5'; 'SONY' + 'ILCE-7M3' -> 'SONY ILCE-7M3'."""
    if not model:
        return make or None
    if not make or model.lower().startswith(make.lower()):
        return model
    return f"{make} {model}"
