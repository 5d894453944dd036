"""Publishing the national price list: explicit, audited, recorded, complete, one in effect at a time."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from forecourt.catalog.models import PriceList, PriceListItem, PriceListStatus
from forecourt.catalog.selectors import configuration_quote, price_list_current
from forecourt.catalog.services import price_list_draft_copy, price_list_publish
from forecourt.catalog.tests.factories import (
    PriceListFactory,
    TrimFactory,
    build_catalogue,
    draft_with_changes,
)
from forecourt.core.clock import frozen_at
from forecourt.core.errors import DomainError
from forecourt.core.models import AuditEntry, Event

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY_ONE = datetime(2025, 3, 1, 9, 0, tzinfo=SHANGHAI)
pytestmark = pytest.mark.django_db


def version_at(moment: datetime | None = None) -> int | None:
    current = price_list_current(moment)
    return current.version if current else None


@pytest.fixture
def ops():
    return get_user_model().objects.create_user(username="ops-li", password="not-used-here", role="ops")


def test_publishing_puts_the_draft_into_effect_and_retires_the_previous_list(ops):
    with frozen_at(DAY_ONE):
        catalogue = build_catalogue(actor=ops)
    draft = draft_with_changes(catalogue, version=2, changes={"aurora-std": 232_900})

    with frozen_at(DAY_ONE + timedelta(days=30)):
        published = price_list_publish(price_list=draft, actor=ops)

    first = PriceList.objects.get(version=1)
    assert (published.status, published.effective_from, published.effective_to) == (
        PriceListStatus.PUBLISHED,
        DAY_ONE + timedelta(days=30),
        None,
    )
    assert (published.published_at, published.published_by) == (DAY_ONE + timedelta(days=30), ops)
    assert (first.status, first.effective_from, first.effective_to) == (
        PriceListStatus.RETIRED,
        DAY_ONE,
        DAY_ONE + timedelta(days=30),
    )


def test_publishing_is_audited_and_recorded_as_an_event(ops):
    with frozen_at(DAY_ONE):
        catalogue = build_catalogue(actor=ops)
    draft = draft_with_changes(catalogue, version=2, changes={})

    with frozen_at(DAY_ONE + timedelta(days=1)):
        price_list_publish(price_list=draft, actor=ops)

    audit = AuditEntry.objects.filter(action="catalog.price_list_published").order_by("at")
    assert [(entry.actor, entry.object_type, entry.object_id, entry.details) for entry in audit] == [
        (
            ops,
            "price_list",
            "1",
            {"version": 1, "previous_version": None, "effective_from": DAY_ONE.isoformat()},
        ),
        (
            ops,
            "price_list",
            "2",
            {
                "version": 2,
                "previous_version": 1,
                "effective_from": (DAY_ONE + timedelta(days=1)).isoformat(),
            },
        ),
    ]
    event = Event.objects.filter(name="catalog.price_list_published").latest("occurred_at")
    assert (event.subject_type, event.subject_id, event.actor, event.payload["previous_version"]) == (
        "price_list",
        "2",
        ops,
        1,
    )


def test_price_list_current_picks_the_list_in_effect_at_a_moment(ops):
    with frozen_at(DAY_ONE):
        catalogue = build_catalogue(actor=ops)
    draft = draft_with_changes(catalogue, version=2, changes={})
    with frozen_at(DAY_ONE + timedelta(days=10)):
        price_list_publish(price_list=draft, actor=ops)

    assert version_at(DAY_ONE - timedelta(seconds=1)) is None
    assert version_at(DAY_ONE) == 1
    assert version_at(DAY_ONE + timedelta(days=10) - timedelta(seconds=1)) == 1
    assert version_at(DAY_ONE + timedelta(days=10)) == 2
    assert version_at() == 2


def test_quotes_for_a_past_moment_use_that_moment_s_prices(ops):
    with frozen_at(DAY_ONE):
        catalogue = build_catalogue(actor=ops)
    draft = draft_with_changes(catalogue, version=2, changes={"aurora-std": 232_900})
    with frozen_at(DAY_ONE + timedelta(days=10)):
        price_list_publish(price_list=draft, actor=ops)
    choices = ["white", "black-int", "wheels-18"]

    then = configuration_quote(trim_code="aurora-std", option_codes=choices, at=DAY_ONE + timedelta(days=1))
    now = configuration_quote(trim_code="aurora-std", option_codes=choices)

    assert (then.price_list_version, then.total.amount) == (1, 22_990_000)
    assert (now.price_list_version, now.total.amount) == (2, 23_290_000)


def test_publishing_refuses_a_list_missing_prices_and_names_them(ops):
    catalogue = build_catalogue(actor=ops)
    TrimFactory.create(model=catalogue.model, code="aurora-new")
    draft = draft_with_changes(catalogue, version=2, changes={})
    PriceListItem.objects.filter(price_list=draft, option__code__in=["hud", "pilot"]).delete()

    with pytest.raises(DomainError) as refused:
        price_list_publish(price_list=draft, actor=ops)

    assert refused.value.code == "price_list_incomplete"
    assert refused.value.status == 422
    assert refused.value.details == {"trims": ["aurora-new"], "options": ["hud", "pilot"]}
    assert "aurora-new, hud, pilot" in refused.value.message
    draft.refresh_from_db()
    assert draft.status == PriceListStatus.DRAFT
    assert version_at() == 1
    assert not AuditEntry.objects.filter(action="catalog.price_list_published", object_id="2").exists()
    assert not Event.objects.filter(name="catalog.price_list_published", subject_id="2").exists()


def test_inactive_trims_and_standard_items_need_no_price(ops):
    catalogue = build_catalogue(actor=ops)
    TrimFactory.create(model=catalogue.model, code="aurora-old", is_active=False)
    draft = draft_with_changes(catalogue, version=2, changes={})
    # Standard items (white paint, black interior, 18-inch wheels) have no price in any list.

    assert price_list_publish(price_list=draft, actor=ops).status == PriceListStatus.PUBLISHED


def test_only_a_draft_can_be_published(ops):
    catalogue = build_catalogue(actor=ops)

    with pytest.raises(DomainError) as refused:
        price_list_publish(price_list=catalogue.price_list, actor=ops)

    assert (refused.value.code, refused.value.status) == ("price_list_not_draft", 409)
    assert AuditEntry.objects.filter(action="catalog.price_list_published").count() == 1


def test_the_database_refuses_two_published_lists_and_negative_prices(ops):
    catalogue = build_catalogue(actor=ops)

    with pytest.raises(IntegrityError), transaction.atomic():
        PriceList.objects.create(
            version=9, name="rogue", status="published", effective_from=DAY_ONE, published_at=DAY_ONE
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        PriceListItem.objects.create(price_list=PriceListFactory.create(), trim=catalogue.std, price_fen=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        PriceListItem.objects.create(price_list=catalogue.price_list, trim=catalogue.std, price_fen=100)


def test_a_draft_copy_carries_every_price_under_the_next_version(ops):
    catalogue = build_catalogue(actor=ops)

    draft = price_list_draft_copy(source=catalogue.price_list, actor=ops)

    assert (draft.version, draft.status) == (2, PriceListStatus.DRAFT)
    copied = {(item.trim_id, item.option_id, item.price_fen) for item in draft.items.all()}
    original = {(item.trim_id, item.option_id, item.price_fen) for item in catalogue.price_list.items.all()}
    assert copied == original
    assert AuditEntry.objects.filter(action="catalog.price_list_drafted", object_id="2").count() == 1


def test_publishing_takes_effect_for_quotes_at_once(ops, base_choices, settings):
    settings.CATALOG_CACHE_SECONDS = 60
    catalogue = build_catalogue(actor=ops)
    before = configuration_quote(trim_code="aurora-std", option_codes=base_choices)  # fills the cache
    draft = draft_with_changes(catalogue, version=2, changes={"aurora-std": 239_900})

    price_list_publish(price_list=draft, actor=ops)
    after = configuration_quote(trim_code="aurora-std", option_codes=base_choices)

    assert (before.price_list_version, before.total.amount) == (1, 22_990_000)
    assert (after.price_list_version, after.total.amount) == (2, 23_990_000)
