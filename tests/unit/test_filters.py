"""Listing filters: validation and the index-shaped queries they build."""

import pytest

from assetflow.api.filters import ListingFilter, scope_of
from assetflow.common.errors import InvalidRequestError

BASE = {"dataset_id": "d", "deleted": False}


def test_no_filter_is_the_plain_listing_prefix() -> None:
    assert ListingFilter.parse().query_parts("d") == ([BASE], {})


def test_tags_are_normalised_and_one_tag_is_an_equality() -> None:
    listing = ListingFilter.parse(tags=" Cat ,cat")
    assert listing.tags == ("cat",)
    assert listing.query_parts("d") == ([BASE | {"tags": "cat"}], {})


def test_all_is_one_all_query() -> None:
    prefixes, _ = ListingFilter.parse(tags="dog,cat", match="all").query_parts("d")
    assert prefixes == [BASE | {"tags": {"$all": ["cat", "dog"]}}]


def test_any_is_one_bounded_branch_per_tag() -> None:
    prefixes, _ = ListingFilter.parse(tags="dog,cat", match="any").query_parts("d")
    assert prefixes == [BASE | {"tags": "cat"}, BASE | {"tags": "dog"}]


def test_untagged_matches_the_empty_array_entry() -> None:
    assert ListingFilter.parse(untagged=True).query_parts("d") == ([BASE | {"tags": []}], {})


def test_tags_lead_and_folder_and_status_are_checked_on_their_rows() -> None:
    listing = ListingFilter.parse(folder="/a/b/", status="ready", tags="x")
    assert listing.query_parts("d") == (
        [BASE | {"tags": "x"}],
        {"folder": "a/b", "status": "ready"},
    )


def test_folder_leads_without_tags_and_status_is_residual() -> None:
    listing = ListingFilter.parse(folder="a", status="ready")
    assert listing.query_parts("d") == ([BASE | {"folder": "a"}], {"status": "ready"})


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
