"""The lifecycle: the transition table, the lock (by the buyer or at the lock date), the change window,
allocating a car, booking and confirming the delivery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forecourt.catalog.services import configuration_save, price_list_publish
from forecourt.catalog.tests.factories import draft_with_changes
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.orders.models import (
    ALLOWED_TRANSITIONS,
    OrderChange,
    OrderStatus,
    OrderStatusChange,
    Vehicle,
)
from forecourt.orders.services import (
    order_allocate_vehicle,
    order_change_configuration,
    order_delivery_book,
    order_delivery_confirm,
    order_lock,
    order_transition,
    orders_auto_lock,
    vehicle_add,
)

from .conftest import DEPOSIT, STD_CHOICES, STD_TOTAL, fresh, order_events

S = OrderStatus


def test_the_transition_table_is_one_step_forward_or_cancel_before_delivery():
    assert {
        S.CREATED: {S.INTENTION_PAID, S.CANCELLED},
        S.INTENTION_PAID: {S.DEPOSIT_PAID, S.CANCELLED},
        S.DEPOSIT_PAID: {S.LOCKED, S.CANCELLED},
        S.LOCKED: {S.ALLOCATED, S.CANCELLED},
        S.ALLOCATED: {S.FINAL_PAID, S.CANCELLED},
        S.FINAL_PAID: {S.READY_FOR_DELIVERY, S.CANCELLED},
        S.READY_FOR_DELIVERY: {S.DELIVERED, S.CANCELLED},
        S.DELIVERED: set(),
        S.CANCELLED: set(),
    } == ALLOWED_TRANSITIONS


def test_a_transition_off_the_table_is_refused_and_records_nothing(order):
    events = Event.objects.count()
    with pytest.raises(DomainError) as refused:
        order_transition(order=order, to_status=S.LOCKED)
    assert (refused.value.code, refused.value.status) == ("transition_not_allowed", 409)
    assert fresh(order).status == S.CREATED
    assert OrderStatusChange.objects.filter(order=order).count() == 1
    assert Event.objects.count() == events


def test_a_guard_is_checked_under_the_lock_money_first(order):
    with pytest.raises(DomainError) as refused:
        order_transition(order=order, to_status=S.INTENTION_PAID)
    assert refused.value.message == "The money for this step has not been received."
    assert fresh(order).status == S.CREATED


def test_every_transition_writes_history_and_an_event_with_the_dealer(deposit_paid, buyer, dealer):
    order = order_lock(order=deposit_paid, actor=buyer)
    change = OrderStatusChange.objects.filter(order=order).latest("at", "id")
    assert (change.from_status, change.to_status, change.actor, change.reason) == (
        "deposit_paid",
        "locked",
        buyer,
        "buyer",
    )
    event = Event.objects.get(name="order.locked")
    assert (event.subject_id, event.dealer_id, event.actor) == (order.number, dealer.pk, buyer)
    assert event.payload["from"] == "deposit_paid" and event.payload["buyer"] == buyer.public_id
    assert order.locked_at == clock.now()


def test_the_buyer_locks_only_after_the_deposit(order, buyer):
    with pytest.raises(DomainError) as refused:
        order_lock(order=order, actor=buyer)
    assert refused.value.code == "transition_not_allowed"
    assert fresh(order).status == S.CREATED


def test_someone_else_cannot_lock_the_order(deposit_paid, other_buyer, advisor):
    for actor in (other_buyer, advisor):
        with pytest.raises(DomainError) as refused:
            order_lock(order=deposit_paid, actor=actor)
        assert refused.value.status == 404
    assert fresh(deposit_paid).status == S.DEPOSIT_PAID


def test_the_order_locks_itself_when_the_lock_date_ends_and_the_sweeper_writes_it_down(deposit_paid):
    assert deposit_paid.lock_deadline == clock.now().date() + timedelta(days=7)
    clock.advance(timedelta(days=7, hours=13))  # Monday 30 November, 23:00: still the lock date
    assert fresh(deposit_paid).effective_status == S.DEPOSIT_PAID
    clock.advance(timedelta(hours=1))  # midnight: the lock date has ended
    order = fresh(deposit_paid)
    assert (order.status, order.effective_status, order.is_locked) == (S.DEPOSIT_PAID, S.LOCKED, True)

    assert orders_auto_lock() == 1
    assert orders_auto_lock() == 0
    order = fresh(deposit_paid)
    assert order.status == S.LOCKED
    assert OrderStatusChange.objects.get(order=order, to_status=S.LOCKED).reason == "lock_deadline"


def test_the_buyer_changes_the_configuration_at_the_price_list_the_order_was_placed_under(
    deposit_paid, buyer, catalogue, ops
):
    # Prices rise after the order was placed; the change is still priced under version 1.
    price_list_publish(
        price_list=draft_with_changes(catalogue, version=2, changes={"hud": 9_000, "aurora-std": 239_900}),
        actor=ops,
    )
    new = configuration_save(trim_code="aurora-std", option_codes=[*STD_CHOICES, "hud"], owner=buyer)
    assert new.price_list_version == 2

    order = order_change_configuration(order=deposit_paid, configuration=new, actor=buyer)

    assert (order.total_fen, order.price_list_version, order.configuration) == (STD_TOTAL + 4_000_00, 1, new)
    assert sorted(order.option_codes) == sorted([*STD_CHOICES, "hud"])
    change = OrderChange.objects.get(order=order)
    assert (change.old_total_fen, change.new_total_fen, change.difference_fen) == (
        STD_TOTAL,
        STD_TOTAL + 4_000_00,
        4_000_00,
    )
    event = Event.objects.get(name="order.configuration_changed")
    assert (event.payload["difference_fen"], event.payload["price_list_version"]) == (4_000_00, 1)


def test_after_the_lock_the_configuration_is_frozen(locked_order, buyer, catalogue):
    new = configuration_save(
        trim_code="aurora-pro", option_codes=["white", "black-int", "wheels-18"], owner=buyer
    )
    with pytest.raises(DomainError) as refused:
        order_change_configuration(order=locked_order, configuration=new, actor=buyer)
    assert (refused.value.code, refused.value.status) == ("change_window_closed", 409)
    assert fresh(locked_order).configuration != new
    assert not OrderChange.objects.exists()


def test_a_change_after_the_lock_date_is_refused_even_before_the_sweeper(deposit_paid, buyer, catalogue):
    new = configuration_save(
        trim_code="aurora-pro", option_codes=["white", "black-int", "wheels-18"], owner=buyer
    )
    clock.advance(timedelta(days=8))
    with pytest.raises(DomainError) as refused:
        order_change_configuration(order=deposit_paid, configuration=new, actor=buyer)
    assert refused.value.code == "change_window_closed"
    # The refusal rolled back, the due lock with it: the sweeper still writes it down.
    assert fresh(deposit_paid).status == S.DEPOSIT_PAID


def test_allocating_a_matching_car_sets_the_promised_date(locked_order, car, advisor):
    order = order_allocate_vehicle(order=locked_order, vehicle=car, actor=advisor)
    assert (order.status, order.vehicle, order.promised_delivery_date) == (
        S.ALLOCATED,
        car,
        clock.now().date() + timedelta(days=14),
    )
    assert Vehicle.objects.get(pk=car.pk).status == "allocated"
    assert "order.allocated" in order_events(order) and "order.vehicle_allocated" in order_events(order)


def test_a_car_from_the_makers_stock_can_be_allocated(locked_order, catalogue, advisor):
    maker_car = vehicle_add(vin="LRWYGCEK8PC000099", trim=catalogue.std, option_codes=STD_CHOICES)
    order = order_allocate_vehicle(order=locked_order, vehicle=maker_car, actor=advisor)
    assert order.vehicle == maker_car


def test_a_car_of_another_dealer_or_another_build_is_refused(locked_order, catalogue, advisor, other_dealer):
    theirs = vehicle_add(
        vin="LRWYGCEK8PC000002", trim=catalogue.std, option_codes=STD_CHOICES, dealer=other_dealer
    )
    other_build = vehicle_add(vin="LRWYGCEK8PC000003", trim=catalogue.std, option_codes=["red"], dealer=None)
    for vehicle, code in ((theirs, "vehicle_not_available"), (other_build, "vehicle_does_not_match")):
        with pytest.raises(DomainError) as refused:
            order_allocate_vehicle(order=locked_order, vehicle=vehicle, actor=advisor)
        assert refused.value.code == code
    assert fresh(locked_order).vehicle is None
    assert set(Vehicle.objects.values_list("status", flat=True)) == {"available"}


def test_a_car_is_allocated_to_one_order_only(locked_order, place, car, advisor, buyer):
    from .conftest import pay

    second = place()
    pay(second, "intention")
    pay(second, "deposit")
    second = order_lock(order=fresh(second), actor=buyer)
    order_allocate_vehicle(order=locked_order, vehicle=car, actor=advisor)
    with pytest.raises(DomainError) as refused:
        order_allocate_vehicle(order=second, vehicle=car, actor=advisor)
    assert refused.value.code == "vehicle_not_available"
    assert fresh(second).status == S.LOCKED


def test_the_staff_of_another_dealer_cannot_allocate(locked_order, car, other_advisor):
    with pytest.raises(DomainError) as refused:
        order_allocate_vehicle(order=locked_order, vehicle=car, actor=other_advisor)
    assert refused.value.status == 404
    assert Vehicle.objects.get(pk=car.pk).status == "available"


def test_an_early_final_payment_completes_on_allocation(locked_order, car, advisor):
    from forecourt.orders.services import order_payment_credit

    order_payment_credit(
        intent="pay_EARLYFINAL",
        purpose="order.final",
        reference=locked_order.number,
        amount_fen=STD_TOTAL - DEPOSIT,
    )
    order = order_allocate_vehicle(order=fresh(locked_order), vehicle=car, actor=advisor)
    assert (order.status, order.paid_fen) == (S.FINAL_PAID, STD_TOTAL)


def test_booking_and_confirming_the_delivery(final_paid_order, advisor, car):
    at = clock.now() + timedelta(days=3)
    order = order_delivery_book(order=final_paid_order, delivery_at=at, actor=advisor)
    assert (order.status, order.delivery_at) == (S.READY_FOR_DELIVERY, at)
    order = order_delivery_confirm(order=order, actor=advisor)
    assert (order.status, order.delivered_at) == (S.DELIVERED, clock.now())
    assert Vehicle.objects.get(pk=car.pk).status == "delivered"
    delivered = Event.objects.get(name="order.delivered")
    assert {key: delivered.payload[key] for key in ("buyer", "dealer", "trim", "total_fen", "vin")} == {
        "buyer": order.buyer.public_id,
        "dealer": order.dealer.public_id,
        "trim": "aurora-std",
        "total_fen": STD_TOTAL,
        "vin": car.vin,
    }


def test_a_delivery_in_the_past_is_refused(final_paid_order, advisor):
    with pytest.raises(DomainError) as refused:
        order_delivery_book(
            order=final_paid_order, delivery_at=clock.now() - timedelta(hours=1), actor=advisor
        )
    assert refused.value.details[0]["field"] == "delivery_at"
    assert fresh(final_paid_order).delivery_at is None


def test_delivery_cannot_be_confirmed_before_it_is_booked(final_paid_order, advisor):
    with pytest.raises(DomainError) as refused:
        order_delivery_confirm(order=final_paid_order, actor=advisor)
    assert refused.value.code == "transition_not_allowed"
    assert fresh(final_paid_order).status == S.FINAL_PAID
