"""The loyalty sweeper: lapsed points get their expiry entries (once), so the ledger's sum equals the
derived balance; members whose lapsed points were all spent are looked at once, not on every run."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db.models import Sum

from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.loyalty.models import EntryKind, Member, PointsEntry
from forecourt.loyalty.services import points_spend, points_state
from forecourt.loyalty.services.sweeps import members_with_lapses, points_expiries_sweep

from .members_cast import MONDAY_10, give, make_member

pytestmark = pytest.mark.django_db
# Points earned in 2026 lapse when 2028 begins.
NEW_YEAR_2028 = datetime(2028, 1, 1, tzinfo=SHANGHAI)


def _sum(member: Member) -> int:
    return PointsEntry.objects.filter(member=member).aggregate(total=Sum("points"))["total"] or 0


def test_lapsed_points_get_their_expiry_entry_once_and_the_sum_catches_up(db):
    member, spent_all = make_member(), make_member("李四")
    with clock.frozen_at(MONDAY_10):
        lot = give(member, 500)
        give(spent_all, 100)
        points_spend(member=member, points=120, reason="reward", idempotency_key="s1")
        points_spend(member=spent_all, points=100, reason="reward", idempotency_key="s2")
    with clock.frozen_at(NEW_YEAR_2028 - timedelta(seconds=1)):
        assert points_expiries_sweep() == 0
        assert points_state(member).spendable == 380
    with clock.frozen_at(NEW_YEAR_2028 + timedelta(hours=1)):
        # Lapsed when read, before the sweeper writes anything.
        assert points_state(member).balance == 0
        assert _sum(member) == 380
        assert points_expiries_sweep() == 1
        expiry = PointsEntry.objects.get(kind=EntryKind.EXPIRY)
        assert (expiry.member, expiry.points, expiry.lot, expiry.occurred_at) == (
            member,
            -380,
            lot,
            NEW_YEAR_2028,
        )
        assert _sum(member) == points_state(member).balance == 0
        assert _sum(spent_all) == points_state(spent_all).balance == 0
        assert list(members_with_lapses(clock.now())) == []
        assert points_expiries_sweep() == 0
    assert PointsEntry.objects.filter(kind=EntryKind.EXPIRY).count() == 1


def test_a_member_is_looked_at_again_when_a_later_lot_lapses(db):
    member = make_member()
    with clock.frozen_at(MONDAY_10):
        give(member, 100)
    with clock.frozen_at(MONDAY_10 + timedelta(days=400)):
        give(member, 200)
    with clock.frozen_at(NEW_YEAR_2028 + timedelta(hours=1)):
        assert points_expiries_sweep() == 1
    assert list(members_with_lapses(NEW_YEAR_2028 + timedelta(days=300))) == []
    later = datetime(2029, 1, 1, 1, 0, tzinfo=SHANGHAI)
    assert list(members_with_lapses(later)) == [member]
    with clock.frozen_at(later):
        assert points_expiries_sweep() == 1
        assert _sum(member) == points_state(member).balance == 0


def test_the_command_runs_the_sweeps_and_says_what_it_did(db):
    member = make_member()
    with clock.frozen_at(MONDAY_10):
        give(member, 100)
    output = io.StringIO()
    with clock.frozen_at(NEW_YEAR_2028):
        call_command("loyalty_sweep", stdout=output)
    assert output.getvalue().split() == ["expiries=1", "reward_orders=0"]
