"""Dataset quota arithmetic: what an upload adds, which limits it passes, ratios: pure."""

import math

import pytest

from assetflow.domain.quotas import Quota, Usage, quota_of, upload_adds, usage_of
from assetflow.readmodel import datasets

MIB = 1024 * 1024


def test_a_new_path_adds_one_image_and_an_overwrite_only_the_size_difference() -> None:
    assert upload_adds(3 * MIB, None) == Usage(3 * MIB, 1)
    assert upload_adds(3 * MIB, 2 * MIB) == Usage(MIB, 0)
    assert upload_adds(MIB, 2 * MIB) == Usage(-MIB, 0)
    assert upload_adds(0, None) == Usage(0, 1)


@pytest.mark.parametrize(
    ("quota", "usage", "added", "exceeded"),
    [
        (Quota(), Usage(10**12, 10**6), Usage(MIB, 1), []),  # unlimited
        (Quota(max_bytes=10 * MIB), Usage(9 * MIB, 5), Usage(MIB, 1), []),  # exactly full
        (Quota(max_bytes=10 * MIB), Usage(9 * MIB, 5), Usage(MIB + 1, 1), ["bytes"]),
        (Quota(max_images=5), Usage(MIB, 4), Usage(MIB, 1), []),
        (Quota(max_images=5), Usage(MIB, 5), Usage(0, 1), ["images"]),  # an empty file counts
        (Quota(10 * MIB, 5), Usage(10 * MIB, 5), Usage(1, 1), ["bytes", "images"]),
        # An overwrite adds no image, and a same-size or smaller one no bytes: allowed even
        # in a dataset already over both limits, since it makes nothing worse.
        (Quota(10 * MIB, 5), Usage(20 * MIB, 9), Usage(0, 0), []),
        (Quota(10 * MIB, 5), Usage(20 * MIB, 9), Usage(-MIB, 0), []),
        (Quota(10 * MIB, 5), Usage(20 * MIB, 9), Usage(1, 0), ["bytes"]),
        (Quota(max_bytes=0, max_images=0), Usage(), Usage(0, 1), ["images"]),
        (Quota(max_bytes=0, max_images=0), Usage(), Usage(1, 1), ["bytes", "images"]),
    ],
)
def test_exceeded_names_exactly_the_limits_the_upload_would_pass(
    quota: Quota, usage: Usage, added: Usage, exceeded: list[str]
) -> None:
    assert quota.exceeded_by(usage, added) == exceeded


def test_remaining_is_the_room_left_never_negative_and_none_when_unlimited() -> None:
    assert Quota().remaining(Usage(5, 5)) == {"bytes": None, "images": None}
    assert Quota(100, 10).remaining(Usage(40, 3)) == {"bytes": 60, "images": 7}
    assert Quota(100, None).remaining(Usage(140, 3)) == {"bytes": 0, "images": None}


def test_ratios_cover_only_the_limits_set_and_a_zero_limit_in_use_is_infinitely_over() -> None:
    assert Quota().ratios(Usage(5, 5)) == {}
    assert Quota(200, None).ratios(Usage(250, 3)) == {"bytes": 1.25}
    assert Quota(200, 4).ratios(Usage(100, 1)) == {"bytes": 0.5, "images": 0.25}
    assert Quota(0, 0).ratios(Usage(0, 0)) == {"bytes": 0.0, "images": 0.0}
    assert Quota(0, 0).ratios(Usage(1, 1)) == {"bytes": math.inf, "images": math.inf}


def test_the_dataset_document_holds_the_quota_beside_the_counters() -> None:
    doc = {
        datasets.F.IMAGES: 7,
        datasets.F.BYTES: 700,
        datasets.F.QUOTA: {datasets.Q.MAX_IMAGES: 5},
    }
    assert quota_of(doc) == Quota(max_images=5)
    assert usage_of(doc) == Usage(700, 7)
    assert quota_of({}) == Quota() and usage_of({}) == Usage()


def test_a_quota_update_stores_only_the_limits_set_and_none_removes_it() -> None:
    assert datasets.quota_update(100, None) == {"$set": {"quota": {"max_bytes": 100}}}
    assert datasets.quota_update(0, 3) == {"$set": {"quota": {"max_bytes": 0, "max_images": 3}}}
    assert datasets.quota_update(None, None) == {"$unset": {"quota": ""}}
