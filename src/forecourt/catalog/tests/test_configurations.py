"""Saving configurations: share codes, snapshots of the quote, and immutability under new prices."""

import pytest
from django.utils import translation

from forecourt.catalog.models import SavedConfiguration, Trim
from forecourt.catalog.selectors import configuration_get, configuration_view
from forecourt.catalog.services import configuration_save, price_list_publish
from forecourt.catalog.tests.factories import draft_with_changes
from forecourt.core.errors import DomainError, NotFound
from forecourt.core.identifiers import CODE_ALPHABET
from forecourt.core.models import Event

pytestmark = pytest.mark.django_db


def test_saving_keeps_lines_total_and_version_as_quoted(catalogue):
    saved = configuration_save(
        trim_code="aurora-pro", option_codes=["red", "tan-int", "wheels-20", "comfort"]
    )

    saved.refresh_from_db()
    assert saved.option_codes == ["comfort", "red", "tan-int", "wheels-20"]
    assert saved.lines == [
        {
            "code": "aurora-pro",
            "name": "极光 高性能版",
            "name_en": "Aurora Performance",
            "kind": "trim",
            "basis": "base",
            "package": "",
            "price_fen": 26_990_000,
        },
        {
            "code": "red",
            "name": "丹霞红",
            "name_en": "Danxia Red",
            "kind": "paint",
            "basis": "chosen",
            "package": "",
            "price_fen": 800_000,
        },
        {
            "code": "tan-int",
            "name": "棕色内饰",
            "name_en": "Tan interior",
            "kind": "interior",
            "basis": "chosen",
            "package": "",
            "price_fen": 500_000,
        },
        {
            "code": "wheels-20",
            "name": "20 英寸轮毂",
            "name_en": "20-inch wheels",
            "kind": "wheels",
            "basis": "chosen",
            "package": "",
            "price_fen": 600_000,
        },
        {
            "code": "comfort",
            "name": "舒适包",
            "name_en": "Comfort package",
            "kind": "package",
            "basis": "chosen",
            "package": "",
            "price_fen": 1_200_000,
        },
        {
            "code": "heated-seats",
            "name": "座椅加热",
            "name_en": "Heated seats",
            "kind": "option",
            "basis": "included",
            "package": "comfort",
            "price_fen": 0,
        },
        {
            "code": "heat-pump",
            "name": "热泵空调",
            "name_en": "Heat pump",
            "kind": "option",
            "basis": "standard",
            "package": "",
            "price_fen": 0,
        },
    ]
    assert (saved.total_fen, saved.currency, saved.price_list_version) == (30_090_000, "CNY", 1)
    event = Event.objects.get(name="catalog.configuration_saved")
    assert (event.subject_type, event.subject_id, event.payload) == (
        "configuration",
        saved.share_code,
        {
            "trim": "aurora-pro",
            "model": "aurora",
            "options": ["comfort", "red", "tan-int", "wheels-20"],
            "total_fen": 30_090_000,
            "price_list_version": 1,
        },
    )


def test_share_codes_are_unguessable_and_distinct(catalogue, base_choices):
    codes = {
        configuration_save(trim_code="aurora-std", option_codes=base_choices).share_code for _ in range(20)
    }

    assert len(codes) == 20
    assert all(len(code) == 12 and set(code) <= set(CODE_ALPHABET) for code in codes)


def test_invalid_configuration_is_refused_with_its_breaks(catalogue):
    with pytest.raises(DomainError) as refused, translation.override("en"):
        configuration_save(trim_code="aurora-std", option_codes=["white", "black-int", "wheels-18", "ghost"])

    assert (refused.value.code, refused.value.status) == ("invalid_configuration", 422)
    assert refused.value.details == [
        {"code": "unknown_option", "message": "“ghost” is not an option we offer.", "options": ["ghost"]}
    ]
    assert not SavedConfiguration.objects.exists()


def test_saving_reads_fresh_prices_even_when_a_quote_was_cached(catalogue, base_choices, settings):
    from forecourt.catalog.selectors import configuration_quote

    settings.CATALOG_CACHE_SECONDS = 60
    configuration_quote(trim_code="aurora-std", option_codes=base_choices)
    # A bulk update sends no signal, like a change made by another process: the cache cannot know.
    catalogue.price_list.items.filter(trim__code="aurora-std").update(price_fen=23_000_000)

    saved = configuration_save(trim_code="aurora-std", option_codes=base_choices)

    assert saved.total_fen == 23_000_000


def test_saved_quote_is_unchanged_after_a_new_price_list_and_today_s_is_beside_it(catalogue):
    saved = configuration_save(
        trim_code="aurora-std", option_codes=["red", "black-int", "wheels-18", "pilot"]
    )
    before = configuration_view(share_code=saved.share_code)
    assert before.current is None

    price_list_publish(
        price_list=draft_with_changes(catalogue, version=2, changes={"pilot": 28_000}), actor=None
    )
    after = configuration_view(share_code=saved.share_code)

    assert after.saved == before.saved
    assert after.saved.total.amount == 22_990_000 + 800_000 + 2_500_000
    assert after.current is not None
    assert (after.current.total.amount, after.current.price_list_version) == (
        22_990_000 + 800_000 + 2_800_000,
        2,
    )
    saved.refresh_from_db()
    assert (saved.total_fen, saved.price_list_version) == (26_290_000, 1)


def test_a_new_list_that_does_not_touch_these_prices_shows_no_current_quote(catalogue, base_choices):
    saved = configuration_save(trim_code="aurora-std", option_codes=base_choices)
    price_list_publish(
        price_list=draft_with_changes(catalogue, version=2, changes={"red": 9_000}), actor=None
    )

    view = configuration_view(share_code=saved.share_code)

    assert (view.current, view.no_longer_offered) == (None, False)


def test_a_trim_taken_off_sale_still_shows_the_saved_quote(catalogue, base_choices):
    saved = configuration_save(trim_code="aurora-std", option_codes=base_choices)
    price_list_publish(price_list=draft_with_changes(catalogue, version=2, changes={}), actor=None)
    Trim.objects.filter(code="aurora-std").update(is_active=False)

    view = configuration_view(share_code=saved.share_code)

    assert (view.saved.total.amount, view.current, view.no_longer_offered) == (22_990_000, None, True)


def test_rules_changed_since_saving_show_today_s_breaks(catalogue, base_choices):
    from forecourt.catalog.models import OptionRule

    saved = configuration_save(trim_code="aurora-std", option_codes=[*base_choices, "hud"])
    price_list_publish(price_list=draft_with_changes(catalogue, version=2, changes={}), actor=None)
    OptionRule.objects.create(
        option=catalogue.options["hud"], kind="requires", other=catalogue.options["comfort"]
    )

    view = configuration_view(share_code=saved.share_code)

    assert view.saved.valid is True
    assert view.current is not None
    assert [error.code for error in view.current.errors] == ["requires"]


def test_share_codes_are_read_forgivingly_and_unknown_ones_are_not_found(catalogue, base_choices):
    saved = configuration_save(trim_code="aurora-std", option_codes=base_choices)
    typed = "-".join([saved.share_code[:4].lower(), saved.share_code[4:]])

    assert configuration_get(typed) == saved
    with pytest.raises(NotFound):
        configuration_get("0000-0000-0000")
