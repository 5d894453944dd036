"""Tiers follow the rules (Hypothesis): the tier is the highest whose threshold the member's qualifying
points over the rolling window reach; points outside the window, not qualifying or reversed do not count;
benefits are those of the tier; progress says what the next tier needs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecourt.core import clock
from forecourt.loyalty.ledger import Line, qualifying_points, tier_for
from forecourt.loyalty.models import TIER_ORDER, TierRule
from forecourt.loyalty.selectors import (
    member_benefits,
    member_has_benefit,
    member_tier,
    member_tier_progress,
    tier_table,
    tier_thresholds,
)
from forecourt.loyalty.services import points_reverse

from .members_cast import MONDAY_10, benefit, give, make_member, make_person, tier_rules

pytestmark = pytest.mark.django_db

thresholds_strategy = st.lists(st.integers(1, 100_000), min_size=3, max_size=3, unique=True).map(
    lambda values: [("standard", 0), *zip(TIER_ORDER[1:], sorted(values), strict=True)]
)


@given(thresholds_strategy, st.integers(0, 150_000))
def test_the_tier_is_the_highest_whose_threshold_is_reached(thresholds, points):
    tier = tier_for(points, thresholds)
    minimum = dict(thresholds)[tier]
    assert minimum <= points
    assert all(points < other for name, other in thresholds if other > minimum)


@given(thresholds_strategy, st.integers(0, 150_000), st.integers(0, 150_000))
def test_more_points_never_mean_a_lower_tier(thresholds, points, more):
    rank = TIER_ORDER.index
    assert rank(tier_for(points + more, thresholds)) >= rank(tier_for(points, thresholds))


earning = st.tuples(
    st.integers(1, 5_000),  # points
    st.integers(0, 500),  # days before now
    st.booleans(),  # qualifying
    st.booleans(),  # reversed later
)


@given(st.lists(earning, max_size=25))
def test_qualifying_points_count_the_window_the_qualifying_and_the_unreversed_only(earnings):
    now = MONDAY_10
    since = now - timedelta(days=365)
    lines: list[Line] = []
    expected = 0
    for index, (points, days_ago, qualifying, reversed_later) in enumerate(earnings):
        occurred = now - timedelta(days=days_ago, minutes=index)
        lines.append(
            Line(id=index + 1, kind="earn", points=points, occurred_at=occurred, qualifying=qualifying)
        )
        if reversed_later:
            lines.append(
                Line(
                    id=1_000 + index, kind="reversal", points=-points, occurred_at=now, reverses_id=index + 1
                )
            )
        elif qualifying and occurred > since:
            expected += points
    assert qualifying_points(lines, since=since, at=now) == expected


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(earnings=st.lists(earning, max_size=8))
def test_a_members_tier_follows_their_qualifying_points(earnings, db):
    if not TierRule.objects.exists():
        tier_rules(silver=1_000, gold=5_000, black=12_000)
    member = make_member()
    expected = 0
    with clock.frozen_at(MONDAY_10):
        for index, (points, days_ago, qualifying, reversed_later) in enumerate(earnings):
            moment = MONDAY_10 - timedelta(days=days_ago, minutes=index)
            with clock.frozen_at(moment):
                entry = give(member, points, qualifying=qualifying)
            if reversed_later:
                points_reverse(entry=entry, reason="test")
            elif qualifying and days_ago < 365:
                expected += points
        progress = member_tier_progress(member)
        assert progress.points == expected
        assert progress.tier == tier_for(expected, tier_thresholds()) == member_tier(user=member.user)
        if progress.next_tier is not None:
            assert progress.points_to_next == dict(tier_thresholds())[progress.next_tier] - expected > 0
        else:
            assert (progress.tier, progress.points_to_next, progress.percent) == ("black", 0, 100)


def test_thresholds_come_from_the_ops_rules_else_from_the_settings(db, settings):
    settings.LOYALTY_TIER_POINTS = {"standard": 0, "silver": 2_000, "gold": 8_000, "black": 20_000}
    assert tier_thresholds() == [("standard", 0), ("silver", 2_000), ("gold", 8_000), ("black", 20_000)]
    tier_rules(silver=1_000, gold=5_000, black=12_000)
    assert tier_thresholds() == [("standard", 0), ("silver", 1_000), ("gold", 5_000), ("black", 12_000)]


def test_a_tier_lapses_when_its_points_leave_the_window(db):
    tier_rules()
    member = make_member()
    with clock.frozen_at(MONDAY_10):
        give(member, 1_200, qualifying=True)
        assert member_tier(user=member.user) == "silver"
    assert member_tier(user=member.user, at=MONDAY_10 + timedelta(days=364)) == "silver"
    assert member_tier(user=member.user, at=MONDAY_10 + timedelta(days=366)) == "standard"


def test_benefits_are_the_tiers_and_other_apps_can_ask_about_one(db):
    tier_rules()
    benefit("silver", "free-wash", "每年 2 次免费洗车", value=2)
    benefit("gold", "free-wash", "每年 6 次免费洗车", value=6)
    benefit("gold", "priority-service", "优先保养")
    member = make_member()
    with clock.frozen_at(MONDAY_10):
        give(member, 5_000, qualifying=True)
        assert [(item.code, item.value) for item in member_benefits(user=member.user)] == [
            ("free-wash", 6),
            ("priority-service", 0),
        ]
        assert member_has_benefit(user=member.user, code="priority-service") is True
    nobody = make_person()
    assert member_tier(user=nobody) == "standard"
    assert member_has_benefit(user=nobody, code="priority-service") is False
    assert member_benefits(user=None) == []


def test_the_tier_table_lists_every_tier_lowest_first_with_its_benefits(db):
    tier_rules()
    benefit("black", "lounge", "机场贵宾厅")
    table = tier_table()
    assert [(row.tier, row.min_points) for row in table] == [
        ("standard", 0),
        ("silver", 1_000),
        ("gold", 5_000),
        ("black", 20_000),
    ]
    assert [item.code for item in table[-1].benefits] == ["lounge"]
