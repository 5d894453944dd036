"""The ledger's services against the database (Hypothesis): random earnings, spends, reversals, ops
adjustments, days passing and sweeps; after every step spendable points are never negative, and once the
expiries are written the balance equals the sum of the entries. Plus exactly-once behaviour."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.loyalty.models import EntryKind, PointsEntry
from forecourt.loyalty.services import (
    points_adjust,
    points_earn,
    points_expiries_write,
    points_reverse,
    points_spend,
    points_state,
)

from .members_cast import MONDAY_10, give, make_member, make_ops

pytestmark = pytest.mark.django_db
_keys = count(1)

step = st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 3_000), st.sampled_from([0, 7])),
    st.tuples(st.just("spend"), st.integers(1, 4_000), st.just(0)),
    st.tuples(st.just("reverse"), st.integers(0, 30), st.just(0)),
    st.tuples(st.just("adjust"), st.integers(-2_000, 2_000).filter(bool), st.just(0)),
    st.tuples(st.just("wait"), st.sampled_from([1, 8, 100, 400]), st.just(0)),
    st.tuples(st.just("sweep"), st.just(0), st.just(0)),
)


def _sum(member) -> int:
    return PointsEntry.objects.filter(member=member).aggregate(total=Sum("points"))["total"] or 0


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=14))
def test_the_services_keep_the_ledger_invariants(steps, db):
    ops = make_ops()
    member = make_member()
    with clock.frozen_at(MONDAY_10):
        for action, amount, extra in steps:
            clock.advance(timedelta(minutes=1))
            balance_before = points_state(member).balance
            if action == "earn":
                give(member, amount, holding_days=extra)
            elif action == "spend":
                try:
                    points_spend(
                        member=member, points=amount, reason="reward", idempotency_key=f"s{next(_keys)}"
                    )
                except DomainError as refused:
                    assert refused.code == "insufficient_points"
                    assert points_state(member).balance == balance_before
            elif action == "reverse":
                targets = list(
                    PointsEntry.objects.filter(
                        member=member, kind__in=[EntryKind.EARN, EntryKind.REDEEM], reversals__isnull=True
                    ).order_by("pk")
                )
                if targets:
                    target = targets[amount % len(targets)]
                    expected = -points_state(member).reversal_points(target.pk) if target.points > 0 else None
                    reversal = points_reverse(entry=target, reason="test")
                    if reversal is not None:
                        assert reversal.points == (expected if expected is not None else -target.points)
                        assert points_state(member).balance == balance_before + reversal.points
                        # Reversing again changes nothing.
                        assert points_reverse(entry=target, reason="test") == reversal
                        assert points_state(member).balance == balance_before + reversal.points
            elif action == "adjust":
                points_adjust(
                    member=member, points=amount, note="测试", actor=ops, idempotency_key=f"a{next(_keys)}"
                )
            elif action == "wait":
                clock.advance(timedelta(days=amount))
            elif action == "sweep":
                points_expiries_write(member=member)
            state = points_state(member)
            assert state.spendable >= 0
            assert state.debt == 0 or state.spendable == 0
        points_expiries_write(member=member)
        state = points_state(member)
        assert state.unwritten_expiries == []
        assert _sum(member) == state.balance


def test_an_earning_replayed_with_its_key_is_credited_once(db):
    member = make_member()
    with clock.frozen_at(MONDAY_10):
        first = points_earn(member=member, points=100, reason="test", idempotency_key="k-1")
        again = points_earn(member=member, points=100, reason="test", idempotency_key="k-1")
    assert again.pk == first.pk
    assert PointsEntry.objects.filter(member=member).count() == 1
    assert Event.objects.filter(name="points.earned").count() == 1


def test_a_spend_beyond_the_spendable_points_is_refused_and_writes_nothing(db):
    member = make_member()
    with clock.frozen_at(MONDAY_10):
        give(member, 100)
        give(member, 500, holding_days=7)
        with pytest.raises(DomainError) as refused:
            points_spend(member=member, points=101, reason="reward", idempotency_key="s-1")
    assert (refused.value.code, refused.value.status) == ("insufficient_points", 409)
    assert refused.value.details == {"spendable": 100, "needed": 101}
    assert not PointsEntry.objects.filter(kind=EntryKind.REDEEM).exists()
    assert not Event.objects.filter(name="points.spent").exists()


def test_a_reversal_restores_the_balance_exactly_and_only_once(db):
    member = make_member()
    with clock.frozen_at(MONDAY_10):
        give(member, 300)
        earned = give(member, 700)
        assert points_state(member).balance == 1_000
        reversal = points_reverse(entry=earned, reason="order_cancelled")
        assert reversal is not None and reversal.points == -700
        assert points_reverse(entry=earned, reason="order_cancelled") == reversal
        state = points_state(member)
    assert (state.balance, state.spendable, state.debt) == (300, 300, 0)
    assert PointsEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 1
    assert Event.objects.filter(name="points.reversed").count() == 1
