"""Points from a real order's life (the orders app's own services and the sandbox gateway): the purchase
earns on delivery, pending for the holding days; a return after delivery takes the points back; late
delivery is compensated automatically, once per day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forecourt.core import clock
from forecourt.core.money import Money
from forecourt.loyalty.models import EntryKind, PointsEntry
from forecourt.loyalty.selectors import member_of
from forecourt.loyalty.services import points_state
from forecourt.orders.services import order_delivery_book, order_delivery_confirm
from forecourt.orders.tests.conftest import *  # noqa: F403 (the orders cast: fixtures used by name)
from forecourt.orders.tests.conftest import (  # noqa: F401 (autouse fixtures)
    _english_messages,
    _fresh_caches,
    _order_amounts,
    committed,
    fresh,
)
from forecourt.payments.selectors import payment_intents_for
from forecourt.payments.services import payment_refund

from .members_cast import club_rules

pytestmark = pytest.mark.django_db
# aurora-std with a heat pump, ¥232,900: 500 fixed points plus one per ¥100.
PURCHASE_POINTS = 500 + 2_329


@pytest.fixture
def rules(db):
    return club_rules()


def _deliver(order, advisor, *, late_days: int = 0):
    clock.advance(timedelta(days=14 + late_days))
    with committed():
        order_delivery_book(order=fresh(order), delivery_at=clock.now() + timedelta(hours=1), actor=advisor)
    clock.advance(timedelta(hours=2))
    with committed():
        return order_delivery_confirm(order=fresh(order), actor=advisor)


def test_a_delivered_order_earns_purchase_points_available_after_the_holding_days(
    final_paid_order, advisor, rules
):
    delivered = _deliver(final_paid_order, advisor)
    member = member_of(delivered.buyer)
    assert member is not None
    entry = PointsEntry.objects.get(member=member, reason="purchase")
    assert (entry.points, entry.source_ref) == (PURCHASE_POINTS, delivered.number)
    assert entry.available_at == delivered.delivered_at + timedelta(days=7)
    assert (points_state(member).pending, points_state(member).spendable) == (PURCHASE_POINTS, 0)
    clock.advance(timedelta(days=7))
    assert points_state(member).spendable == PURCHASE_POINTS


def test_a_refund_after_delivery_is_a_return_that_takes_the_points_back(final_paid_order, advisor, rules):
    delivered = _deliver(final_paid_order, advisor)
    member = member_of(delivered.buyer)
    assert member is not None
    final = next(
        intent
        for intent in payment_intents_for(reference=delivered.number, purpose="order.final")
        if intent.status == "succeeded"
    )
    with committed():
        payment_refund(
            intent=final, amount=Money(10_000_00), reason="car returned", idempotency_key="return-1"
        )
    reversal = PointsEntry.objects.get(member=member, kind=EntryKind.REVERSAL)
    assert (reversal.points, reversal.reason) == (-PURCHASE_POINTS, "order_returned")
    assert points_state(member).balance == 0


def test_late_delivery_days_are_credited_to_the_buyer(final_paid_order, advisor, rules):
    delivered = _deliver(final_paid_order, advisor, late_days=3)  # promised 7 December, delivered the 10th
    member = member_of(delivered.buyer)
    assert member is not None
    late = PointsEntry.objects.filter(member=member, reason="late_delivery").order_by("note")
    assert [(entry.note, entry.points) for entry in late] == [("2026-12-08", 100), ("2026-12-09", 100)]
    assert points_state(member).spendable == 200
