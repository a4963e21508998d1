"""Listing filters: validation and the index-shaped queries they build."""

import pytest

from assetflow.common.errors import InvalidRequestError
from assetflow.common.filters import ListingFilter, scope_of

BASE = {"dataset_id": "d", "deleted": False}


def test_no_filter_is_the_plain_listing_prefix() -> None:
    assert ListingFilter.parse().query_parts("d") == ([BASE], False)


def test_tags_are_normalised_and_one_tag_is_an_equality() -> None:
    listing = ListingFilter.parse(tags=" Cat ,cat")
    assert listing.tags == ("cat",)
    assert listing.query_parts("d") == ([BASE | {"tags": "cat"}], False)


def test_all_reads_the_first_tags_range_and_checks_the_others() -> None:
    listing = ListingFilter.parse(tags="dog,cat", match="all")
    assert listing.query_parts("d") == ([BASE | {"tags": "cat"}], True)
    assert listing.residual_match({"tags": ["cat", "dog", "x"]})
    assert not listing.residual_match({"tags": ["cat"]})


def test_any_is_one_bounded_branch_per_tag() -> None:
    listing = ListingFilter.parse(tags="dog,cat", match="any")
    assert listing.query_parts("d") == ([BASE | {"tags": "cat"}, BASE | {"tags": "dog"}], False)


def test_untagged_matches_the_empty_array_entry() -> None:
    assert ListingFilter.parse(untagged=True).query_parts("d") == ([BASE | {"tags": []}], False)


def test_tags_lead_and_folder_and_status_are_checked_on_their_rows() -> None:
    listing = ListingFilter.parse(folder="/a/b/", status="ready", tags="x")
    assert listing.query_parts("d") == ([BASE | {"tags": "x"}], True)
    assert listing.residual_match({"folder": "a/b", "status": "ready", "tags": ["x"]})
    assert not listing.residual_match({"folder": "a", "status": "ready", "tags": ["x"]})
    assert not listing.residual_match({"folder": "a/b", "status": "pending", "tags": ["x"]})


def test_folder_leads_without_tags_and_status_is_residual() -> None:
    listing = ListingFilter.parse(folder="a", status="ready")
    assert listing.query_parts("d") == ([BASE | {"folder": "a"}], True)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"tags": "a,,b"}, "empty"),
        ({"tags": "x" * 65}, "longer than 64"),
        ({"tags": "a", "untagged": True}, "cannot be combined"),
    ],
)
def test_bad_filters_are_400s_saying_why(kwargs: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidRequestError, match=reason):
        ListingFilter.parse(**kwargs)  # type: ignore[arg-type]


def test_each_filter_has_its_own_cursor_scope() -> None:
    scopes = {
        scope_of("d", ListingFilter.parse(tags="a")),
        scope_of("d", ListingFilter.parse(tags="a,b", match="any")),
        scope_of("d", ListingFilter.parse(tags="a,b")),
        scope_of("d", ListingFilter.parse(untagged=True)),
        scope_of("d", ListingFilter.parse()),
    }
    assert len(scopes) == 5
