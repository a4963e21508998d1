"""Unit tests for the presigner: URLs must equal botocore's byte for byte (no network)."""

import datetime
import os
import random
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import boto3
import botocore.auth
import botocore.config
import botocore.exceptions
import pytest

from assetflow.storage import presign
from assetflow.storage.presign import Presigner, derive_signing_key

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
# Realistic STS tokens contain '/', '+' and '=', which must be percent-encoded.
SESSION_TOKEN = "FwoGZXIvYXdzEJr//////////wEaDM+token/with+plus==/and=equals"
BUCKET = "assets"
ENDPOINT = "http://minio:9000"
NOW = datetime.datetime(2024, 5, 6, 7, 8, 9)

SPECIAL_KEYS = [
    "plain.jpg",
    "with space.png",
    "a+b.txt",
    "ünïcödé/日本語/😀.bin",
    "100%.csv",
    "%2F-already-encoded%20",
    "tilde~file",
    "bang!.txt",
    "it's.txt",
    "(paren).txt",
    "star*.txt",
    "eq=ual.txt",
    "amp&ersand.txt",
    "question?.txt",
    "hash#tag.txt",
    "nested/dir/sub/file.txt",
    "/leading-slash.txt",
    "//double-leading.txt",
    "a//double//inner.txt",
    "trailing/",
    "./dot/../dotdot/.",
    "..",
    "tab\tnewline\ncr\r.txt",
    'semi;colon,comma:colon@at$dollar[]{}|^`"<>\\.txt',
    " leading and trailing space ",
    "all !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ascii",
    "x" * 1024,
]

ENDPOINTS = [
    "http://minio:9000",
    "http://minio:9000/",
    "https://minio",
    "https://s3.Example.COM:443/",
    "http://minio:80",
    "https://minio:8443",
    "http://127.0.0.1:9000",
    "http://[::1]:9000",
    "http://minio:9000/prefix",
    "https://gateway.example.com/s3/./v1/../storage/",
]

EXPIRIES = [1, 60, 900, 3600, 86400, 604800]


@pytest.fixture(scope="module", autouse=True)
def _isolated_env() -> Iterator[None]:
    """Keep AWS config/env vars out of botocore, and run in a local zone far from UTC."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("AWS_"):
                mp.delenv(name)
        mp.setenv("AWS_CONFIG_FILE", "/nonexistent/aws/config")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws/credentials")
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        # A non-UTC local zone makes any accidental local-time use fail even on UTC hosts.
        # POSIX TZ strings need no tzdata; "XYZ-09:30" means UTC+09:30.
        mp.setenv("TZ", "XYZ-09:30")
        time.tzset()
        try:
            yield
        finally:
            mp.undo()
            time.tzset()


BotocoreSigner = Callable[..., str]


@pytest.fixture(scope="module")
def botocore_presign() -> BotocoreSigner:
    """Return a function presigning with a real botocore client frozen at `now`."""
    clients: dict[tuple[str, str | None, str, str], Any] = {}

    def sign(
        bucket: str,
        key: str,
        expires_in: int,
        now: datetime.datetime,
        *,
        endpoint_url: str = ENDPOINT,
        session_token: str | None = None,
        region: str = "us-east-1",
        access_key: str = ACCESS_KEY,
    ) -> str:
        cache_key = (endpoint_url, session_token, region, access_key)
        client = clients.get(cache_key)
        if client is None:
            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                aws_access_key_id=access_key,
                aws_secret_access_key=SECRET_KEY,
                aws_session_token=session_token,
                region_name=region,
                config=botocore.config.Config(
                    signature_version="s3v4", s3={"addressing_style": "path"}
                ),
            )
            clients[cache_key] = client
        url: str = _with_frozen_botocore_clock(
            now,
            lambda: client.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
            ),
        )
        return url

    return sign


def _with_frozen_botocore_clock(now: datetime.datetime, fn: Callable[[], str]) -> str:
    """Run fn with botocore's SigV4 clock frozen at `now` (naive UTC, as botocore uses)."""
    # botocore.auth does `from botocore.compat import get_current_datetime` and calls it in
    # add_auth(), so the name to patch is the one bound in botocore.auth.
    assert hasattr(botocore.auth, "get_current_datetime"), "botocore changed its clock source"
    naive_utc = _naive_utc(now)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=naive_utc):
        url = fn()
    # Prove the freeze took effect, so a mismatch can never come from a moving clock.
    assert f"X-Amz-Date={naive_utc:%Y%m%dT%H%M%SZ}&" in url
    return url


