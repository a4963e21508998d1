"""Presigner.signer: one instant's presigner for a page of URLs, same bytes as presign_get."""

import datetime
from unittest import mock

import pytest

from assetflow.storage import presign
from assetflow.storage.presign import Presigner

NOW = datetime.datetime(2024, 5, 6, 7, 8, 9)
KEYS = ["a.jpg", "ds/images/with space (1).jpg", "ünï/猫.webp", "x/" * 40 + "y", "~tilde"]


def _presigner(**kwargs: str) -> Presigner:
    return Presigner(endpoint_url="http://minio:9000", access_key="AK", secret_key="SK", **kwargs)


@pytest.mark.parametrize("token", [None, "tok/en+=="])
def test_a_signer_makes_the_urls_presign_get_makes(token: str | None) -> None:
    signer = _presigner() if token is None else _presigner(session_token=token)
    sign = signer.signer(900, NOW)
    for bucket in ("datasets", "thumbnails"):
        for key in KEYS:
            assert sign(bucket, key) == signer.presign_get(bucket, key, 900, NOW)


def test_a_signer_keeps_the_second_it_was_made_in() -> None:
    signer = _presigner()
    with mock.patch.object(presign.time, "time", return_value=1_700_000_000.9):
        sign = signer.signer(60)
        made_then = signer.presign_get("b", "k", 60)
    with mock.patch.object(presign.time, "time", return_value=1_700_000_001.0):
        assert sign("b", "k") == made_then
        assert "X-Amz-Date=20231114T221320Z" in made_then
        assert "X-Amz-Date=20231114T221321Z" in signer.presign_get("b", "k", 60)


def test_a_signer_validates_like_presign_get() -> None:
    signer = _presigner()
    for bad in (0, 7 * 24 * 3600 + 1, True):
        with pytest.raises(ValueError, match="expires_in"):
            signer.signer(bad)
    sign = signer.signer(60)
    with pytest.raises(ValueError, match="key"):
        sign("b", "")
    with pytest.raises(ValueError, match="bucket"):
        sign("bad/bucket", "k")
