"""The quote path's snapshot: few queries to load, none when cached, invalidated by catalogue writes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forecourt.catalog.selectors import configuration_quote
from forecourt.catalog.snapshots import catalog_cache_clear, trim_snapshot_cached

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cache_on(settings):
    """Test settings may switch the cache off for other apps' tests; these tests are about it."""
    settings.CATALOG_CACHE_SECONDS = 60


def test_loading_a_snapshot_takes_a_handful_of_queries(catalogue, base_choices):
    with CaptureQueriesContext(connection) as loading:
        configuration_quote(trim_code="aurora-std", option_codes=base_choices)
    with CaptureQueriesContext(connection) as cached:
        configuration_quote(trim_code="aurora-std", option_codes=[*base_choices, "hud"])

    assert len(loading) <= 7
    assert len(cached) == 0


def test_a_catalogue_edit_in_this_process_is_seen_at_once(catalogue, base_choices):
    configuration_quote(trim_code="aurora-std", option_codes=base_choices)
    item = catalogue.price_list.items.get(trim__code="aurora-std")
    item.price_fen = 22_000_000
    item.save()

    assert configuration_quote(trim_code="aurora-std", option_codes=base_choices).total.amount == 22_000_000


def test_other_processes_changes_are_seen_after_the_cache_lifetime(catalogue, base_choices, settings):
    trim_snapshot_cached("aurora-std")
    # A bulk update sends no signal, like a change made by another process.
    catalogue.price_list.items.filter(trim__code="aurora-std").update(price_fen=21_000_000)
    still_cached = configuration_quote(trim_code="aurora-std", option_codes=base_choices)
    settings.CATALOG_CACHE_SECONDS = 0
    catalog_cache_clear()  # stands in for the lifetime running out
    trim_snapshot_cached("aurora-std")

    assert still_cached.total.amount == 22_990_000
    assert configuration_quote(trim_code="aurora-std", option_codes=base_choices).total.amount == 21_000_000


def test_model_pages_and_the_home_list_are_cached_with_the_snapshots(client, catalogue):
    from forecourt.catalog.selectors import models_for_home

    client.get("/models/aurora/")
    models_for_home()
    with CaptureQueriesContext(connection) as cached:
        page = client.get("/models/aurora/")
        cards = models_for_home()

    assert page.status_code == 200
    assert [card.code for card in cards] == ["aurora"]
    assert [query["sql"] for query in cached if "catalog_" in query["sql"]] == []


def test_unknown_trims_are_not_cached(catalogue):
    from forecourt.core.errors import NotFound

    with pytest.raises(NotFound):
        trim_snapshot_cached("nope")
    catalog_cache_clear()
    with pytest.raises(NotFound):
        trim_snapshot_cached("nope")
