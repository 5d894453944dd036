"""Earning by the club's rules from other apps' events, and taking points back when what earned them is
cancelled, returned or clawed back. Events are recorded here as their apps record them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import translation

from forecourt.accounts.models import Role
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.loyalty.models import EarnRule, EarnSource, EntryKind, PointsEntry
from forecourt.loyalty.selectors import member_tier
from forecourt.loyalty.services import (
    daily_check_in,
    member_for,
    ops_task_grant,
    points_earn_for,
    points_spend,
    points_state,
)

from .members_cast import (
    MONDAY_10,
    benefit,
    club_rules,
    entries_of,
    give,
    make_member,
    make_ops,
    make_person,
    make_staff,
    record,
    tier_rules,
)

pytestmark = pytest.mark.django_db
# ¥250,000: 500 fixed points plus one per ¥100.
TOTAL_FEN = 250_000_00
PURCHASE_POINTS = 500 + 2_500


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def frozen():
    with clock.frozen_at(MONDAY_10):
        yield MONDAY_10


@pytest.fixture
def rules(db):
    return club_rules()


def delivered(buyer, number: str = "FC2611230001", total_fen: int = TOTAL_FEN) -> Event:
    return record(
        "order.delivered",
        subject_type="order",
        subject_id=number,
        order=number,
        status="delivered",
        buyer=buyer.public_id,
        total_fen=total_fen,
        paid_fen=total_fen,
    )


def refunded(
    number: str = "FC2611230001", *, status: str = "delivered", applied_fen: int = 10_000_00
) -> Event:
    return record(
        "order.refunded",
        subject_type="order",
        subject_id=number,
        order=number,
        status=status,
        refund="RF1",
        applied_fen=applied_fen,
        refunded_fen=applied_fen,
    )


# ---- Car purchase ----------------------------------------------------------------------------------


def test_a_delivered_car_earns_its_purchase_points_pending_for_the_holding_days(frozen, rules):
    member = make_member()
    event = delivered(member.user)
    entry = PointsEntry.objects.get(member=member)
    assert (entry.kind, entry.points, entry.reason, entry.source_ref) == (
        "earn",
        PURCHASE_POINTS,
        "purchase",
        "FC2611230001",
    )
    assert (entry.source_event, entry.rule, entry.qualifying) == (str(event.id), rules["purchase"], True)
    assert entry.available_at == MONDAY_10 + timedelta(days=7)
    state = points_state(member)
    assert (state.spendable, state.pending, state.balance) == (0, PURCHASE_POINTS, PURCHASE_POINTS)
    assert points_state(member, MONDAY_10 + timedelta(days=7)).spendable == PURCHASE_POINTS


def test_the_same_delivery_reported_twice_earns_once(frozen, rules):
    member = make_member()
    delivered(member.user)
    delivered(member.user)
    assert entries_of(member) == [("earn", PURCHASE_POINTS, "purchase")]
    assert Event.objects.filter(name="points.earned").count() == 1


def test_nothing_is_earned_without_an_active_rule_or_by_staff(frozen, rules):
    EarnRule.objects.filter(source=EarnSource.PURCHASE).update(is_active=False)
    member = make_member()
    delivered(member.user)
    staff = make_staff()
    EarnRule.objects.filter(source=EarnSource.PURCHASE).update(is_active=True)
    delivered(staff, number="FC2611230002")
    assert not PointsEntry.objects.exists()
    assert not Event.objects.filter(name="points.earned").exists()


def test_a_returned_car_takes_its_points_back(frozen, rules):
    member = make_member()
    delivered(member.user)
    event = refunded()
    reversal = PointsEntry.objects.get(kind=EntryKind.REVERSAL)
    assert (reversal.points, reversal.reason, reversal.source_event) == (
        -PURCHASE_POINTS,
        "order_returned",
        str(event.id),
    )
    state = points_state(member)
    assert (state.balance, state.pending, state.debt) == (0, 0, 0)
    # Delivered again (a retried delivery): still nothing more.
    refunded()
    assert PointsEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 1


def test_a_refund_before_delivery_or_of_nothing_takes_nothing_back(frozen, rules):
    member = make_member()
    delivered(member.user)
    refunded(status="final_paid")
    refunded(applied_fen=0)
    assert not PointsEntry.objects.filter(kind=EntryKind.REVERSAL).exists()
    assert points_state(member).pending == PURCHASE_POINTS


def test_a_cancelled_order_takes_its_purchase_points_back(frozen, rules):
    member = make_member()
    delivered(member.user, number="FC2611230009")
    record("order.cancelled", subject_type="order", subject_id="FC2611230009", order="FC2611230009")
    assert entries_of(member) == [
        ("earn", PURCHASE_POINTS, "purchase"),
        ("reversal", -PURCHASE_POINTS, "order_cancelled"),
    ]


def test_a_delivery_handled_after_the_return_earns_nothing(frozen, rules):
    member = make_member()
    refunded()
    delivered(member.user)
    assert not PointsEntry.objects.exists()


def test_purchase_points_already_spent_leave_a_debt_the_next_earning_settles(frozen, rules):
    member = make_member()
    delivered(member.user)
    clock.advance(timedelta(days=8))
    points_spend(member=member, points=2_000, reason="reward", idempotency_key="spend-1")
    refunded()
    state = points_state(member)
    assert (state.spendable, state.debt, state.balance) == (0, 2_000, -2_000)
    give(member, 2_500)
    state = points_state(member)
    assert (state.spendable, state.debt, state.balance) == (500, 0, 500)


def test_a_tier_bonus_is_a_second_entry_that_does_not_count_towards_the_tier_and_is_reversed_too(
    frozen, rules
):
    tier_rules(silver=1_000, gold=5_000)
    benefit("gold", "points_bonus", "Gold bonus 20%", value=20)
    member = make_member()
    give(member, 5_000, qualifying=True)
    assert member_tier(user=member.user) == "gold"
    delivered(member.user)
    bonus = PointsEntry.objects.get(reason="tier_bonus")
    assert (bonus.points, bonus.qualifying, bonus.source_ref) == (PURCHASE_POINTS // 5, False, "FC2611230001")
    assert bonus.available_at == MONDAY_10 + timedelta(days=7)
    refunded()
    reversed_points = sorted(
        PointsEntry.objects.filter(kind=EntryKind.REVERSAL).values_list("points", flat=True)
    )
    assert reversed_points == [-PURCHASE_POINTS, -(PURCHASE_POINTS // 5)]
    assert points_state(member).balance == 5_000


# ---- Late delivery -----------------------------------------------------------------------------------


def test_late_delivery_compensation_is_credited_once_per_order_and_day(frozen, rules):
    member = make_member()
    for day in ("2026-12-08", "2026-12-09", "2026-12-08"):
        record(
            "order.delivery_late",
            subject_type="order",
            subject_id="FC2611230001",
            order="FC2611230001",
            day=day,
            points=100,
            buyer=member.user.public_id,
        )
    assert entries_of(member) == [("earn", 100, "late_delivery"), ("earn", 100, "late_delivery")]
    state = points_state(member)
    assert (state.spendable, state.pending) == (200, 0)
    assert not PointsEntry.objects.filter(qualifying=True).exists()


# ---- Referrals and community ----------------------------------------------------------------------------


def converted(broker, referral: str = "ref_7K3M9Q2X4T8V1N6P") -> Event:
    return record(
        "referral.converted",
        subject_type="referral",
        subject_id=referral,
        referral=referral,
        broker=broker.public_id,
        broker_code="ZHANG88",
    )


def test_a_successful_referral_earns_the_broker_points_and_a_clawback_takes_them_back(frozen, rules):
    broker = make_member("李经纪", role=Role.BROKER)
    converted(broker.user)
    assert entries_of(broker) == [("earn", 1_000, "referral")]
    record(
        "commission.clawed_back",
        subject_type="commission",
        subject_id="cms_1",
        referral="ref_7K3M9Q2X4T8V1N6P",
        kind="cpl",
    )
    assert PointsEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 0
    record(
        "commission.clawed_back",
        subject_type="commission",
        subject_id="cms_2",
        referral="ref_7K3M9Q2X4T8V1N6P",
        kind="cps",
    )
    assert entries_of(broker)[-1] == ("reversal", -1_000, "referral_clawed_back")
    converted(broker.user)
    assert PointsEntry.objects.filter(member=broker).count() == 2


def test_a_rejected_referral_takes_its_points_back(frozen, rules):
    broker = make_member("李经纪", role=Role.BROKER)
    converted(broker.user, referral="ref_A")
    record("referral.rejected", subject_type="referral", subject_id="ref_A", reason="self_referral")
    assert [points for _kind, points, _reason in entries_of(broker)] == [1_000, -1_000]


def test_a_community_contribution_earns_up_to_the_daily_limit(frozen, rules):
    member = make_member()
    for index in range(7):
        record(
            "community.contribution",
            subject_type="post",
            subject_id=f"pst_{index}",
            member=member.user.public_id,
        )
    assert entries_of(member) == [("earn", 20, "community")] * 5
    clock.advance(timedelta(days=1))
    record("community.contribution", subject_type="post", subject_id="pst_next", member=member.user.public_id)
    assert PointsEntry.objects.filter(member=member).count() == 6


def test_the_daily_limit_counts_per_member_and_per_shanghai_day(frozen, rules):
    member, other = make_member(), make_member("李四")
    results = [
        points_earn_for(member=member, source=EarnSource.TEST_DRIVE, ref=f"apt_{index}") for index in range(3)
    ]
    assert [entry is not None for entry in results] == [True, True, False]
    assert points_earn_for(member=other, source=EarnSource.TEST_DRIVE, ref="apt_x") is not None
    # 23:59 the same day in Shanghai is still the same day; 00:00 is the next.
    with clock.frozen_at(MONDAY_10.replace(hour=23, minute=59)):
        assert points_earn_for(member=member, source=EarnSource.TEST_DRIVE, ref="apt_late") is None
    with clock.frozen_at(MONDAY_10.replace(hour=0, minute=0) + timedelta(days=1)):
        assert points_earn_for(member=member, source=EarnSource.TEST_DRIVE, ref="apt_next") is not None


# ---- Daily check-in -----------------------------------------------------------------------------------


def test_the_daily_check_in_earns_once_a_day(frozen, rules):
    member = make_member()
    entry = daily_check_in(member=member)
    assert (entry.points, entry.reason, entry.qualifying) == (10, "daily_check_in", False)
    with pytest.raises(DomainError) as again:
        daily_check_in(member=member)
    assert (again.value.code, again.value.status) == ("already_checked_in", 409)
    assert PointsEntry.objects.filter(member=member).count() == 1
    clock.advance(timedelta(days=1))
    daily_check_in(member=member)
    assert points_state(member).spendable == 20


def test_the_daily_check_in_is_refused_when_switched_off_and_to_staff(frozen, rules):
    EarnRule.objects.filter(source=EarnSource.DAILY_CHECK_IN).update(is_active=False)
    member = make_member()
    with pytest.raises(DomainError) as off:
        daily_check_in(member=member)
    assert (off.value.code, off.value.status) == ("earn_rule_inactive", 409)
    EarnRule.objects.filter(source=EarnSource.DAILY_CHECK_IN).update(is_active=True)
    staff_member = member_for(make_staff())
    with pytest.raises(DomainError) as staff:
        daily_check_in(member=staff_member)
    assert (staff.value.code, staff.value.status) == ("not_a_member", 403)
    assert not PointsEntry.objects.exists()


# ---- Ops tasks ------------------------------------------------------------------------------------------


def test_ops_grant_task_points_once_per_member_and_task(frozen, rules):
    ops, member = make_ops(), make_member()
    entry = ops_task_grant(member=member, task="profile-completed", actor=ops, note="完善个人资料")
    assert (entry.points, entry.reason, entry.note, entry.actor) == (50, "ops_task", "完善个人资料", ops)
    assert ops_task_grant(member=member, task="profile-completed", actor=ops) == entry
    special = ops_task_grant(member=member, task="survey-2026", actor=ops, points=300)
    assert special.points == 300
    assert points_state(member).spendable == 350


def test_only_ops_grant_task_points_and_only_with_a_task_code(frozen, rules):
    member = make_member()
    with pytest.raises(DomainError) as forbidden:
        ops_task_grant(member=member, task="profile-completed", actor=make_staff())
    assert forbidden.value.status == 403
    with pytest.raises(DomainError) as invalid:
        ops_task_grant(member=member, task="not a code!", actor=make_ops())
    assert (invalid.value.status, invalid.value.details) == (422, {"field": "task"})
    with pytest.raises(DomainError) as too_many:
        ops_task_grant(member=member, task="x", actor=make_ops(), points=0)
    assert too_many.value.details == {"field": "points"}
    assert not PointsEntry.objects.exists()


def test_unknown_people_in_events_earn_nothing(frozen, rules):
    record(
        "order.delivered",
        subject_type="order",
        subject_id="FC1",
        order="FC1",
        buyer="usr_NOBODY",
        total_fen=1,
    )
    record("community.contribution", subject_type="post", subject_id="p", member=12345)
    record(
        "order.delivery_late",
        subject_type="order",
        subject_id="FC1",
        order="FC1",
        day="2026-12-01",
        points="x",
    )
    assert not PointsEntry.objects.exists()
    person = make_person()
    assert not hasattr(person, "member") or person.member is None
