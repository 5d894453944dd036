"""The demo catalogue: three realistic models, two price lists, saved quotes some of which predate v2."""

import random

import pytest

from forecourt.catalog.demo_data import seed
from forecourt.catalog.models import Option, PriceList, SavedConfiguration, Trim, VehicleModel
from forecourt.catalog.selectors import (
    configuration_quote,
    configuration_view,
    model_detail,
    price_list_current,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    seed(rng=random.Random(7))


def test_three_models_with_realistic_prices_a_limited_edition_and_two_price_lists(seeded):
    models = {model.code: model for model in VehicleModel.objects.all()}
    assert {(code, model.body_type) for code, model in models.items()} == {
        ("xinglan", "sedan"),
        ("yuefeng", "suv"),
        ("heyue", "mpv"),
    }
    assert models["xinglan"].powertrain == "bev"
    prices = {
        code: sorted(offer.price.amount // 100 for offer in model_detail(code).trims if offer.price)
        for code in models
    }
    assert prices == {
        "xinglan": [229_900, 269_900, 299_900],
        "yuefeng": [259_900, 299_900, 359_900],
        "heyue": [329_900, 429_900],
    }
    assert list(Trim.objects.filter(is_limited_edition=True).values_list("code", "limited_units")) == [
        ("xl-launch", 300)
    ]
    for prefix in ("xl-", "yf-", "hy-"):
        paints = Option.objects.filter(kind="paint", code__startswith=prefix)
        assert 5 <= paints.count() <= 7
        assert paints.filter(prices__price_list=price_list_current()).exists()
    first, second = PriceList.objects.order_by("version")
    assert (first.status, second.status) == ("retired", "published")
    assert first.effective_from and second.effective_from
    assert first.effective_to == second.effective_from
    assert (second.effective_from - first.effective_from).days == 46
    assert price_list_current() == second


def test_every_trim_has_a_valid_default_configuration_and_real_rules_hold(seeded):
    for model in VehicleModel.objects.all():
        for offer in model_detail(model.code).trims:
            assert configuration_quote(trim_code=offer.trim.code, option_codes=offer.defaults).valid, (
                offer.trim.code
            )
    yuefeng = configuration_quote(
        trim_code="yf-ultra",
        option_codes=["yf-paint-white", "yf-int-black", "yf-wheels-21", "yf-offroad", "yf-air-sport"],
    )
    xinglan = configuration_quote(
        trim_code="xl-long-range", option_codes=["xl-paint-white", "xl-int-black", "xl-wheels-19", "xl-audio"]
    )

    assert [(error.code, error.options) for error in yuefeng.errors] == [
        ("excludes", ("yf-tow-bar", "yf-air-sport"))
    ]
    assert [(error.code, error.options) for error in xinglan.errors] == [
        ("requires", ("xl-audio", "xl-comfort"))
    ]


def test_saved_quotes_include_some_from_v1_and_seeding_twice_changes_nothing(seeded):
    saved = list(SavedConfiguration.objects.all())
    versions = sorted({configuration.price_list_version for configuration in saved})

    assert len(saved) == 8
    assert versions == [1, 2]
    views = {c.share_code: configuration_view(share_code=c.share_code) for c in saved}
    assert all(views[c.share_code].current is None for c in saved if c.price_list_version == 2)
    repriced = [view for view in views.values() if view.current is not None]
    assert repriced
    assert all(view.current and view.current.total > view.saved.total for view in repriced)
    counts = (VehicleModel.objects.count(), Option.objects.count(), SavedConfiguration.objects.count())

    seed(rng=random.Random(8))

    assert (
        VehicleModel.objects.count(),
        Option.objects.count(),
        SavedConfiguration.objects.count(),
    ) == counts
