"""The rule engine on its own: no database, one snapshot, every rule kind."""

from dataclasses import replace

import pytest
from django.utils import translation

from forecourt.catalog.configurator import (
    OptionEntry,
    Quote,
    RuleBreak,
    RuleEntry,
    TrimSnapshot,
    quote,
    quote_from_record,
)
from forecourt.core.money import Money

OPTIONS = (
    OptionEntry("white", "paint", "初雪白", "Glacier White", "standard", None, swatch_hex="#F2F3EE"),
    OptionEntry("red", "paint", "丹霞红", "Danxia Red", "optional", 800_000, swatch_hex="#A4232C"),
    OptionEntry("black-int", "interior", "黑色内饰", "Black interior", "standard", None),
    OptionEntry("tan-int", "interior", "棕色内饰", "Tan interior", "optional", 500_000),
    OptionEntry("wheels-18", "wheels", "18 英寸轮毂", "18-inch wheels", "standard", None),
    OptionEntry("wheels-20", "wheels", "20 英寸轮毂", "20-inch wheels", "optional", 600_000),
    OptionEntry("heat-pump", "option", "热泵空调", "Heat pump", "standard", None),
    OptionEntry("hud", "option", "抬头显示", "Head-up display", "optional", 400_000),
    OptionEntry("heated-seats", "option", "座椅加热", "Heated seats", "optional", 200_000),
    OptionEntry("audio", "option", "高级音响", "Premium audio", "optional", 800_000),
    OptionEntry("tow-bar", "option", "拖车钩", "Tow bar", "optional", 500_000),
    OptionEntry("air-sport", "option", "运动调校", "Sport tune", "optional", 800_000),
    OptionEntry("unpriced", "option", "未定价", "Unpriced", "optional", None),
    OptionEntry("not-here", "option", "本版不提供", "Not on this trim", "unavailable", 100_000),
    OptionEntry(
        "comfort", "package", "舒适包", "Comfort package", "optional", 1_200_000, includes=("heated-seats",)
    ),
    OptionEntry(
        "pilot", "package", "智驾包", "Assisted driving pack", "optional", 2_500_000, includes=("hud",)
    ),
)
SNAPSHOT = TrimSnapshot(
    trim_code="aurora-std",
    trim_name="极光 标准版",
    trim_name_en="Aurora Standard",
    base_price_fen=22_990_000,
    price_list_version=3,
    options=OPTIONS,
    rules=(
        RuleEntry("requires", "audio", "comfort"),
        RuleEntry("excludes", "tow-bar", "air-sport"),
    ),
    catalogue={entry.code: (entry.name, entry.name_en) for entry in OPTIONS}
    | {"other-model-hud": ("外车型", "Elsewhere")},
)
BASE = ["white", "black-int", "wheels-18"]


@pytest.fixture(autouse=True)
def english():
    """Messages and names in English unless a test says otherwise (Chinese is checked separately)."""
    with translation.override("en"):
        yield


def codes_of(result: Quote) -> list[tuple[str, tuple[str, ...]]]:
    return [(error.code, error.options) for error in result.errors]


def test_minimal_configuration_is_valid_with_base_price_first_and_standard_lines_at_zero():
    result = quote(SNAPSHOT, BASE)

    assert result.valid is True
    assert result.errors == ()
    assert [(line.code, line.price.amount, line.basis) for line in result.lines] == [
        ("aurora-std", 22_990_000, "base"),
        ("white", 0, "standard"),
        ("black-int", 0, "standard"),
        ("wheels-18", 0, "standard"),
        ("heat-pump", 0, "standard"),
    ]
    assert result.total == Money(22_990_000)
    assert result.price_list_version == 3


def test_paid_choices_are_priced_and_summed():
    result = quote(SNAPSHOT, ["red", "tan-int", "wheels-20", "hud"])

    assert result.valid is True
    assert [(line.code, line.price.amount) for line in result.lines] == [
        ("aurora-std", 22_990_000),
        ("red", 800_000),
        ("tan-int", 500_000),
        ("wheels-20", 600_000),
        ("heat-pump", 0),
        ("hud", 400_000),
    ]
    assert result.total == Money(22_990_000 + 800_000 + 500_000 + 600_000 + 400_000)


