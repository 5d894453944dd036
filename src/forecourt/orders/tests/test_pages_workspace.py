"""The dealer workspace's orders: the list and the order, allocating a car, the final payment taken in
store, booking and confirming the delivery. Only the delivering dealer's staff see an order; every
other dealer's staff get a 404 on every page and action, and a refused action is a message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client

from forecourt.core import clock
from forecourt.core.models import Event
from forecourt.orders.models import OrderStatus, Vehicle, VehicleStatus
from forecourt.orders.services import order_delivery_book, vehicle_add
from forecourt.payments.models import PaymentIntent

from .conftest import STD_CHOICES, STD_TOTAL, fresh

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _flashes(response) -> str:
    html = response.content.decode()
    start = html.find('<ul class="flashes"')
    return html[start : html.find("</ul>", start)] if start >= 0 else ""


def _later(days: int = 2) -> str:
    return (clock.local_now() + timedelta(days=days)).strftime("%Y-%m-%dT10:00")


def test_the_orders_list_shows_the_dealers_orders_in_chinese(advisor, order) -> None:
    html = _signed_in(advisor).get("/workspace/orders/").content.decode()

    assert f'data-number="{order.number}"' in html
    assert "138****" not in html or "****" in html
    assert "待交付订单" in html
    assert '<a href="/workspace/orders/" aria-current="page">订单</a>' in html


def test_the_orders_list_in_english(advisor, order) -> None:
    client = _signed_in(advisor)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get("/workspace/orders/").content.decode()

    assert "Orders to deliver" in html and order.number in html


def test_the_orders_list_filters_by_status(advisor, order, place) -> None:
    client = _signed_in(advisor)
    second = place()
    from .conftest import pay

    pay(second, "intention")

    created = client.get("/workspace/orders/", {"status": "created"}).content.decode()
    paid = client.get("/workspace/orders/", {"status": "intention_paid"}).content.decode()

    assert order.number in created and second.number not in created
    assert second.number in paid and order.number not in paid


def test_the_order_shows_the_locked_in_lines_and_no_way_to_change_the_price(advisor, order) -> None:
    html = _signed_in(advisor).get(f"/workspace/orders/{order.number}/").content.decode()

    assert 'id="order-lines"' in html and 'data-code="heat-pump"' in html
    assert f'id="amount-total">¥{STD_TOTAL // 100:,}<' in html
    assert 'id="order-price-list"' in html and "v1" in html
    assert 'id="applied-offers"' in html
    assert 'name="total' not in html and 'name="price' not in html and 'name="amount' not in html


def test_visitors_are_sent_to_sign_in_and_consumers_are_refused(client, buyer, order) -> None:
    assert client.get("/workspace/orders/").status_code == 302
    consumer = _signed_in(buyer)
    assert consumer.get("/workspace/orders/").status_code == 403
    assert consumer.get(f"/workspace/orders/{order.number}/").status_code == 403


def test_another_dealers_staff_get_a_404_on_every_page_and_action(other_advisor, locked_order, car) -> None:
    client = _signed_in(other_advisor)
    number = locked_order.number
    before = (fresh(locked_order).status, Event.objects.count(), PaymentIntent.objects.count())

    listing = client.get("/workspace/orders/").content.decode()
    assert number not in listing
    assert client.get(f"/workspace/orders/{number}/").status_code == 404
    for path, data in (
        ("allocate/", {"vin": car.vin}),
        ("final-payment/", {"receipt_number": "POS-1"}),
        ("delivery/", {"delivery_at": _later()}),
        ("delivered/", {}),
    ):
        assert client.post(f"/workspace/orders/{number}/{path}", data).status_code == 404, path

    assert (fresh(locked_order).status, Event.objects.count(), PaymentIntent.objects.count()) == before
    assert Vehicle.objects.get(pk=car.pk).status == VehicleStatus.AVAILABLE


def test_the_dealer_allocates_a_matching_car_from_stock(advisor, locked_order, car, catalogue) -> None:
    maker_car = vehicle_add(vin="LRWYGCEK8PC000002", trim=catalogue.std, option_codes=STD_CHOICES)
    client = _signed_in(advisor)

    page = client.get(f"/workspace/orders/{locked_order.number}/").content.decode()
    assert f'value="{car.vin}"' in page and f'value="{maker_car.vin}"' in page
    assert page.index(car.vin) < page.index(maker_car.vin)

    response = client.post(
        f"/workspace/orders/{locked_order.number}/allocate/", {"vin": car.vin}, follow=True
    )

    order = fresh(locked_order)
    assert (order.status, order.vehicle_id) == (OrderStatus.ALLOCATED, car.pk)
    assert car.vin in _flashes(response)
    assert 'id="final-payment"' in response.content.decode()


def test_allocating_an_unknown_vin_is_a_message(advisor, locked_order, car) -> None:
    client = _signed_in(advisor)

    for vin in ("NOT-A-VIN", "LRWYGCEK8PC999999"):
        response = client.post(
            f"/workspace/orders/{locked_order.number}/allocate/", {"vin": vin}, follow=True
        )
        assert response.status_code == 200
        assert "flash--error" in _flashes(response)

    assert fresh(locked_order).status == OrderStatus.LOCKED


def test_allocating_before_the_lock_is_a_message(advisor, order, car) -> None:
    response = _signed_in(advisor).post(
        f"/workspace/orders/{order.number}/allocate/", {"vin": car.vin}, follow=True
    )

    assert "flash--error" in _flashes(response)
    assert fresh(order).status == OrderStatus.CREATED
    assert Vehicle.objects.get(pk=car.pk).status == VehicleStatus.AVAILABLE


def test_the_final_payment_taken_in_store_is_confirmed_with_a_receipt(advisor, allocated_order) -> None:
    client = _signed_in(advisor)
    page = client.get(f"/workspace/orders/{allocated_order.number}/").content.decode()
    assert 'id="final-amount">¥212,900<' in page

    client.post(
        f"/workspace/orders/{allocated_order.number}/final-payment/", {"receipt_number": "POS-20261123-01"}
    )

    order = fresh(allocated_order)
    assert (order.status, order.paid_fen) == (OrderStatus.FINAL_PAID, STD_TOTAL)
    intent = PaymentIntent.objects.get(reference=order.number, purpose="order.final")
    assert (intent.provider, intent.amount_fen, intent.receipt_number) == (
        "offline",
        212_900_00,
        "POS-20261123-01",
    )


def test_a_final_payment_without_a_receipt_is_a_message(advisor, allocated_order) -> None:
    response = _signed_in(advisor).post(
        f"/workspace/orders/{allocated_order.number}/final-payment/", {"receipt_number": " "}, follow=True
    )

    assert "flash--error" in _flashes(response)
    assert fresh(allocated_order).status == OrderStatus.ALLOCATED
    assert not PaymentIntent.objects.filter(reference=allocated_order.number, purpose="order.final").exists()


def test_the_dealer_books_and_confirms_the_delivery(advisor, final_paid_order) -> None:
    client = _signed_in(advisor)
    when = _later()

    client.post(f"/workspace/orders/{final_paid_order.number}/delivery/", {"delivery_at": when})
    assert fresh(final_paid_order).status == OrderStatus.READY_FOR_DELIVERY
    page = client.get(f"/workspace/orders/{final_paid_order.number}/").content.decode()
    assert 'id="deliver-submit"' in page

    response = client.post(f"/workspace/orders/{final_paid_order.number}/delivered/", follow=True)

    order = fresh(final_paid_order)
    assert order.status == OrderStatus.DELIVERED
    assert order.vehicle is not None and order.vehicle.status == VehicleStatus.DELIVERED
    assert "flash--success" in _flashes(response)


def test_confirming_a_delivery_not_booked_is_a_message(advisor, final_paid_order) -> None:
    response = _signed_in(advisor).post(
        f"/workspace/orders/{final_paid_order.number}/delivered/", follow=True
    )

    assert response.status_code == 200
    assert "flash--error" in _flashes(response)
    assert fresh(final_paid_order).status == OrderStatus.FINAL_PAID


def test_a_malformed_delivery_time_is_a_message(advisor, final_paid_order) -> None:
    response = _signed_in(advisor).post(
        f"/workspace/orders/{final_paid_order.number}/delivery/", {"delivery_at": "next tuesday"}, follow=True
    )

    assert "flash--error" in _flashes(response)
    assert fresh(final_paid_order).delivery_at is None


def test_a_late_delivery_shows_the_days_and_the_compensation(advisor, final_paid_order) -> None:
    from forecourt.orders.services import order_late_days_accrue

    order = fresh(final_paid_order)
    with clock.frozen_at(clock.now() + timedelta(days=17)):
        order_delivery_book(order=order, delivery_at=clock.now() + timedelta(days=1), actor=advisor)
        order_late_days_accrue(order=fresh(order))
        html = _signed_in(advisor).get(f"/workspace/orders/{order.number}/").content.decode()

    assert 'id="order-late"' in html
    # Promised for 7 December (allocated 23 November + 14 days); on 10 December it is two whole days late.
    assert 'id="order-late">延迟 2 天 · 补偿 200 积分<' in html


def test_service_advisors_of_the_dealer_see_its_orders_too(dealer, order) -> None:
    from forecourt.accounts.models import Role
    from forecourt.accounts.tests.factories import UserFactory

    service = UserFactory(username="service-liu", role=Role.SERVICE_ADVISOR, dealer=dealer)

    html = _signed_in(service).get("/workspace/orders/").content.decode()

    assert order.number in html


def test_an_action_without_the_csrf_token_is_refused(advisor, locked_order, car) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(advisor)

    response = client.post(f"/workspace/orders/{locked_order.number}/allocate/", {"vin": car.vin})

    assert response.status_code == 403
    assert fresh(locked_order).status == OrderStatus.LOCKED
    assert Vehicle.objects.get(pk=car.pk).status == VehicleStatus.AVAILABLE
