"""Placing an order from a saved configuration: what it copies, the dealer it goes to, what it refuses."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from forecourt.catalog.services import configuration_save, price_list_publish
from forecourt.catalog.tests.factories import draft_with_changes
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.dealers.models import Dealer
from forecourt.dealers.tests.factories import DealerFactory
from forecourt.orders.models import Order, OrderStatus, OrderStatusChange
from forecourt.orders.services import order_place

from .conftest import DEPOSIT, INTENTION, MONDAY_10, STD_CHOICES, STD_TOTAL, order_events


def test_order_copies_the_saved_quote_and_takes_the_amounts_from_settings(
    order, configuration, dealer, buyer
):
    assert order.number.startswith("FO") and len(order.number) == 14
    assert (order.status, order.buyer, order.dealer, order.city) == ("created", buyer, dealer, dealer.city)
    assert order.lines == configuration.lines
    assert order.option_codes == sorted(STD_CHOICES) == configuration.option_codes
    assert (order.price_list_version, order.vehicle_price_fen, order.total_fen) == (1, STD_TOTAL, STD_TOTAL)
    assert (order.intention_fen, order.deposit_fen, order.final_fen) == (
        INTENTION,
        DEPOSIT,
        STD_TOTAL - DEPOSIT,
    )
    assert (order.paid_fen, order.refunded_fen, order.discount_fen, order.applied_offers) == (0, 0, 0, [])
    assert order.lock_deadline == date(2026, 11, 30)
    assert order_events(order) == ["order.created"]
    change = OrderStatusChange.objects.get(order=order)
    assert (change.from_status, change.to_status, change.actor) == ("", "created", buyer)


def test_order_without_a_dealer_goes_to_the_nearest_delivering_dealer_of_the_city(place, city, dealer):
    Dealer.objects.filter(pk=dealer.pk).update(latitude=city.latitude + Decimal("0.05"))  # 5.5 km north
    near = DealerFactory(name="上海交付中心", city=city, delivery_centre=True, latitude=city.latitude)
    DealerFactory(name="上海体验店", city=city, experience_store=True, latitude=city.latitude)
    order = place(dealer=None, city=city)
    assert order.dealer == near


def test_order_without_dealer_or_city_is_refused_naming_the_dealer(place):
    with pytest.raises(DomainError) as refused:
        place(dealer=None)
    assert (refused.value.code, refused.value.status) == ("no_delivering_dealer", 422)
    assert refused.value.details[0]["field"] == "dealer"
    assert Order.objects.count() == 0


def test_a_store_that_does_not_deliver_is_refused(place, city):
    store = DealerFactory(name="上海来福士体验店", city=city, experience_store=True)
    with pytest.raises(DomainError) as refused:
        place(dealer=store)
    assert refused.value.code == "dealer_does_not_deliver"
    assert Order.objects.count() == 0
    assert not Event.objects.filter(name="order.created").exists()


def test_only_a_customer_account_can_order(place, advisor):
    with pytest.raises(DomainError) as refused:
        place(buyer=advisor)
    assert (refused.value.code, refused.value.status) == ("forbidden", 403)
    assert Order.objects.count() == 0


@pytest.mark.parametrize("days", [-1, 61])
def test_a_lock_date_outside_the_window_is_refused(place, days):
    with pytest.raises(DomainError) as refused:
        place(lock_deadline=MONDAY_10.date() + timedelta(days=days))
    assert refused.value.code == "invalid_lock_deadline"
    assert Order.objects.count() == 0


def test_a_configuration_saved_under_old_prices_must_be_saved_again(place, catalogue, configuration, ops):
    draft = draft_with_changes(catalogue, version=2, changes={"aurora-std": 239_900})
    price_list_publish(price_list=draft, actor=ops)

    with pytest.raises(DomainError) as refused:
        place()
    assert (refused.value.code, refused.value.status) == ("price_list_changed", 409)
    assert Order.objects.count() == 0

    resaved = configuration_save(trim_code="aurora-std", option_codes=STD_CHOICES)
    order = place(configuration=resaved)
    assert (order.price_list_version, order.total_fen) == (2, STD_TOTAL + 10_000_00)


def test_ordering_needs_a_configuration_or_an_edition(buyer, dealer):
    with pytest.raises(DomainError) as refused:
        order_place(buyer=buyer, dealer=dealer)
    assert refused.value.status == 422
    assert Order.objects.count() == 0


def test_order_numbers_are_unguessable_and_distinct(place):
    numbers = {place().number for _ in range(20)}
    assert len(numbers) == 20
    assert all((number[2:].isalnum() and number[2:].isupper()) or number[2:].isdigit() for number in numbers)


def test_effective_status_is_evaluated_on_a_frozen_clock(order):
    assert order.effective_status == OrderStatus.CREATED
    assert clock.now() == MONDAY_10