def test_unknown_option_is_explained_not_dropped():
    result = quote(SNAPSHOT, [*BASE, "flux-capacitor"])

    assert result.valid is False
    assert codes_of(result) == [("unknown_option", ("flux-capacitor",))]
    assert result.errors[0].message == "“flux-capacitor” is not an option we offer."
    assert result.option_codes == tuple(sorted([*BASE, "flux-capacitor"]))


def test_option_of_another_trim_or_unavailable_or_unpriced_is_unavailable_on_trim():
    result = quote(SNAPSHOT, [*BASE, "other-model-hud", "not-here", "unpriced"])

    assert codes_of(result) == [
        ("unavailable_on_trim", ("unpriced",)),
        ("unavailable_on_trim", ("not-here",)),
        ("unavailable_on_trim", ("other-model-hud",)),
    ]
    assert result.errors[1].message == "Not on this trim is not available on Aurora Standard."
    assert all(line.code not in {"not-here", "unpriced", "other-model-hud"} for line in result.lines)


def test_requires_names_both_options():
    result = quote(SNAPSHOT, [*BASE, "audio"])

    assert result.valid is False
    assert result.errors == (
        RuleBreak("requires", "Premium audio requires Comfort package.", ("audio", "comfort")),
    )


def test_requirement_met_by_choosing_the_package():
    assert quote(SNAPSHOT, [*BASE, "audio", "comfort"]).valid is True


def test_excludes_names_both_options_once_whichever_order():
    forward = quote(SNAPSHOT, [*BASE, "tow-bar", "air-sport"])
    backward = quote(SNAPSHOT, ["air-sport", "tow-bar", *reversed(BASE)])

    assert forward.errors == (
        RuleBreak("excludes", "Tow bar cannot be combined with Sport tune.", ("tow-bar", "air-sport")),
    )
    assert backward == forward


def test_excludes_applies_to_an_option_brought_in_by_a_package():
    snapshot = replace(SNAPSHOT, rules=(RuleEntry("excludes", "air-sport", "heated-seats"),))

    result = quote(snapshot, [*BASE, "comfort", "air-sport"])

    assert codes_of(result) == [("excludes", ("heated-seats", "air-sport"))]


def test_choose_one_when_a_group_is_missing_lists_the_choices():
    result = quote(SNAPSHOT, ["white", "black-int"])

    assert codes_of(result) == [("choose_one", ("wheels-18", "wheels-20"))]
    assert result.errors[0].message == "Choose a set of wheels."


def test_choose_one_when_two_paints_names_them():
    result = quote(SNAPSHOT, [*BASE, "red"])

    assert codes_of(result) == [("choose_one", ("white", "red"))]
    assert result.errors[0].message == "Choose only one paint; you chose Glacier White, Danxia Red."
    # Both stay in the quote: nothing is silently dropped.
    assert [line.code for line in result.lines][:3] == ["aurora-std", "white", "red"]


def test_duplicate_option_is_explained_and_priced_once():
    result = quote(SNAPSHOT, [*BASE, "hud", "hud"])

    assert codes_of(result) == [("duplicate_option", ("hud",))]
    assert [line.code for line in result.lines].count("hud") == 1
    assert result.total == Money(22_990_000 + 400_000)


def test_choosing_an_option_its_chosen_package_includes_is_explained():
    result = quote(SNAPSHOT, [*BASE, "pilot", "hud"])

    assert result.errors == (
        RuleBreak(
            "included_in_package",
            "Head-up display is already included in Assisted driving pack; remove one of them.",
            ("hud", "pilot"),
        ),
    )


def test_package_lists_its_included_options_at_no_cost_right_after_it():
    result = quote(SNAPSHOT, [*BASE, "pilot", "comfort"])

    assert result.valid is True
    assert [(line.code, line.price.amount, line.basis, line.package) for line in result.lines[4:]] == [
        ("comfort", 1_200_000, "chosen", ""),
        ("heated-seats", 0, "included", "comfort"),
        ("pilot", 2_500_000, "chosen", ""),
        ("hud", 0, "included", "pilot"),
        ("heat-pump", 0, "standard", ""),
    ]