def _naive_utc(now: datetime.datetime) -> datetime.datetime:
    if now.utcoffset() is None:
        return now
    return now.astimezone(datetime.UTC).replace(tzinfo=None)


def _ours(
    bucket: str,
    key: str,
    expires_in: int,
    now: datetime.datetime,
    *,
    endpoint_url: str = ENDPOINT,
    session_token: str | None = None,
    region: str = "us-east-1",
    access_key: str = ACCESS_KEY,
) -> str:
    signer = Presigner(
        endpoint_url=endpoint_url,
        access_key=access_key,
        secret_key=SECRET_KEY,
        region=region,
        session_token=session_token,
    )
    return signer.presign_get(bucket, key, expires_in, now)


def _query(url: str) -> list[tuple[str, str]]:
    return urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True)


def _random_key(rng: random.Random) -> str:
    """Random object key mixing ASCII specials, several scripts, astral chars and slashes."""
    pools = [
        "abcdefXYZ0123456789-_.",
        " !\"#$%&'()*+,/:;<=>?@[\\]^`{|}~",
        "äöüßéèñçøåÆŒ",
        "日本語中文字한국어",
        "русскийελληνικάעבריתالعربية",
        "😀🚀🧪🏳️‍🌈\U0001d518\U0001d52b\U0001d526",  # emoji, ZWJ, math letters
        "\u0301\u200d\ufeff\u00a0\t\n\x7f",
    ]
    chars: list[str] = []
    for _ in range(rng.randint(1, 48)):
        if rng.random() < 0.15:
            # Any scalar value except surrogates (which cannot be UTF-8 encoded at all).
            cp = rng.randint(1, 0x10FFFF)
            while 0xD800 <= cp <= 0xDFFF:
                cp = rng.randint(1, 0x10FFFF)
            chars.append(chr(cp))
        else:
            chars.append(rng.choice(rng.choice(pools)))
    return "".join(chars)


@pytest.mark.parametrize("key", SPECIAL_KEYS)
@pytest.mark.parametrize("session_token", [None, SESSION_TOKEN])
def test_special_keys_match_botocore(
    botocore_presign: BotocoreSigner, key: str, session_token: str | None
) -> None:
    for expires_in in EXPIRIES:
        expected = botocore_presign(BUCKET, key, expires_in, NOW, session_token=session_token)
        assert _ours(BUCKET, key, expires_in, NOW, session_token=session_token) == expected


@pytest.mark.parametrize("endpoint_url", ENDPOINTS)
@pytest.mark.parametrize("session_token", [None, SESSION_TOKEN])
def test_endpoints_match_botocore(
    botocore_presign: BotocoreSigner, endpoint_url: str, session_token: str | None
) -> None:
    for key in ["photo.jpg", "dir/with space/ü.png", "/lead//dbl"]:
        expected = botocore_presign(
            BUCKET, key, 3600, NOW, endpoint_url=endpoint_url, session_token=session_token
        )
        ours = _ours(BUCKET, key, 3600, NOW, endpoint_url=endpoint_url, session_token=session_token)
        assert ours == expected


def test_random_unicode_keys_match_botocore(botocore_presign: BotocoreSigner) -> None:
    rng = random.Random(20240506)
    signers = {
        token: Presigner(
            endpoint_url=ENDPOINT,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            session_token=token,
        )
        for token in (None, SESSION_TOKEN)
    }
    for i in range(400):
        key = _random_key(rng)
        token = SESSION_TOKEN if i % 2 else None
        expires_in = rng.choice(EXPIRIES)
        expected = botocore_presign(BUCKET, key, expires_in, NOW, session_token=token)
        assert signers[token].presign_get(BUCKET, key, expires_in, NOW) == expected, repr(key)


