"""Limited editions: holds on units, sold out answered fast with no write, expiry when read, payments
confirming (or re-taking) a unit, and cancelling giving it back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.orders.models import EditionHold, EditionStock, Order, OrderPayment
from forecourt.orders.selectors import edition_availability, editions_on_sale
from forecourt.orders.services import holds_expire, order_pay_start, order_place, orders_sweep
from forecourt.payments.models import PaymentIntent

from .conftest import (
    INTENTION,
    RETURN_URL,
    committed,
    consumer,
    fresh,
    intent_for,
    make_edition,
    notify_paid,
    pay,
    stock_counts,
)

# aurora-pro ¥269,900 + red ¥8,000 + tan interior ¥5,000 + 20-inch wheels ¥6,000 + pilot pack ¥25,000
EDITION_TOTAL = 313_900_00


def _order(edition, buyer, dealer, **kwargs):
    return order_place(buyer=buyer, edition=edition, dealer=dealer, **kwargs)


def test_ordering_an_edition_holds_a_unit_for_fifteen_minutes(edition, buyer, dealer):
    order = _order(edition, buyer, dealer)
    assert (order.edition, order.total_fen, order.configuration) == (edition, EDITION_TOTAL, None)
    hold = EditionHold.objects.get(order=order)
    assert (hold.status, hold.expires_at, hold.buyer) == ("held", clock.now() + timedelta(minutes=15), buyer)
    assert stock_counts(edition) == (3, 1, 0)
    assert Event.objects.get(name="order.created").payload["edition"] == edition.code


def test_paying_the_intention_money_confirms_the_unit(edition, buyer, dealer):
    order = _order(edition, buyer, dealer)
    pay(order, "intention")
    assert EditionHold.objects.get(order=order).status == "confirmed"
    assert stock_counts(edition) == (3, 0, 1)
    pay(fresh(order), "deposit")
    assert stock_counts(edition) == (3, 0, 1)


def test_one_unit_per_buyer(edition, buyer, dealer):
    first = _order(edition, buyer, dealer)
    with pytest.raises(DomainError) as refused:
        _order(edition, buyer, dealer)
    assert (refused.value.code, refused.value.details) == ("edition_already_ordered", {"order": first.number})
    assert stock_counts(edition) == (3, 1, 0)
    assert Order.objects.count() == 1


def test_when_every_remaining_unit_is_held_the_answer_says_when_the_first_hold_ends(edition, dealer):
    for index in range(3):
        _order(edition, consumer(index), dealer)
        clock.advance(timedelta(minutes=1))
    with pytest.raises(DomainError) as refused:
        _order(edition, consumer(9), dealer)
    assert (refused.value.code, refused.value.status) == ("all_units_held", 409)
    assert refused.value.details == {
        "first_hold_expires_at": (clock.now() + timedelta(minutes=12)).isoformat()
    }
    assert Order.objects.count() == 3
    assert stock_counts(edition) == (3, 3, 0)


def test_sold_out_is_answered_from_one_read_and_writes_nothing(catalogue, dealer, buyer):
    edition = make_edition(catalogue, units=1)
    first = _order(edition, consumer(1), dealer)
    pay(first, "intention")
    assert stock_counts(edition) == (1, 0, 1)
    rows = (Order.objects.count(), EditionHold.objects.count(), Event.objects.count())

    with CaptureQueriesContext(connection) as queries, pytest.raises(DomainError) as refused:
        _order(edition, buyer, dealer)

    assert (refused.value.code, refused.value.status) == ("sold_out", 409)
    statements = [query["sql"].lstrip().split()[0].upper() for query in queries.captured_queries]
    assert set(statements) == {"SELECT"}
    assert len(statements) <= 3
    assert (Order.objects.count(), EditionHold.objects.count(), Event.objects.count()) == rows


def test_an_unpaid_hold_expires_when_read_and_its_unit_goes_to_the_next_buyer(catalogue, dealer):
    edition = make_edition(catalogue, units=1)
    first = _order(edition, consumer(1), dealer)
    stock = EditionStock.objects.get(edition=edition)
    assert edition_availability(stock=stock).units_free == 0

    clock.advance(timedelta(minutes=15))
    hold = EditionHold.objects.get(order=first)
    assert (hold.status, hold.effective_status) == ("held", "expired")
    assert edition_availability(stock=stock).units_free == 1

    second = _order(edition, consumer(2), dealer)
    assert EditionHold.objects.get(order=first).status == "expired"
    assert EditionHold.objects.get(order=second).status == "held"
    assert stock_counts(edition) == (1, 1, 0)


def test_a_payment_after_the_hold_expired_takes_a_free_unit_again(edition, buyer, dealer):
    order = _order(edition, buyer, dealer)
    intent = intent_for(order, "intention")
    clock.advance(timedelta(minutes=20))
    assert holds_expire() == 1
    assert stock_counts(edition) == (3, 0, 0)

    notify_paid(intent)

    assert (fresh(order).status, EditionHold.objects.get(order=order).status) == (
        "intention_paid",
        "confirmed",
    )
    assert stock_counts(edition) == (3, 0, 1)


def test_a_payment_after_the_hold_expired_and_the_edition_sold_out_is_refunded_and_the_order_cancelled(
    catalogue, buyer, dealer
):
    edition = make_edition(catalogue, units=1)
    late = _order(edition, buyer, dealer)
    intent = intent_for(late, "intention")
    clock.advance(timedelta(minutes=16))
    winner = _order(edition, consumer(2), dealer)
    pay(winner, "intention")

    notify_paid(intent)

    late = fresh(late)
    assert (late.status, late.cancel_reason, late.paid_fen) == ("cancelled", "sold_out", 0)
    payment = OrderPayment.objects.get(intent=intent.public_id)
    assert (payment.credited_fen, payment.excess_fen, payment.refunded_fen) == (0, INTENTION, INTENTION)
    assert PaymentIntent.objects.get(pk=intent.pk).refunded_fen == INTENTION
    assert stock_counts(edition) == (1, 0, 1)


def test_a_payment_that_arrives_just_after_the_time_keeps_the_unit_nobody_took(edition, buyer, dealer):
    order = _order(edition, buyer, dealer)
    intent = intent_for(order, "intention")
    clock.advance(timedelta(minutes=16))
    notify_paid(intent)
    assert EditionHold.objects.get(order=order).status == "confirmed"
    assert stock_counts(edition) == (3, 0, 1)


def test_coming_back_after_the_hold_expired_renews_it_when_a_unit_is_free(edition, buyer, dealer):
    order = _order(edition, buyer, dealer)
    clock.advance(timedelta(minutes=30))
    order_pay_start(order=order, stage="intention", provider="sandbox", return_url=RETURN_URL, actor=buyer)
    hold = EditionHold.objects.get(order=order)
    assert (hold.status, hold.expires_at) == ("held", clock.now() + timedelta(minutes=15))
    assert stock_counts(edition) == (3, 1, 0)


def test_coming_back_after_the_hold_expired_and_the_edition_sold_out_is_refused(catalogue, buyer, dealer):
    edition = make_edition(catalogue, units=1)
    order = _order(edition, buyer, dealer)
    clock.advance(timedelta(minutes=30))
    pay(_order(edition, consumer(2), dealer), "intention")
    with pytest.raises(DomainError) as refused:
        order_pay_start(
            order=order, stage="intention", provider="sandbox", return_url=RETURN_URL, actor=buyer
        )
    assert refused.value.code == "sold_out"
    assert PaymentIntent.objects.filter(reference=order.number).count() == 0


def test_cancelling_releases_a_held_unit_and_returns_a_sold_one(edition, buyer, other_buyer, dealer):
    held = _order(edition, buyer, dealer)
    sold = _order(edition, other_buyer, dealer)
    pay(sold, "intention")
    assert stock_counts(edition) == (3, 1, 1)
    with committed():
        from forecourt.orders.services import order_cancel

        order_cancel(order=held, actor=buyer)
        order_cancel(order=fresh(sold), actor=other_buyer)
    assert stock_counts(edition) == (3, 0, 0)
    assert set(EditionHold.objects.values_list("status", flat=True)) == {"released"}
    # The buyer may order again once their unit was given back.
    _order(edition, buyer, dealer)
    assert stock_counts(edition) == (3, 1, 0)


def test_city_stock_needs_a_city_and_a_dealer_there(catalogue, city, other_city, dealer, other_dealer, buyer):
    edition = make_edition(catalogue, units=2, city=city)
    with pytest.raises(DomainError) as refused:
        _order(edition, buyer, dealer)
    assert refused.value.code == "city_required"
    with pytest.raises(DomainError) as refused:
        _order(edition, buyer, other_dealer, city=other_city)
    assert refused.value.code == "edition_not_in_city"
    with pytest.raises(DomainError) as refused:
        _order(edition, buyer, other_dealer, city=city)
    assert (refused.value.code, refused.value.details[0]["field"]) == ("edition_not_in_city", "dealer")
    assert Order.objects.count() == 0
    order = _order(edition, buyer, None, city=city)
    assert (order.dealer, order.city) == (dealer, city)


def test_the_sweeper_expires_holds_and_cancels_orders_nobody_paid_for(edition, buyer, dealer):
    order = _order(edition, buyer, dealer)
    clock.advance(timedelta(minutes=20))
    assert orders_sweep()["holds_expired"] == 1
    clock.advance(timedelta(hours=24))
    with committed():
        counts = orders_sweep()
    assert counts == {"holds_expired": 0, "orders_locked": 0, "late_days": 0, "unpaid_editions_cancelled": 1}
    assert (fresh(order).status, fresh(order).cancel_reason) == ("cancelled", "hold_expired")
    assert stock_counts(edition) == (3, 0, 0)


def test_editions_on_sale_show_price_and_units_left(edition, buyer, dealer):
    _order(edition, buyer, dealer)
    [offer] = editions_on_sale()
    assert offer.price is not None
    assert (offer.edition, offer.price.amount, offer.units_total, offer.units_free, offer.sold_out) == (
        edition,
        EDITION_TOTAL,
        3,
        2,
        False,
    )
