"""Hypothesis properties of the rule engine and pricing, over generated catalogue snapshots."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from forecourt.catalog.configurator import (
    CHOICE_GROUPS,
    OptionEntry,
    RuleEntry,
    TrimSnapshot,
    quote,
    quote_from_record,
)
from forecourt.catalog.models import PriceListItem
from forecourt.catalog.selectors import configuration_view
from forecourt.catalog.services import configuration_save, price_list_publish
from forecourt.catalog.tests.factories import PriceListFactory, build_catalogue
from forecourt.core.money import Money

prices = st.integers(min_value=0, max_value=5_000_000)
# The engine is pure and fast; 60 generated catalogues per property keep the suite quick.
PROPERTY = settings(max_examples=60, deadline=None)


@st.composite
def snapshots(draw: st.DrawFn) -> TrimSnapshot:
    """A trim with 1–3 choices in each group, some options and packages, and random rules between them."""
    entries: list[OptionEntry] = []
    for kind in CHOICE_GROUPS:
        for index in range(draw(st.integers(1, 3))):
            standard = index == 0 or draw(st.booleans())
            entries.append(
                OptionEntry(
                    code=f"{kind}-{index}",
                    kind=kind,
                    name=f"{kind} {index}",
                    availability="standard" if standard else "optional",
                    price_fen=None if standard else draw(prices),
                )
            )
    extras = [f"option-{index}" for index in range(draw(st.integers(2, 6)))]
    packages = [f"package-{index}" for index in range(draw(st.integers(0, 2)))]
    for code in extras:
        availability = draw(st.sampled_from(["optional", "optional", "optional", "standard", "unavailable"]))
        entries.append(OptionEntry(code, "option", code, availability=availability, price_fen=draw(prices)))
    for code in packages:
        includes = tuple(draw(st.lists(st.sampled_from(extras), max_size=2, unique=True)))
        entries.append(OptionEntry(code, "package", code, price_fen=draw(prices), includes=includes))
    codes = [entry.code for entry in entries]
    rules = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["requires", "excludes"]), st.sampled_from(codes), st.sampled_from(codes)
            ).filter(lambda rule: rule[1] != rule[2]),
            max_size=4,
            unique=True,
        )
    )
    return TrimSnapshot(
        trim_code="trim",
        trim_name="试驾版",
        trim_name_en="Test trim",
        base_price_fen=draw(st.integers(10_000_000, 60_000_000)),
        price_list_version=draw(st.integers(1, 50)),
        options=tuple(entries),
        rules=tuple(RuleEntry(*rule) for rule in rules),
        catalogue={code: (code, code) for code in codes},
    )


def offered(snapshot: TrimSnapshot, kind: str) -> list[str]:
    return [entry.code for entry in snapshot.options if entry.kind == kind and entry.is_offered]


@st.composite
def configurations(draw: st.DrawFn, *, clean: bool = False) -> tuple[TrimSnapshot, list[str]]:
    """One choice per group plus extras; `clean` draws extras only among offered options and packages,
    so most configurations are valid (the others still exercise every rule)."""
    snapshot = draw(snapshots())
    chosen = [draw(st.sampled_from(offered(snapshot, kind))) for kind in CHOICE_GROUPS]
    if clean:
        pool = [
            entry.code
            for entry in snapshot.options
            if entry.kind in ("option", "package") and entry.is_offered
        ]
        chosen += draw(st.lists(st.sampled_from(pool), max_size=3, unique=True)) if pool else []
    else:
        pool = [entry.code for entry in snapshot.options] + ["ghost"]
        chosen += draw(st.lists(st.sampled_from(pool), max_size=6))
    return snapshot, chosen


@PROPERTY
@given(configurations())
def test_total_is_the_sum_of_the_lines(case):
    snapshot, chosen = case
    result = quote(snapshot, chosen)

    assert result.total == sum((line.price for line in result.lines), Money.zero())
    assert result.lines[0].code == snapshot.trim_code
    assert result.valid == (result.errors == ())


@PROPERTY
@given(configurations(clean=True))
def test_valid_configurations_price_every_choice_once(case):
    snapshot, chosen = case
    result = quote(snapshot, chosen)
    assume(result.valid)

    priced = [line.code for line in result.lines]
    assert len(priced) == len(set(priced))
    assert set(chosen) <= set(priced)
    assert result.total.amount >= snapshot.base_price_fen


@PROPERTY
@given(configurations(), st.data())
def test_adding_an_excluded_option_always_invalidates_and_names_both(case, data):
    snapshot, chosen = case
    options = [
        entry.code for entry in snapshot.options if entry.kind in ("option", "package") and entry.is_offered
    ]
    assume(len(options) >= 2)
    first, second = data.draw(st.sampled_from(options)), data.draw(st.sampled_from(options))
    assume(first != second)
    snapshot = replace(snapshot, rules=(*snapshot.rules, RuleEntry("excludes", first, second)))

    result = quote(snapshot, [*chosen, first, second])

    assert result.valid is False
    assert any(error.code == "excludes" and {first, second} <= set(error.options) for error in result.errors)


@PROPERTY
@given(configurations(), st.randoms(use_true_random=False))
def test_quotes_are_deterministic_and_ignore_the_order_of_codes(case, shuffler: random.Random):
    snapshot, chosen = case
    shuffled = list(chosen)
    shuffler.shuffle(shuffled)

    assert quote(snapshot, chosen) == quote(snapshot, chosen)
    assert quote(snapshot, shuffled) == quote(snapshot, chosen)


@PROPERTY
@given(configurations(clean=True), st.lists(prices, min_size=1, max_size=5))
def test_a_saved_record_never_reprices(case, new_prices):
    """A quote rebuilt from its record is the quote as given, whatever the prices became since."""
    snapshot, chosen = case
    original = quote(snapshot, chosen)
    assume(original.valid)
    record = [line.as_record() for line in original.lines]
    repriced = replace(
        snapshot,
        base_price_fen=new_prices[0],
        options=tuple(
            replace(entry, price_fen=new_prices[index % len(new_prices)])
            if entry.price_fen is not None
            else entry
            for index, entry in enumerate(snapshot.options)
        ),
        price_list_version=snapshot.price_list_version + 1,
    )

    rebuilt = quote_from_record(
        trim_code=original.trim_code,
        option_codes=original.option_codes,
        lines=record,
        total_fen=original.total.amount,
        price_list_version=original.price_list_version,
    )

    assert rebuilt == original
    assert quote(repriced, chosen).price_list_version != rebuilt.price_list_version


@pytest.mark.django_db
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(
        st.sampled_from(["aurora-std", "red", "tan-int", "wheels-20", "hud", "pilot"]), prices, min_size=1
    )
)
def test_a_saved_quote_never_changes_when_prices_change(changes):
    if not PriceListItem.objects.exists():
        build_catalogue()
    saved = configuration_save(trim_code="aurora-std", option_codes=["red", "tan-int", "wheels-20", "pilot"])
    before = configuration_view(share_code=saved.share_code).saved

    latest = PriceListFactory.create()
    current = PriceListItem.objects.filter(price_list__status="published").select_related("trim", "option")
    for item in current:
        code = item.subject_code
        PriceListItem.objects.create(
            price_list=latest, trim=item.trim, option=item.option, price_fen=changes.get(code, item.price_fen)
        )
    price_list_publish(price_list=latest, actor=None)

    view = configuration_view(share_code=saved.share_code)
    assert view.saved == before
    assert view.saved.price_list_version == saved.price_list_version
    repriced = any(
        changes.get(line.code, line.price.amount) != line.price.amount
        for line in before.lines
        if line.basis in ("base", "chosen")
    )
    assert (view.current is not None) == repriced
    if view.current is not None:
        assert view.current.price_list_version == latest.version