@pytest.mark.parametrize(
    ("bucket", "region", "access_key", "session_token"),
    [
        ("my.bucket-name_1", "us-east-1", ACCESS_KEY, None),
        ("x" * 63, "eu-central-1", ACCESS_KEY, SESSION_TOKEN),
        ("assets", "ap-southeast-2", "minio/admin+key=1", None),
        ("assets", "us-east-1", ACCESS_KEY, ""),
    ],
)
def test_bucket_region_credentials_match_botocore(
    botocore_presign: BotocoreSigner,
    bucket: str,
    region: str,
    access_key: str,
    session_token: str | None,
) -> None:
    kwargs: dict[str, Any] = {
        "region": region,
        "access_key": access_key,
        "session_token": session_token,
    }
    expected = botocore_presign(bucket, "k/ey 1", 3600, NOW, **kwargs)
    assert _ours(bucket, "k/ey 1", 3600, NOW, **kwargs) == expected


@pytest.mark.parametrize(
    "now",
    [
        datetime.datetime(2024, 2, 29, 12, 0, 0),
        datetime.datetime(2024, 5, 6, 7, 8, 9, 999_999),
        datetime.datetime(1999, 12, 31, 23, 59, 59),
        datetime.datetime(2038, 1, 19, 3, 14, 8),
        datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC),
        datetime.datetime(2024, 5, 7, 1, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        datetime.datetime(
            2024, 5, 6, 20, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))
        ),
    ],
)
def test_instants_match_botocore(botocore_presign: BotocoreSigner, now: datetime.datetime) -> None:
    expected = botocore_presign(BUCKET, "a b.jpg", 3600, now, session_token=SESSION_TOKEN)
    assert _ours(BUCKET, "a b.jpg", 3600, now, session_token=SESSION_TOKEN) == expected


def test_aware_now_is_converted_to_utc() -> None:
    local = datetime.datetime(
        2024, 5, 7, 1, 30, 15, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )
    url = _ours(BUCKET, "k", 60, local)
    assert ("X-Amz-Date", "20240506T233015Z") in _query(url)
    assert url == _ours(BUCKET, "k", 60, datetime.datetime(2024, 5, 6, 23, 30, 15))


def test_query_parameter_order_and_encoding() -> None:
    url = _ours(BUCKET, "dir/a b+c.jpg", 900, NOW, session_token=SESSION_TOKEN)
    head, _, query = url.partition("?")
    assert head == f"{ENDPOINT}/{BUCKET}/dir/a%20b%2Bc.jpg"
    names = [pair.split("=", 1)[0] for pair in query.split("&")]
    # botocore appends the token after SignedHeaders in the URL even though the signed
    # (sorted) canonical query places it before; the signature always comes last.
    assert names == [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
    ]
    params = dict(_query(url))
    assert params["X-Amz-Credential"] == f"{ACCESS_KEY}/20240506/us-east-1/s3/aws4_request"
    assert params["X-Amz-Security-Token"] == SESSION_TOKEN
    assert params["X-Amz-Expires"] == "900"
    assert "X-Amz-Security-Token=FwoGZXIvYXdzEJr%2F%2F" in query


def test_signature_depends_on_every_input() -> None:
    base = _ours(BUCKET, "k", 3600, NOW)
    variants = [
        _ours(BUCKET, "k2", 3600, NOW),
        _ours("other", "k", 3600, NOW),
        _ours(BUCKET, "k", 3601, NOW),
        _ours(BUCKET, "k", 3600, NOW + datetime.timedelta(seconds=1)),
        _ours(BUCKET, "k", 3600, NOW, region="eu-west-1"),
        _ours(BUCKET, "k", 3600, NOW, session_token="t"),
        _ours(BUCKET, "k", 3600, NOW, endpoint_url="http://minio:9001"),
    ]
    signature = dict(_query(base))["X-Amz-Signature"]
    assert len(signature) == 64
    assert all(dict(_query(v))["X-Amz-Signature"] != signature for v in variants)


