"""Honours: levels by results, badges awarded once, leaderboards per city and month."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecourt.core import clock
from forecourt.core.events import event_record
from forecourt.core.models import Event
from forecourt.referrals.honours_selectors import (
    LEVELS,
    BrokerResults,
    badges_due,
    broker_badges,
    broker_results,
    leaderboard,
    level_for,
    level_progress,
    name_masked,
)
from forecourt.referrals.models import BrokerBadge, BrokerStatus, CommissionStatus, Stage
from forecourt.referrals.services import badges_award, leaderboard_month_close

from .programme_cast import *  # noqa: F403
from .programme_cast import (
    DEC_1,
    NOV_1,
    NOV_10,
    committed,
    make_broker,
    make_commission,
    make_referral,
    make_task,
)

pytestmark = pytest.mark.django_db

NOV = date(2026, 11, 1)


def _visits(broker, count: int, *, at=None, **fields) -> None:
    for _index in range(count):
        make_referral(broker, stage=Stage.QUALIFIED, qualified_at=at or NOV_10 - timedelta(days=1), **fields)


def _sales(broker, count: int, *, at=None, stage: str = Stage.CONVERTED) -> None:
    moment = at or NOV_10 - timedelta(days=2)
    for _index in range(count):
        make_referral(broker, stage=stage, qualified_at=moment - timedelta(days=20), delivered_at=moment)


# ---- levels -------------------------------------------------------------------------------------------


def test_levels_follow_the_score_thresholds():
    assert [level_for(score).code for score in (0, 2, 3, 9, 10, 29, 30, 99, 100, 10_000)] == [
        "newcomer",
        "newcomer",
        "bronze",
        "bronze",
        "silver",
        "silver",
        "gold",
        "gold",
        "diamond",
        "diamond",
    ]


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000))
def test_a_higher_score_never_has_a_lower_level(first, second):
    low, high = sorted((first, second))
    assert LEVELS.index(level_for(low)) <= LEVELS.index(level_for(high))
    assert level_for(high).min_score <= high


@given(st.integers(min_value=0, max_value=1_000))
def test_progress_to_the_next_level_is_what_is_missing(score):
    progress = level_progress(score)
    if progress.next_level is None:
        assert (progress.to_next, progress.percent) == (0, 100)
    else:
        assert progress.to_next == progress.next_level.min_score - score > 0
        assert 0 <= progress.percent < 100


def test_a_sale_counts_five_visits(frozen, broker):
    _visits(broker, 2)
    _sales(broker, 2)
    make_referral(broker)  # referred, nothing yet
    make_referral(broker, stage=Stage.REJECTED, qualified_at=NOV_10)  # never counts
    results = broker_results(broker)
    assert results == BrokerResults(referred=5, qualified=4, sold=2, confirmed_sales=2, task_results=0)
    # 4 visits (sales visited too) + 2 × 5.
    assert results.score == 14
    assert level_for(results.score).code == "silver"


def test_a_delivery_within_its_return_window_is_a_sale_but_not_yet_confirmed(frozen, broker):
    _sales(broker, 1, at=NOV_10 - timedelta(days=2), stage=Stage.DELIVERED)
    _sales(broker, 1, at=NOV_10 - timedelta(days=8), stage=Stage.DELIVERED)
    results = broker_results(broker)
    assert (results.sold, results.confirmed_sales) == (2, 1)


# ---- badges -------------------------------------------------------------------------------------------


def test_badges_due_follow_the_rules():
    assert badges_due(BrokerResults()) == []
    assert badges_due(BrokerResults(referred=1)) == ["first-referral"]
    assert badges_due(
        BrokerResults(referred=12, qualified=10, sold=6, confirmed_sales=5, task_results=1)
    ) == [
        "first-referral",
        "first-visit",
        "ten-visits",
        "first-sale",
        "five-sales",
        "task-pioneer",
    ]


def test_badges_are_awarded_once(frozen, broker):
    _visits(broker, 1)
    first = badges_award(broker=broker)
    again = badges_award(broker=broker)
    assert sorted(badge.code for badge in first) == ["first-referral", "first-visit"]
    assert again == []
    assert BrokerBadge.objects.filter(broker=broker).count() == 2
    assert Event.objects.filter(name="broker.badge_awarded").count() == 2


def test_a_badge_stays_when_the_result_is_undone(frozen, broker):
    _sales(broker, 1)
    badges_award(broker=broker)
    from forecourt.referrals.models import Referral

    Referral.objects.filter(broker=broker).update(stage=Stage.LOST)
    badges_award(broker=broker)
    assert "first-sale" in set(BrokerBadge.objects.filter(broker=broker).values_list("code", flat=True))


def test_referral_events_bring_badges_up_to_date(frozen, broker):
    referral = make_referral(broker, stage=Stage.QUALIFIED, qualified_at=NOV_10)
    with committed():
        event_record(
            "referral.qualified",
            subject_type="referral",
            subject_id=referral.public_id,
            payload={"referral": referral.public_id, "broker_code": broker.code},
        )
    assert sorted(BrokerBadge.objects.filter(broker=broker).values_list("code", flat=True)) == [
        "first-referral",
        "first-visit",
    ]


def test_a_task_result_earns_the_task_pioneer_badge(frozen, broker, shanghai_dealer):
    from forecourt.referrals.services import TaskResult, task_accept, task_results_record

    task = make_task()
    task_accept(task=task, broker=broker)
    with committed():
        task_results_record(result=TaskResult(referral=make_referral(broker), goal="test_drive", at=NOV_10))
    assert "task-pioneer" in set(BrokerBadge.objects.filter(broker=broker).values_list("code", flat=True))


def test_a_brokers_badges_list_every_rule_and_their_titles(frozen, broker):
    _visits(broker, 1)
    badges_award(broker=broker)
    BrokerBadge.objects.create(broker=broker, code="city-top-2026-10", earned_at=NOV_1, detail="上海 2026-10")
    views = broker_badges(broker)
    assert [(view.code, view.is_earned) for view in views] == [
        ("first-referral", True),
        ("first-visit", True),
        ("ten-visits", False),
        ("first-sale", False),
        ("five-sales", False),
        ("task-pioneer", False),
        ("city-top-2026-10", True),
    ]
    assert str(views[-1].label) == "City champion of the month"
    assert views[-1].detail == "上海 2026-10"


# ---- leaderboards ---------------------------------------------------------------------------------------


def test_the_leaderboard_ranks_a_citys_brokers_by_the_months_results(
    frozen, broker, other_broker, hangzhou_city
):
    third = make_broker("broker-wu", city=broker.city, name="吴磊")
    elsewhere = make_broker("broker-hz", city=hangzhou_city, name="杭州 王芳")
    _visits(broker, 3)
    _sales(other_broker, 1)  # delivered in November (visited in October): 5
    _visits(third, 1)
    _visits(elsewhere, 9)
    # October's results count for October only.
    _visits(broker, 4, at=NOV_1 - timedelta(days=3))
    rows = leaderboard(month=NOV, city=broker.city)
    assert [(row.rank, row.broker_id, row.qualified, row.sold, row.score) for row in rows] == [
        (1, other_broker.pk, 0, 1, 5),
        (2, broker.pk, 3, 0, 3),
        (3, third.pk, 1, 0, 1),
    ]
    assert [row.name for row in rows] == ["周*", "林*", "吴*"]
    october = leaderboard(month=date(2026, 10, 1), city=broker.city)
    assert [(row.broker_id, row.score) for row in october] == [(broker.pk, 4), (other_broker.pk, 1)]
    national = leaderboard(month=NOV)
    assert [row.broker_id for row in national][:1] == [elsewhere.pk]


def test_equal_results_share_a_rank(frozen, broker, other_broker):
    third = make_broker("broker-wu", city=broker.city, name="吴磊")
    _visits(broker, 2)
    _visits(other_broker, 2)
    _visits(third, 1)
    assert [row.rank for row in leaderboard(month=NOV, city=broker.city)] == [1, 1, 3]


def test_suspended_brokers_and_rejected_referrals_are_not_ranked(frozen, broker, other_broker):
    _visits(broker, 2)
    _visits(other_broker, 5)
    other_broker.status = BrokerStatus.SUSPENDED
    other_broker.save()
    make_referral(broker, stage=Stage.REJECTED, qualified_at=NOV_10)
    assert [(row.broker_id, row.qualified) for row in leaderboard(month=NOV, city=broker.city)] == [
        (broker.pk, 2)
    ]


@pytest.mark.parametrize(
    ("name", "masked"), [("车主经纪人 林浩", "林*"), ("欧阳娜娜", "欧**"), ("", "***"), ("李", "李*")]
)
def test_names_on_the_leaderboard_are_masked(name, masked):
    assert name_masked(name) == masked


def test_a_finished_month_crowns_each_citys_champion_once(broker, other_broker, hangzhou_city):
    elsewhere = make_broker("broker-hz", city=hangzhou_city, name="王芳")
    with clock.frozen_at(NOV_10):
        _visits(broker, 3)
        _visits(other_broker, 1)
        _visits(elsewhere, 1)
    with clock.frozen_at(NOV_10):
        assert leaderboard_month_close(month=NOV) == []  # the month is not over
    with clock.frozen_at(DEC_1 + timedelta(hours=1)):
        crowned = leaderboard_month_close(month=NOV)
        again = leaderboard_month_close(month="2026-11")
    assert sorted((badge.broker_id, badge.code, badge.detail) for badge in crowned) == sorted(
        [(broker.pk, "city-top-2026-11", "上海 2026-11"), (elsewhere.pk, "city-top-2026-11", "杭州 2026-11")]
    )
    assert again == []


def test_task_results_count_towards_honours_unless_clawed_back(frozen, broker):
    task = make_task()
    referral = make_referral(broker)
    make_commission(referral, amount_fen=200_00, task=task, status=CommissionStatus.PENDING)
    make_commission(referral, amount_fen=200_00, task=task, status=CommissionStatus.CLAWED_BACK)
    assert broker_results(broker).task_results == 1


def test_the_sweeper_crowns_last_months_champions(broker):
    from forecourt.referrals.services import leaderboards_close_due

    with clock.frozen_at(NOV_10):
        _visits(broker, 1)
    with clock.frozen_at(DEC_1 + timedelta(days=1)):
        assert leaderboards_close_due() == 1
        assert leaderboards_close_due() == 0
    assert BrokerBadge.objects.filter(broker=broker, code="city-top-2026-11").exists()
