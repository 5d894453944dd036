"""Limited-edition pages: the units left per city, reserving one (a held unit with its countdown on the
order page), and the sold-out and all-held states told plainly without writing anything."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from forecourt.core.models import Event
from forecourt.orders.models import EditionHold, EditionStock, HoldStatus, Order
from forecourt.orders.services import order_place

from .conftest import consumer, make_edition, pay, stock_counts

pytestmark = pytest.mark.django_db

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _reserve(client: Client, edition, **overrides) -> Any:
    page = client.get(f"/limited/{edition.code}/?city=shanghai").content.decode()
    found = KEY.search(page)
    assert found is not None, "no reserve form"
    data = {"idempotency_key": found.group(1), "city": "shanghai"}
    data.update(overrides)
    return client.post(f"/limited/{edition.code}/reserve/", data)


@pytest.fixture
def city_edition(catalogue, city, dealer):
    return make_edition(catalogue, units=3, city=city, code="aurora-red-shanghai")


def test_the_editions_page_shows_the_units_left(client, city_edition) -> None:
    html = client.get("/limited/").content.decode()

    assert f'data-edition="{city_edition.code}" data-state="on_sale"' in html
    assert "极光 丹霞红 限量版" in html
    assert "共 3 台，剩余 3 台" in html


def test_the_edition_page_shows_each_citys_units_in_english_too(client, city_edition) -> None:
    zh = client.get(f"/limited/{city_edition.code}/").content.decode()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    en = client.get(f"/limited/{city_edition.code}/").content.decode()

    assert 'data-city="shanghai" data-free="3"' in zh and "剩余 3 台" in zh
    assert 'id="reserve-sign-in"' in zh
    assert "Aurora Danxia Red limited edition" in en and "3 units left" in en


def test_reserving_holds_a_unit_and_shows_its_countdown(buyer, city_edition, dealer) -> None:
    client = _signed_in(buyer)

    response = _reserve(client, city_edition, dealer=dealer.public_id)

    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.number}/"
    assert stock_counts(city_edition) == (3, 1, 0)
    assert EditionHold.objects.get(order=order).status == HoldStatus.HELD
    page = client.get(response["Location"]).content.decode()
    assert 'id="hold-countdown" data-countdown-to="2026-11-23T10:15:00+08:00"' in page
    assert ">15:00<" in page
    assert "orders/countdown.js" in page


def test_a_double_submitted_reservation_takes_one_unit(buyer, city_edition, dealer) -> None:
    client = _signed_in(buyer)
    page = client.get(f"/limited/{city_edition.code}/?city=shanghai").content.decode()
    found = KEY.search(page)
    assert found is not None
    data = {"idempotency_key": found.group(1), "city": "shanghai", "dealer": dealer.public_id}

    first = client.post(f"/limited/{city_edition.code}/reserve/", data)
    second = client.post(f"/limited/{city_edition.code}/reserve/", data)

    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1
    assert stock_counts(city_edition) == (3, 1, 0)


def test_an_expired_hold_says_so_on_the_order_page(buyer, city_edition, dealer) -> None:
    from datetime import timedelta

    from forecourt.core import clock

    order = order_place(buyer=buyer, edition=city_edition, city=dealer.city, dealer=dealer)
    clock.advance(timedelta(minutes=16))

    page = _signed_in(buyer).get(f"/orders/{order.number}/").content.decode()

    assert 'id="hold-expired"' in page and 'id="hold-countdown"' not in page
    assert 'id="pay-form"' in page


def test_a_sold_out_edition_says_so_and_a_reservation_writes_nothing(buyer, city_edition, dealer) -> None:
    for index in range(3):
        reserved = order_place(buyer=consumer(index), edition=city_edition, city=dealer.city, dealer=dealer)
        pay(reserved, "intention")
    assert stock_counts(city_edition) == (3, 0, 3)
    client = _signed_in(buyer)
    events, orders = Event.objects.count(), Order.objects.count()

    page = client.get(f"/limited/{city_edition.code}/").content.decode()
    response = client.post(
        f"/limited/{city_edition.code}/reserve/",
        {"idempotency_key": "k-sold-out", "city": "shanghai", "dealer": dealer.public_id},
    )

    assert 'id="edition-sold-out"' in page and 'data-state="sold_out"' in page
    assert 'id="reserve-form"' not in page
    assert response.status_code == 409
    assert 'data-code="sold_out"' in response.content.decode()
    assert (Event.objects.count(), Order.objects.count()) == (events, orders)
    assert stock_counts(city_edition) == (3, 0, 3)


def test_when_every_unit_is_held_the_page_says_when_to_try_again(buyer, city_edition, dealer) -> None:
    for index in range(3):
        order_place(buyer=consumer(index), edition=city_edition, city=dealer.city, dealer=dealer)
    client = _signed_in(buyer)

    page = client.get(f"/limited/{city_edition.code}/").content.decode()
    response = client.post(
        f"/limited/{city_edition.code}/reserve/",
        {"idempotency_key": "k-all-held", "city": "shanghai", "dealer": dealer.public_id},
    )

    assert 'id="edition-all-held"' in page and "10:15" in page
    assert response.status_code == 409
    assert 'data-code="all_units_held"' in response.content.decode()
    assert Order.objects.filter(buyer=buyer).count() == 0
    assert EditionStock.objects.get(edition=city_edition).units_held == 3


def test_a_buyer_with_an_order_for_the_edition_is_sent_to_it(buyer, city_edition, dealer) -> None:
    order = order_place(buyer=buyer, edition=city_edition, city=dealer.city, dealer=dealer)

    page = _signed_in(buyer).get(f"/limited/{city_edition.code}/").content.decode()

    assert 'id="edition-existing"' in page and f'href="/orders/{order.number}/"' in page
    assert 'id="reserve-form"' not in page


def test_reserving_in_a_city_without_units_is_a_message(buyer, city_edition, other_dealer) -> None:
    response = _reserve(_signed_in(buyer), city_edition, city="hangzhou", dealer=other_dealer.public_id)

    assert response.status_code == 422
    assert 'id="edition-error"' in response.content.decode()
    assert Order.objects.count() == 0
    assert EditionHold.objects.filter(status=HoldStatus.HELD).count() == 0


def test_an_unknown_edition_is_a_404(client, db) -> None:
    assert client.get("/limited/no-such-edition/").status_code == 404


def test_the_home_page_teases_the_edition_on_sale(client, city_edition) -> None:
    html = client.get("/").content.decode()

    assert 'id="edition-teaser"' in html and "极光 丹霞红 限量版" in html
    assert 'href="/limited/"' in html
