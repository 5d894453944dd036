"""The buyer's pages: ordering a saved configuration, the order's task list, paying through the sandbox,
locking, changing and cancelling, and my orders. Chinese by default, English on the switch; anyone
else's order is a 404; a refused action is a message, never a 500."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client

from forecourt.catalog.services import configuration_save
from forecourt.core import clock
from forecourt.core.models import Event
from forecourt.orders.models import Order, OrderStatus
from forecourt.orders.services import order_place
from forecourt.payments.models import PaymentIntent

from .conftest import DEPOSIT, INTENTION, STD_TOTAL, committed, fresh, intent_for, notify_paid, pay

pytestmark = pytest.mark.django_db

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _english(client: Client) -> Client:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _form(client: Client, configuration, **overrides) -> dict[str, str]:
    page = client.get(f"/orders/new/{configuration.share_code}/?city=shanghai").content.decode()
    found = KEY.search(page)
    assert found is not None
    data = {"idempotency_key": found.group(1), "city": "shanghai", "lock_deadline": "2026-11-30"}
    data.update(overrides)
    return data


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


# --- ordering a saved configuration ---------------------------------------------------------------


def test_the_saved_configuration_page_offers_to_order_the_car(client, configuration) -> None:
    html = client.get(f"/c/{configuration.share_code}/").content.decode()

    assert 'id="order-this-car"' in html
    assert f'href="/orders/new/{configuration.share_code}/"' in html
    assert "订购这辆车" in html


def test_ordering_asks_a_visitor_to_sign_in_first(client, configuration) -> None:
    response = client.get(f"/orders/new/{configuration.share_code}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/account/sign-in/?next=/orders/new/")


def test_the_order_form_suggests_the_nearest_delivering_dealer_of_the_city(
    buyer, configuration, dealer
) -> None:
    html = _signed_in(buyer).get(f"/orders/new/{configuration.share_code}/?city=shanghai").content.decode()

    assert f'<option value="{dealer.public_id}" selected>' in html
    assert 'name="lock_deadline"' in html and 'value="2026-11-30"' in html
    assert 'min="2026-11-23"' in html
    assert "¥2,000" in html and "¥20,000" in html and "¥232,900" in html
    assert "提交订单" in html


def test_the_order_form_in_english(buyer, configuration, dealer) -> None:
    html = _english(_signed_in(buyer)).get(f"/orders/new/{configuration.share_code}/").content.decode()

    assert "Order this car" in html and "Place the order" in html
    assert "提交订单" not in html


def test_choosing_a_city_lists_its_delivering_dealers_suggested_first(
    buyer, configuration, dealer, other_dealer
) -> None:
    fragment = _signed_in(buyer).get("/orders/dealers/", {"city": "hangzhou"}).content.decode()

    assert other_dealer.public_id in fragment and dealer.public_id not in fragment
    assert f'value="{other_dealer.public_id}" selected' in fragment


def test_placing_an_order_goes_to_its_task_list(buyer, configuration, dealer) -> None:
    client = _signed_in(buyer)

    response = client.post(f"/orders/new/{configuration.share_code}/", _form(client, configuration))

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.number}/"
    assert (order.buyer_id, order.dealer_id, order.status) == (buyer.pk, dealer.pk, OrderStatus.CREATED)
    assert order.lock_deadline is not None
    assert (order.total_fen, order.lock_deadline.isoformat()) == (STD_TOTAL, "2026-11-30")
    page = client.get(response["Location"]).content.decode()
    assert 'data-task="intention" data-state="next"' in page
    assert "支付意向金" in page


def test_sending_the_order_form_twice_places_one_order(buyer, configuration, dealer) -> None:
    client = _signed_in(buyer)
    data = _form(client, configuration)

    first = client.post(f"/orders/new/{configuration.share_code}/", data)
    second = client.post(f"/orders/new/{configuration.share_code}/", data)

    assert Order.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/orders/{Order.objects.get().number}/"
    assert Event.objects.filter(name="order.created").count() == 1


def test_a_refused_order_says_why_and_places_nothing(buyer, configuration, dealer) -> None:
    client = _signed_in(buyer)

    response = client.post(
        f"/orders/new/{configuration.share_code}/", _form(client, configuration, lock_deadline="2027-06-01")
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="order-error"' in html and 'aria-invalid="true"' in html
    assert Order.objects.count() == 0
    assert not Event.objects.filter(name="order.created").exists()


def test_an_unknown_dealer_is_a_message_not_a_500(buyer, configuration, dealer) -> None:
    client = _signed_in(buyer)

    response = client.post(
        f"/orders/new/{configuration.share_code}/",
        _form(client, configuration, dealer="dlr_NOSUCHDEALER0000"),
    )

    assert response.status_code == 422
    assert 'id="order-error"' in response.content.decode()
    assert Order.objects.count() == 0


def test_staff_cannot_place_an_order(advisor, configuration, dealer) -> None:
    client = _signed_in(advisor)
    page = client.get(f"/orders/new/{configuration.share_code}/").content.decode()
    assert 'id="not-a-customer"' in page

    response = client.post(f"/orders/new/{configuration.share_code}/", _form(client, configuration))

    assert response.status_code == 403
    assert Order.objects.count() == 0


def test_an_unknown_configuration_is_a_404(buyer) -> None:
    assert _signed_in(buyer).get("/orders/new/NOSUCHCODE/").status_code == 404


# --- the order page -------------------------------------------------------------------------------


def test_the_order_page_is_a_task_list_in_chinese(buyer, order) -> None:
    response = _signed_in(buyer).get(f"/orders/{order.number}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="order-number">{order.number}<' in html
    assert [m.group(1) for m in re.finditer(r'data-task="(\w+)" data-state="(\w+)"', html)][:8] == [
        "intention",
        "deposit",
        "lock",
        "allocation",
        "final",
        "delivery_booking",
        "documents",
        "delivery",
    ]
    assert 'id="pay-form"' in html and 'value="sandbox"' in html and "支付 ¥2,000" in html
    assert "全国统一价 v1" in html or "v1" in html
    assert 'id="order-lines"' in html and "热泵空调" in html
    assert 'id="amount-total">¥232,900<' in html
    assert "身份证" in html


def test_the_order_page_in_english(buyer, order) -> None:
    html = _english(_signed_in(buyer)).get(f"/orders/{order.number}/").content.decode()

    assert "Pay the intention money" in html and "Step by step" in html
    assert "Heat pump" in html
    assert "支付意向金" not in html


def test_another_buyer_gets_a_404_on_every_page_and_action_of_an_order(other_buyer, deposit_paid) -> None:
    client = _signed_in(other_buyer)
    number = deposit_paid.number
    before = (fresh(deposit_paid).status, Event.objects.count(), PaymentIntent.objects.count())

    for path in ("", "change/", "cancel/", "payment-status/?paying=deposit"):
        assert client.get(f"/orders/{number}/{path}").status_code == 404, path
    for path, data in (
        ("pay/", {"stage": "final", "provider": "sandbox"}),
        ("lock/", {}),
        ("cancel/", {}),
        ("delivery/", {"delivery_at": "2026-12-20T10:00"}),
        ("change/", {"configuration": deposit_paid.configuration.share_code}),
    ):
        assert client.post(f"/orders/{number}/{path}", data).status_code == 404, path

    assert (fresh(deposit_paid).status, Event.objects.count(), PaymentIntent.objects.count()) == before


def test_my_orders_lists_only_my_own(buyer, other_buyer, order, configuration, dealer) -> None:
    theirs = order_place(buyer=other_buyer, configuration=configuration, dealer=dealer)

    html = _signed_in(buyer).get("/orders/").content.decode()

    assert f'data-number="{order.number}"' in html
    assert theirs.number not in html
    assert "我的订单" in html


def test_a_consumer_finds_my_orders_in_the_navigation(buyer) -> None:
    html = _signed_in(buyer).get("/").content.decode()

    assert '<a href="/orders/">我的订单</a>' in html


# --- paying ---------------------------------------------------------------------------------------


def test_paying_goes_to_the_sandbox_payment_page(buyer, order) -> None:
    response = _signed_in(buyer).post(
        f"/orders/{order.number}/pay/", {"stage": "intention", "provider": "sandbox"}
    )

    intent = PaymentIntent.objects.get(reference=order.number)
    assert response.status_code == 302
    assert response["Location"] == f"/payments/sandbox/{intent.out_trade_no}/"
    assert (intent.purpose, intent.amount_fen, intent.status) == ("order.intention", INTENTION, "created")
    assert intent.return_url.endswith(f"/orders/{order.number}/?paying=intention")


def test_paying_a_stage_that_is_not_due_is_a_message(buyer, order) -> None:
    client = _signed_in(buyer)

    response = client.post(
        f"/orders/{order.number}/pay/", {"stage": "final", "provider": "sandbox"}, follow=True
    )

    assert response.status_code == 200
    assert any("意向金" in message for message in _messages(response))
    assert not PaymentIntent.objects.filter(reference=order.number).exists()


def test_an_unknown_provider_is_a_message(buyer, order) -> None:
    response = _signed_in(buyer).post(
        f"/orders/{order.number}/pay/", {"stage": "intention", "provider": "paypal"}, follow=True
    )

    assert response.status_code == 200
    assert 'class="flash flash--error"' in response.content.decode()
    assert not PaymentIntent.objects.filter(reference=order.number).exists()


def test_back_from_paying_the_page_polls_until_the_notification_is_credited(buyer, order) -> None:
    client = _signed_in(buyer)
    intent = intent_for(order, "intention")

    waiting = client.get(f"/orders/{order.number}/?paying=intention").content.decode()
    assert 'data-state="processing"' in waiting
    assert f'hx-get="/orders/{order.number}/payment-status/?paying=intention"' in waiting
    assert 'hx-trigger="every 2s"' in waiting
    assert "支付处理中" in waiting
    still = client.get(f"/orders/{order.number}/payment-status/?paying=intention", HTTP_HX_REQUEST="true")
    assert still.status_code == 200 and 'data-state="processing"' in still.content.decode()

    notify_paid(intent)

    done = client.get(f"/orders/{order.number}/payment-status/?paying=intention", HTTP_HX_REQUEST="true")
    assert done.status_code == 204
    assert done["HX-Redirect"] == f"/orders/{order.number}/?paying=intention"
    page = client.get(done["HX-Redirect"]).content.decode()
    assert 'data-state="credited"' in page and "hx-trigger" not in page
    assert 'data-task="intention" data-state="done"' in page
    assert 'data-task="deposit" data-state="next"' in page
    assert "2026-11-23 10:00" in page


def test_a_failed_payment_says_so_and_offers_to_pay_again(buyer, order) -> None:
    from forecourt.payments.services import payment_intent_close

    payment_intent_close(intent=intent_for(order, "intention"))

    page = _signed_in(buyer).get(f"/orders/{order.number}/?paying=intention").content.decode()

    assert 'data-state="failed"' in page
    assert 'id="pay-form"' in page


# --- lock, change, cancel, delivery ------------------------------------------------------------------


def test_the_buyer_locks_the_order_from_its_page(buyer, deposit_paid) -> None:
    client = _signed_in(buyer)
    page = client.get(f"/orders/{deposit_paid.number}/").content.decode()
    assert 'id="lock-submit"' in page

    response = client.post(f"/orders/{deposit_paid.number}/lock/", follow=True)

    assert fresh(deposit_paid).status == OrderStatus.LOCKED
    assert 'data-task="allocation" data-state="waiting"' in response.content.decode()


def test_locking_before_the_deposit_is_a_message(buyer, order) -> None:
    response = _signed_in(buyer).post(f"/orders/{order.number}/lock/", follow=True)

    assert response.status_code == 200
    assert 'class="flash flash--error"' in response.content.decode()
    assert fresh(order).status == OrderStatus.CREATED


def test_the_cancel_page_shows_the_full_refund_before_the_lock(buyer, deposit_paid) -> None:
    client = _signed_in(buyer)

    page = client.get(f"/orders/{deposit_paid.number}/cancel/").content.decode()

    assert 'id="cancel-refund">¥20,000<' in page and 'id="cancel-kept">¥0<' in page
    with committed():
        response = client.post(f"/orders/{deposit_paid.number}/cancel/", {"note": "换车型"}, follow=True)
    order = fresh(deposit_paid)
    assert order.status == OrderStatus.CANCELLED
    assert order.refunded_fen == DEPOSIT
    assert 'id="order-cancelled"' in response.content.decode()


def test_the_cancel_page_shows_the_deposit_is_kept_after_the_lock(buyer, locked_order) -> None:
    page = _signed_in(buyer).get(f"/orders/{locked_order.number}/cancel/").content.decode()

    assert 'id="cancel-refund">¥0<' in page and 'id="cancel-kept">¥20,000<' in page


def test_cancelling_a_cancelled_order_again_is_a_message(buyer, order) -> None:
    client = _signed_in(buyer)
    client.post(f"/orders/{order.number}/cancel/")
    events = Event.objects.count()

    response = client.post(f"/orders/{order.number}/cancel/", follow=True)

    assert response.status_code == 200
    assert 'class="flash flash--error"' in response.content.decode()
    assert Event.objects.count() == events


def test_changing_the_configuration_shows_the_price_difference_first(buyer, deposit_paid, catalogue) -> None:
    client = _signed_in(buyer)
    bigger = configuration_save(
        trim_code="aurora-std",
        option_codes=["white", "black-int", "wheels-18", "heat-pump", "hud"],
        owner=buyer,
    )

    page = client.get(f"/orders/{deposit_paid.number}/change/").content.decode()
    assert f'data-configuration="{bigger.share_code}"' in page
    preview = client.get(f"/orders/{deposit_paid.number}/change/?configuration={bigger.share_code}")
    html = preview.content.decode()
    assert 'id="preview-total">¥236,900<' in html
    assert 'id="preview-difference">+¥4,000<' in html

    client.post(f"/orders/{deposit_paid.number}/change/", {"configuration": bigger.share_code})

    order = fresh(deposit_paid)
    assert (order.configuration_id, order.total_fen) == (bigger.pk, STD_TOTAL + 4_000_00)


def test_after_the_lock_the_change_window_is_closed(buyer, locked_order, catalogue) -> None:
    client = _signed_in(buyer)
    other = configuration_save(
        trim_code="aurora-std", option_codes=["white", "black-int", "wheels-18"], owner=buyer
    )

    page = client.get(f"/orders/{locked_order.number}/change/").content.decode()
    response = client.post(
        f"/orders/{locked_order.number}/change/", {"configuration": other.share_code}, follow=True
    )

    assert 'id="change-closed"' in page
    assert 'class="flash flash--error"' in response.content.decode()
    assert fresh(locked_order).total_fen == STD_TOTAL


def test_the_saved_configuration_page_offers_it_to_an_order_in_its_change_window(
    buyer, order, catalogue
) -> None:
    other = configuration_save(
        trim_code="aurora-std", option_codes=["white", "black-int", "wheels-18"], owner=buyer
    )

    html = _signed_in(buyer).get(f"/c/{other.share_code}/").content.decode()

    assert f'href="/orders/{order.number}/change/?configuration={other.share_code}"' in html


def test_the_buyer_books_the_delivery_once_paid_in_full(buyer, final_paid_order) -> None:
    client = _signed_in(buyer)
    when = (clock.local_now() + timedelta(days=3)).strftime("%Y-%m-%dT10:00")

    client.post(f"/orders/{final_paid_order.number}/delivery/", {"delivery_at": when})

    order = fresh(final_paid_order)
    assert order.status == OrderStatus.READY_FOR_DELIVERY
    assert order.delivery_at is not None
    assert order.delivery_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%dT%H:%M") == when


def test_a_delivery_time_in_the_past_is_a_message(buyer, final_paid_order) -> None:
    response = _signed_in(buyer).post(
        f"/orders/{final_paid_order.number}/delivery/", {"delivery_at": "2026-11-01T10:00"}, follow=True
    )

    assert 'class="flash flash--error"' in response.content.decode()
    assert fresh(final_paid_order).status == OrderStatus.FINAL_PAID


def test_the_delivered_order_page_says_so(buyer, final_paid_order, advisor) -> None:
    from forecourt.orders.services import order_delivery_book, order_delivery_confirm

    order_delivery_book(order=final_paid_order, delivery_at=clock.now() + timedelta(hours=2), actor=advisor)
    with clock.frozen_at(clock.now() + timedelta(hours=3)):
        order_delivery_confirm(order=fresh(final_paid_order), actor=advisor)
        html = _signed_in(buyer).get(f"/orders/{final_paid_order.number}/").content.decode()

    assert 'id="order-delivered"' in html
    assert 'data-status="delivered"' in html
    assert "LRWYGCEK8PC000001" in html


def test_paying_the_deposit_through_the_page_moves_the_order_on(buyer, order) -> None:
    pay(order, "intention")
    client = _signed_in(buyer)

    response = client.post(f"/orders/{order.number}/pay/", {"stage": "deposit", "provider": "sandbox"})
    intent = PaymentIntent.objects.get(reference=order.number, purpose="order.deposit")
    notify_paid(intent)

    assert response["Location"] == f"/payments/sandbox/{intent.out_trade_no}/"
    assert intent.amount_fen == DEPOSIT - INTENTION
    assert fresh(order).status == OrderStatus.DEPOSIT_PAID


def test_placing_without_the_csrf_token_is_refused(buyer, configuration, dealer) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)

    response = client.post(f"/orders/new/{configuration.share_code}/", _form(client, configuration))

    assert response.status_code == 403
    assert Order.objects.count() == 0
