"""Listing filters: validation and the index-shaped queries they build."""

import pytest

from assetflow.contracts.errors import InvalidRequestError
from assetflow.readmodel.filters import ListingFilter, scope_of

BASE = {"dataset_id": "d", "deleted": False}


def test_no_filter_is_the_plain_listing_prefix() -> None:
    listing = ListingFilter.parse()
    assert (listing.query("d"), listing.index()) == (BASE, "listing")


def test_tags_are_normalised_and_one_tag_is_an_equality() -> None:
    listing = ListingFilter.parse(tags=" Cat ,cat")
    assert listing.tags == ("cat",)
    assert (listing.query("d"), listing.index()) == (BASE | {"tags": "cat"}, "listing_by_tag")


def test_all_and_any_are_one_condition_on_the_tag_index() -> None:
    every = ListingFilter.parse(tags="dog,cat", match="all")
    some = ListingFilter.parse(tags="dog,cat", match="any")
    assert every.query("d") == BASE | {"tags": {"$all": ["cat", "dog"]}}
    assert some.query("d") == BASE | {"tags": {"$in": ["cat", "dog"]}}
    assert every.index() == some.index() == "listing_by_tag"


def test_untagged_matches_the_empty_array_entry() -> None:
    assert ListingFilter.parse(untagged=True).query("d") == BASE | {"tags": []}


def test_tags_lead_and_folder_and_status_are_further_conditions() -> None:
    listing = ListingFilter.parse(folder="/a/b/", status="ready", tags="x")
    assert listing.query("d") == BASE | {"tags": "x", "folder": "a/b", "status": "ready"}
    assert listing.index() == "listing_by_tag"


def test_folder_leads_without_tags_then_status() -> None:
    assert ListingFilter.parse(folder="a", status="ready").index() == "listing_by_folder"
    assert ListingFilter.parse(status="ready").index() == "listing_by_status"


def test_matches_agrees_with_the_query() -> None:
    listing = ListingFilter.parse(folder="a/b", status="ready", tags="x,y", match="all")
    assert listing.matches({"folder": "a/b", "status": "ready", "tags": ["y", "x", "z"]})
    assert not listing.matches({"folder": "a/b", "status": "ready", "tags": ["x"]})
    assert not listing.matches({"folder": "a", "status": "ready", "tags": ["x", "y"]})
    assert not listing.matches({"folder": "a/b", "status": "pending", "tags": ["x", "y"]})


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