def test_signing_key_reused_within_a_day_and_recomputed_on_date_change(
    botocore_presign: BotocoreSigner,
) -> None:
    signer = Presigner(endpoint_url=ENDPOINT, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    day1 = datetime.datetime(2024, 5, 6, 0, 0, 0)
    day2 = datetime.datetime(2024, 5, 7, 0, 0, 1)
    with mock.patch.object(
        presign, "derive_signing_key", wraps=presign.derive_signing_key
    ) as derive:
        for offset in (0, 1, 3600, 86399):
            now = day1 + datetime.timedelta(seconds=offset)
            url = signer.presign_get(BUCKET, f"k{offset}", 60, now)
            assert url == botocore_presign(BUCKET, f"k{offset}", 60, now)
        assert derive.call_count == 1
        assert derive.call_args.args[1:3] == ("20240506", "us-east-1")

        for offset in (0, 5, 7200):
            now = day2 + datetime.timedelta(seconds=offset)
            url = signer.presign_get(BUCKET, "k", 60, now)
            assert url == botocore_presign(BUCKET, "k", 60, now)
        assert derive.call_count == 2
        assert derive.call_args.args[1:3] == ("20240507", "us-east-1")


@pytest.mark.parametrize(
    ("before", "after", "day_before", "day_after"),
    [
        (
            datetime.datetime(2024, 2, 29, 23, 59, 59, 999_999),
            datetime.datetime(2024, 3, 1),
            "20240229",
            "20240301",
        ),
        (
            datetime.datetime(2023, 12, 31, 23, 59, 59),
            datetime.datetime(2024, 1, 1),
            "20231231",
            "20240101",
        ),
    ],
)
def test_url_date_rolls_over_at_midnight(
    botocore_presign: BotocoreSigner,
    before: datetime.datetime,
    after: datetime.datetime,
    day_before: str,
    day_after: str,
) -> None:
    signer = Presigner(
        endpoint_url=ENDPOINT,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        session_token=SESSION_TOKEN,
    )
    url_before = signer.presign_get(BUCKET, "img.png", 3600, before)
    url_after = signer.presign_get(BUCKET, "img.png", 3600, after)
    q_before, q_after = dict(_query(url_before)), dict(_query(url_after))
    assert q_before["X-Amz-Date"] == f"{day_before}T235959Z"
    assert q_before["X-Amz-Credential"] == f"{ACCESS_KEY}/{day_before}/us-east-1/s3/aws4_request"
    assert q_after["X-Amz-Date"] == f"{day_after}T000000Z"
    assert q_after["X-Amz-Credential"] == f"{ACCESS_KEY}/{day_after}/us-east-1/s3/aws4_request"
    assert url_before == botocore_presign(
        BUCKET, "img.png", 3600, before, session_token=SESSION_TOKEN
    )
    assert url_after == botocore_presign(
        BUCKET, "img.png", 3600, after, session_token=SESSION_TOKEN
    )
    # Going back to the previous day (e.g. a caller passing an older `now`) still signs right.
    assert signer.presign_get(BUCKET, "img.png", 3600, before) == url_before


def test_default_now_uses_current_utc_time() -> None:
    assert time.localtime().tm_gmtoff == 9 * 3600 + 1800
    signer = Presigner(endpoint_url=ENDPOINT, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    start = int(time.time())
    url = signer.presign_get(BUCKET, "k")
    end = int(time.time())
    stamp = dict(_query(url))["X-Amz-Date"]
    signed_at = int(
        datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC).timestamp()
    )
    assert start <= signed_at <= end
    # The URL is exactly what an explicit `now` at that second produces.
    explicit = datetime.datetime.fromtimestamp(signed_at, datetime.UTC)
    assert url == signer.presign_get(BUCKET, "k", 3600, explicit)


def test_derive_signing_key_matches_aws_documented_example() -> None:
    # Example from the AWS SigV4 docs ("Examples of how to derive a signing key").
    key = derive_signing_key(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam"
    )
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_many_buckets_stay_correct_past_the_path_cache_bound() -> None:
    signer = Presigner(endpoint_url=ENDPOINT, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    urls = {f"b-{i}": signer.presign_get(f"b-{i}", "k", 60, NOW) for i in range(1500)}
    for bucket in ("b-0", "b-1023", "b-1024", "b-1499"):
        assert urls[bucket] == _ours(bucket, "k", 60, NOW)
        assert urls[bucket].startswith(f"{ENDPOINT}/{bucket}/k?")


@pytest.mark.parametrize("bucket", ["", "bad/bucket", "spa ce", "bkt\n", "ü", "x" * 256])
def test_invalid_bucket_rejected_like_botocore(
    botocore_presign: BotocoreSigner, bucket: str
) -> None:
    with pytest.raises(ValueError, match="bucket"):
        _ours(bucket, "k", 60, NOW)
    if bucket != "bkt\n":  # botocore's `$` anchor lets one trailing newline through
        with pytest.raises(botocore.exceptions.ParamValidationError):
            botocore_presign(bucket, "k", 60, NOW)


def test_empty_key_rejected_like_botocore(botocore_presign: BotocoreSigner) -> None:
    with pytest.raises(ValueError, match="key"):
        _ours(BUCKET, "", 60, NOW)
    with pytest.raises(botocore.exceptions.ParamValidationError):
        botocore_presign(BUCKET, "", 60, NOW)


@pytest.mark.parametrize("expires_in", [0, -1, 604801, True])
def test_out_of_range_expiry_rejected(expires_in: int) -> None:
    with pytest.raises(ValueError, match="expires_in"):
        _ours(BUCKET, "k", expires_in, NOW)


@pytest.mark.parametrize(
    "endpoint_url",
    [
        "minio:9000",
        "ftp://minio",
        "http://",
        "http://minio:9000?x=1",
        "http://minio#frag",
        "http://minio:port",
    ],
)
def test_invalid_endpoint_rejected(endpoint_url: str) -> None:
    with pytest.raises(ValueError):
        Presigner(endpoint_url=endpoint_url, access_key=ACCESS_KEY, secret_key=SECRET_KEY)


def test_lone_surrogate_key_fails_like_botocore(botocore_presign: BotocoreSigner) -> None:
    with pytest.raises(UnicodeEncodeError):
        _ours(BUCKET, "bad\udc80", 60, NOW)
    with pytest.raises(UnicodeEncodeError):
        botocore_presign(BUCKET, "bad\udc80", 60, NOW)


def test_stable_signer_gives_one_url_per_period_valid_for_at_least_the_expiry(
    botocore_presign: BotocoreSigner,
) -> None:
    signer = Presigner(endpoint_url=ENDPOINT, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    hour = 3600
    start = datetime.datetime(2024, 5, 6, 7, 0, 0)
    epoch = int(start.replace(tzinfo=datetime.UTC).timestamp())
    with mock.patch.object(presign.time, "time", return_value=epoch + 10):
        first = signer.stable_signer(86_400, hour)(BUCKET, "thumbs/a.webp")
    with mock.patch.object(presign.time, "time", return_value=epoch + hour - 1):
        again = signer.stable_signer(86_400, hour)(BUCKET, "thumbs/a.webp")
        other = signer.stable_signer(86_400, hour)(BUCKET, "thumbs/b.webp")
        # The current second's own signer is untouched by the stable one's past instant.
        now_url = signer.presign_get(BUCKET, "k", 60)
    with mock.patch.object(presign.time, "time", return_value=epoch + hour):
        next_period = signer.stable_signer(86_400, hour)(BUCKET, "thumbs/a.webp")
    assert first == again != next_period and other != first
    query = dict(_query(first))
    assert query["X-Amz-Date"] == "20240506T070000Z"
    assert query["X-Amz-Expires"] == str(86_400 + hour)  # valid ≥ 24 h whenever it was handed out
    assert first == botocore_presign(BUCKET, "thumbs/a.webp", 86_400 + hour, start)
    assert dict(_query(now_url))["X-Amz-Date"] == "20240506T075959Z"
    assert dict(_query(next_period))["X-Amz-Date"] == "20240506T080000Z"


@pytest.mark.parametrize("period", [0, -1, 7, 7 * 3600])
def test_stable_signer_period_must_divide_a_day(period: int) -> None:
    signer = Presigner(endpoint_url=ENDPOINT, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    with pytest.raises(ValueError, match="divide a day"):
        signer.stable_signer(3600, period)
