"""URLs from our presigner fetch the exact bytes from the real MinIO; tampering is refused."""

import uuid

import httpx

from assetflow.storage.presign import Presigner
from tests.support.stack import BUCKET, S3_ACCESS_KEY, S3_ENDPOINT, S3_SECRET_KEY, s3_client


def test_presigned_get_fetches_exact_bytes_for_awkward_keys() -> None:
    s3 = s3_client()
    presigner = Presigner(
        endpoint_url=S3_ENDPOINT, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY
    )
    prefix = f"it-presign-{uuid.uuid4().hex[:8]}/images"
    for name in [
        "plain.jpg",
        "spa ce.jpg",
        "plus+.jpg",
        "ünï 猫.png",
        "%25 & = ? #.gif",
        "(x)!*'~.jpg",
        "deep/er/file.jpg",
    ]:
        key = f"{prefix}/{name}"
        body = f"bytes of {name}".encode()
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        url = presigner.presign_get(BUCKET, key, expires_in=60)
        response = httpx.get(url)
        assert response.status_code == 200, (name, response.text[:300])
        assert response.content == body
        tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=61")
        assert httpx.get(tampered).status_code == 403


def test_wrong_secret_is_refused() -> None:
    s3 = s3_client()
    key = f"it-presign-{uuid.uuid4().hex[:8]}/images/a.jpg"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    bad = Presigner(endpoint_url=S3_ENDPOINT, access_key=S3_ACCESS_KEY, secret_key="wrong")
    assert httpx.get(bad.presign_get(BUCKET, key)).status_code == 403
