"""Prices in templates: fen and Money values formatted for the active language, never an error."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation

from forecourt.core.money import Money


def render(source: str, **context: object) -> str:
    return Template(source).render(Context(context))


@pytest.mark.parametrize(
    ("fen", "shown"),
    [(26_880_000, "¥268,800"), (9_950, "¥99.50"), ("500000", "¥5,000"), (0, "¥0"), (-1_000_00, "-¥1,000")],
)
def test_yuan_formats_an_amount_of_fen(fen: object, shown: str) -> None:
    with translation.override("zh-hans"):
        assert render("{% load money %}{{ fen|yuan }}", fen=fen) == shown


@pytest.mark.parametrize("value", [None, "", "12.5", "abc", 1.5, True, object()])
def test_yuan_renders_nothing_for_what_is_not_a_whole_number_of_fen(value: object) -> None:
    assert render("{% load money %}[{{ value|yuan }}]", value=value) == "[]"


def test_money_formats_a_money_value_and_an_api_style_dict() -> None:
    with translation.override("en"):
        shown = render(
            "{% load money %}{{ price|money }} {{ api|money }} [{{ broken|money }}]",
            price=Money(31_990_000),
            api={"amount": 150_000, "currency": "CNY"},
            broken={"amount": "x", "currency": "CNY"},
        )

    assert shown == "¥319,900 ¥1,500 []"


def test_money_formats_as_the_money_type_does_for_the_active_language() -> None:
    price = Money(12_345_678)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert render("{% load money %}{{ price|money }}", price=price) == price.format(language)


def test_forecourt_library_offers_the_same_filters_and_an_optional_url() -> None:
    shown = render(
        "{% load forecourt %}{{ fen|yuan }} {{ price|money }} "
        "{% optional_url 'web:home' as home %}[{{ home }}] "
        "{% optional_url 'nowhere:at-all' as missing %}[{{ missing }}]",
        fen=100,
        price=Money(200),
    )

    assert shown == "¥1 ¥2 [/] []"