def test_choosing_a_standard_option_again_is_harmless():
    result = quote(SNAPSHOT, [*BASE, "heat-pump"])

    assert result.valid is True
    assert [line.code for line in result.lines].count("heat-pump") == 1


def test_option_included_by_a_standard_package_costs_nothing_when_chosen():
    standard_pilot = replace(OPTIONS[-1], availability="standard")
    snapshot = replace(SNAPSHOT, options=(*OPTIONS[:-1], standard_pilot))

    result = quote(snapshot, [*BASE, "hud"])

    assert result.valid is True
    assert {line.code: (line.price.amount, line.basis) for line in result.lines}["hud"] == (0, "included")


def test_every_broken_rule_is_reported_in_a_stable_order():
    result = quote(
        SNAPSHOT, ["white", "red", "black-int", "audio", "tow-bar", "air-sport", "ghost", "hud", "hud"]
    )

    assert [error.code for error in result.errors] == [
        "duplicate_option",
        "unknown_option",
        "choose_one",
        "choose_one",
        "requires",
        "excludes",
    ]


def test_order_of_codes_does_not_matter():
    codes = ["red", "tan-int", "wheels-20", "pilot", "comfort", "audio"]

    assert quote(SNAPSHOT, codes) == quote(SNAPSHOT, list(reversed(codes)))


def test_messages_and_names_follow_the_active_language():
    with translation.override("zh-hans"):
        chinese = quote(SNAPSHOT, [*BASE, "red", "audio"]).as_dict()
    english = quote(SNAPSHOT, [*BASE, "red", "audio"]).as_dict()

    assert [error["message"] for error in chinese["errors"]] == [
        "只能选择一种车漆，您选择了初雪白、丹霞红。",
        "高级音响需要同时选装舒适包。",
    ]
    assert chinese["lines"][0]["name"] == "极光 标准版"
    assert [error["message"] for error in english["errors"]] == [
        "Choose only one paint; you chose Glacier White, Danxia Red.",
        "Premium audio requires Comfort package.",
    ]
    assert english["lines"][0]["name"] == "Aurora Standard"


def test_api_shape_of_a_quote():
    with translation.override("zh-hans"):
        payload = quote(SNAPSHOT, ["red", *BASE[1:], "tow-bar", "air-sport"]).as_dict()

    assert payload == {
        "valid": False,
        "errors": [
            {
                "code": "excludes",
                "message": "拖车钩不能与运动调校同时选装。",
                "options": ["tow-bar", "air-sport"],
            }
        ],
        "lines": [
            {"code": "aurora-std", "name": "极光 标准版", "price": {"amount": 22_990_000, "currency": "CNY"}},
            {"code": "red", "name": "丹霞红", "price": {"amount": 800_000, "currency": "CNY"}},
            {"code": "black-int", "name": "黑色内饰", "price": {"amount": 0, "currency": "CNY"}},
            {"code": "wheels-18", "name": "18 英寸轮毂", "price": {"amount": 0, "currency": "CNY"}},
            {"code": "heat-pump", "name": "热泵空调", "price": {"amount": 0, "currency": "CNY"}},
            {"code": "tow-bar", "name": "拖车钩", "price": {"amount": 500_000, "currency": "CNY"}},
            {"code": "air-sport", "name": "运动调校", "price": {"amount": 800_000, "currency": "CNY"}},
        ],
        "total": {"amount": 22_990_000 + 800_000 + 500_000 + 800_000, "currency": "CNY"},
        "price_list_version": 3,
    }


def test_a_saved_record_rebuilds_the_same_quote():
    original = quote(SNAPSHOT, ["red", "tan-int", "wheels-20", "pilot"])

    rebuilt = quote_from_record(
        trim_code=original.trim_code,
        option_codes=original.option_codes,
        lines=[line.as_record() for line in original.lines],
        total_fen=original.total.amount,
        price_list_version=original.price_list_version,
    )

    assert rebuilt == original


@pytest.mark.parametrize("kind", ["paint", "interior", "wheels"])
def test_a_group_the_trim_does_not_offer_needs_no_choice(kind):
    snapshot = replace(SNAPSHOT, options=tuple(entry for entry in OPTIONS if entry.kind != kind))
    chosen = [code for code in BASE if code in snapshot.by_code]

    assert quote(snapshot, chosen).valid is True
