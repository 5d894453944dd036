"""The orders API: placing with an Idempotency-Key, the buyer's endpoints, the dealer workspace, and
validation that never lets anything become a 500."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from forecourt.core import clock
from forecourt.core.models import Event, IdempotencyRecord
from forecourt.orders import selectors
from forecourt.orders.models import EditionHold, EditionStock, Order, OrderStatus
from forecourt.orders.services import order_cancel

from .conftest import DEPOSIT, STD_TOTAL, committed, consumer, fresh, make_edition, pay

ORDERS = "/api/v1/orders"
WORKSPACE = "/api/v1/workspace/orders"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, path: str, body: Any = None, **headers: str):
    return client.post(
        path,
        data=json.dumps(body if body is not None else {}),
        content_type="application/json",
        headers=headers,
    )


def place(client: Client, body: dict[str, Any], key: str = "key-1"):
    return post(client, ORDERS, body, **{"Idempotency-Key": key})


@pytest.fixture
def as_buyer(buyer) -> Client:
    return signed_in(buyer)


@pytest.fixture
def body(configuration, dealer) -> dict[str, Any]:
    return {"configuration": configuration.share_code, "dealer": dealer.public_id}


def test_placing_an_order_answers_201_with_the_order_and_its_tasks(as_buyer, body, dealer):
    response = place(as_buyer, body)
    assert response.status_code == 201
    data = response.json()
    order = Order.objects.get()
    assert data["hold"] is None
    assert {key: data["order"][key] for key in ("number", "status", "total", "price_list_version")} == {
        "number": order.number,
        "status": "created",
        "total": {"amount": STD_TOTAL, "currency": "CNY"},
        "price_list_version": 1,
    }
    assert data["order"]["dealer"]["id"] == dealer.public_id
    assert data["order"]["due"] == {"stage": "intention", "amount": {"amount": 2_000_00, "currency": "CNY"}}
    assert [(task["key"], task["state"]) for task in data["order"]["tasks"]][:3] == [
        ("intention", "next"),
        ("deposit", "needed"),
        ("lock", "needed"),
    ]


def test_the_idempotency_key_header_is_required(as_buyer, body):
    response = post(as_buyer, ORDERS, body)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "Idempotency-Key"
    assert Order.objects.count() == 0


def test_a_repeat_with_the_same_key_returns_the_first_answer_unchanged(as_buyer, body):
    first = place(as_buyer, body)
    clock.advance(timedelta(minutes=5))
    again = place(as_buyer, body)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert Order.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(as_buyer, body, city):
    place(as_buyer, body)
    response = place(as_buyer, {**body, "lock_deadline": "2026-12-01"})
    assert (response.status_code, response.json()["code"]) == (422, "idempotency_key_reused")
    assert Order.objects.count() == 1


def test_keys_belong_to_one_buyer(as_buyer, body, other_buyer):
    place(as_buyer, body)
    place(signed_in(other_buyer), body)
    assert sorted(Order.objects.values_list("buyer__username", flat=True)) == ["buyer-li", "buyer-zhang"]


def test_signing_in_is_required(body):
    response = place(Client(), body)
    assert response.status_code == 401
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"configuration": "NOSUCHCODE12"}, "configuration"),
        ({"dealer": "dlr_NOSUCHDEALER0000"}, "dealer"),
        ({"edition": "aurora-x"}, "configuration"),
        ({"lock_deadline": "not-a-date"}, "lock_deadline"),
        ({"lock_deadline": "2030-01-01"}, "lock_deadline"),
        ({"configuration": "x" * 200}, "configuration"),
    ],
)
def test_malformed_orders_are_422_naming_the_field(as_buyer, body, change, field):
    response = place(as_buyer, {**body, **change})
    assert response.status_code == 422, response.content
    details = response.json()["details"]
    assert field in [item["field"] for item in details] if isinstance(details, list) else details
    assert Order.objects.count() == 0


def test_an_unknown_edition_is_422(as_buyer):
    response = place(as_buyer, {"edition": "no-such-edition"})
    assert (response.status_code, response.json()["details"][0]["field"]) == (422, "edition")


def test_an_edition_order_returns_its_hold(as_buyer, edition, dealer):
    response = place(as_buyer, {"edition": edition.code, "dealer": dealer.public_id})
    assert response.status_code == 201
    hold = response.json()["hold"]
    assert hold == {
        "status": "held",
        "expires_at": (clock.now() + timedelta(minutes=15)).isoformat(),
        "city": None,
    }


def test_sold_out_over_the_api_is_409_and_stores_nothing(as_buyer, catalogue, dealer):
    edition = make_edition(catalogue, units=1)
    winner = signed_in(consumer(1))
    place(winner, {"edition": edition.code, "dealer": dealer.public_id})
    pay(Order.objects.get(), "intention")
    records, events = IdempotencyRecord.objects.count(), Event.objects.count()

    response = place(as_buyer, {"edition": edition.code, "dealer": dealer.public_id}, key="late")

    assert (response.status_code, response.json()["code"]) == (409, "sold_out")
    assert (IdempotencyRecord.objects.count(), Event.objects.count(), Order.objects.count()) == (
        records,
        events,
        1,
    )


def test_a_rush_on_a_sold_out_edition_is_answered_from_memory_until_it_fades(
    as_buyer, catalogue, dealer, monkeypatch, django_assert_max_num_queries
):
    edition = make_edition(catalogue, units=1)
    first_buyer = consumer(1)
    place(signed_in(first_buyer), {"edition": edition.code, "dealer": dealer.public_id})
    pay(Order.objects.get(), "intention")
    body = {"edition": edition.code, "dealer": dealer.public_id}
    first = place(as_buyer, body, key="rush-1")
    # Signing in (the token or session) and the buyer's own key are all that is read now.
    with django_assert_max_num_queries(3):
        again = place(as_buyer, body, key="rush-2")
    assert again.status_code == 409
    assert again.json() == first.json()

    # A cancellation returns the unit: offered once the memory fades, and sold exactly once.
    order_cancel(order=Order.objects.get(), actor=first_buyer, reason="buyer")
    assert place(as_buyer, body, key="rush-3").json()["code"] == "sold_out"
    later = time.monotonic() + selectors.SOLD_OUT_MEMORY_SECONDS + 1
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later)
    assert place(as_buyer, body, key="rush-4").status_code == 201
    assert EditionStock.objects.get(edition=edition).units_held == 1


def test_a_retry_of_a_successful_edition_order_replays_even_after_sell_out(as_buyer, catalogue, dealer):
    edition = make_edition(catalogue, units=1)
    first = place(as_buyer, {"edition": edition.code, "dealer": dealer.public_id}, key="mine")
    pay(Order.objects.get(), "intention")
    again = place(as_buyer, {"edition": edition.code, "dealer": dealer.public_id}, key="mine")
    assert (again.status_code, again.json()) == (201, first.json())


def test_the_buyer_lists_and_reads_only_their_own_orders(as_buyer, order, other_buyer):
    listed = as_buyer.get(ORDERS).json()
    assert (listed["count"], listed["items"][0]["number"]) == (1, order.number)
    assert as_buyer.get(f"{ORDERS}/{order.number}").json()["number"] == order.number
    other = signed_in(other_buyer)
    assert other.get(ORDERS).json() == {"count": 0, "items": []}
    for path in ("", "/lock", "/cancel", "/payments", "/configuration"):
        method = other.get if path == "" else (lambda url: post(other, url, {}))
        response = method(f"{ORDERS}/{order.number}{path}")
        assert response.status_code in (404, 422), (path, response.status_code)
    response = other.get(f"{ORDERS}/{order.number}")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_starting_a_payment_answers_where_to_pay(as_buyer, order):
    response = post(
        as_buyer,
        f"{ORDERS}/{order.number}/payments",
        {"stage": "intention", "provider": "sandbox", "return_url": f"/orders/{order.number}/"},
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["kind"], data["stage"]) == ("redirect", "intention")
    assert data["url"].startswith("/payments/sandbox/")


def test_a_return_url_to_another_site_is_refused(as_buyer, order):
    response = post(
        as_buyer,
        f"{ORDERS}/{order.number}/payments",
        {"stage": "intention", "provider": "sandbox", "return_url": "https://evil.example/"},
    )
    assert (response.status_code, response.json()["details"][0]["field"]) == (422, "return_url")


def test_lock_cancel_and_change_over_the_api(as_buyer, deposit_paid, buyer, catalogue):
    from forecourt.catalog.services import configuration_save

    new = configuration_save(
        trim_code="aurora-std", option_codes=["white", "black-int", "wheels-18"], owner=buyer
    )
    changed = post(
        as_buyer, f"{ORDERS}/{deposit_paid.number}/configuration", {"configuration": new.share_code}
    )
    assert (changed.status_code, changed.json()["total"]["amount"]) == (200, 229_900_00)
    locked = post(as_buyer, f"{ORDERS}/{deposit_paid.number}/lock")
    assert locked.json()["status"] == "locked"
    with committed():
        cancelled = post(as_buyer, f"{ORDERS}/{deposit_paid.number}/cancel", {"note": "changed my mind"})
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert fresh(deposit_paid).refunded_fen == 0


def test_editions_are_listed_publicly(edition):
    data = Client().get("/api/v1/editions").json()
    assert [(item["code"], item["units_free"], item["price"]["amount"]) for item in data["items"]] == [
        (edition.code, 3, 313_900_00)
    ]
    assert Client().get("/api/v1/editions/nope").status_code == 404


# ---- The dealer workspace ------------------------------------------------------------------------------


def test_the_workspace_walks_an_order_to_delivery(locked_order, car, advisor):
    staff = signed_in(advisor)
    listed = staff.get(WORKSPACE).json()
    assert [item["number"] for item in listed["items"]] == [locked_order.number]
    detail = staff.get(f"{WORKSPACE}/{locked_order.number}").json()
    assert [vehicle["vin"] for vehicle in detail["matching_vehicles"]] == [car.vin]
    assert detail["buyer"]["name"] == "张伟"

    allocated = post(staff, f"{WORKSPACE}/{locked_order.number}/allocate", {"vin": car.vin.lower()})
    assert (allocated.status_code, allocated.json()["status"], allocated.json()["vehicle"]) == (
        200,
        "allocated",
        {"vin": car.vin},
    )
    paid = post(staff, f"{WORKSPACE}/{locked_order.number}/final-payment", {"receipt_number": "POS-77"})
    assert (paid.json()["status"], paid.json()["amounts"]["paid"]["amount"]) == ("final_paid", STD_TOTAL)
    at = (clock.now() + timedelta(days=2)).isoformat()
    booked = post(staff, f"{WORKSPACE}/{locked_order.number}/delivery", {"delivery_at": at})
    assert booked.json()["status"] == "ready_for_delivery"
    delivered = post(staff, f"{WORKSPACE}/{locked_order.number}/delivered")
    assert delivered.json()["status"] == "delivered"
    assert [change["to"] for change in delivered.json()["history"]] == [
        "created",
        "intention_paid",
        "deposit_paid",
        "locked",
        "allocated",
        "final_paid",
        "ready_for_delivery",
        "delivered",
    ]


WORKSPACE_CALLS = [
    ("get", "", None),
    ("post", "/allocate", {"vin": "LRWYGCEK8PC000001"}),
    ("post", "/final-payment", {"receipt_number": "POS-1"}),
    ("post", "/delivery", {"delivery_at": "2026-12-01T10:00:00+08:00"}),
    ("post", "/delivered", {}),
]


@pytest.mark.parametrize(("method", "path", "payload"), WORKSPACE_CALLS)
def test_another_dealers_order_is_404_like_an_unknown_one_on_every_workspace_endpoint(
    locked_order, car, other_advisor, method, path, payload
):
    staff = signed_in(other_advisor)
    before = (fresh(locked_order).status, Event.objects.count())

    def call(number: str):
        url = f"{WORKSPACE}/{number}{path}"
        return staff.get(url) if method == "get" else post(staff, url, payload)

    theirs, unknown = call(locked_order.number), call("FO0000000000AA")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()
    assert (fresh(locked_order).status, Event.objects.count()) == before
    assert staff.get(WORKSPACE).json() == {"count": 0, "items": []}


def test_the_workspace_is_for_dealer_staff(as_buyer, order):
    response = as_buyer.get(WORKSPACE)
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/allocate", {"vin": "SHORT"}, "vin"),
        ("/allocate", {"vin": "LRWYGCEK8PC00000O"}, "vin"),
        ("/allocate", {"vin": "LRWYGCEK8PC999999"}, "vin"),
        ("/delivery", {"delivery_at": "tomorrow"}, "delivery_at"),
        ("/final-payment", {"receipt_number": ""}, "receipt_number"),
    ],
)
def test_malformed_workspace_requests_are_422(locked_order, advisor, path, payload, field):
    response = post(signed_in(advisor), f"{WORKSPACE}/{locked_order.number}{path}", payload)
    assert response.status_code == 422, response.content
    assert field in [item["field"] for item in response.json()["details"]]
    assert fresh(locked_order).status == OrderStatus.LOCKED


def test_a_workspace_status_filter_must_be_a_status(advisor, order):
    response = signed_in(advisor).get(f"{WORKSPACE}?status=bogus")
    assert response.status_code == 422
    assert signed_in(advisor).get(f"{WORKSPACE}?status=created").json()["count"] == 1


def test_out_of_order_steps_are_409_not_500(locked_order, advisor):
    staff = signed_in(advisor)
    for path, payload in (("/final-payment", {"receipt_number": "POS-1"}), ("/delivered", {})):
        response = post(staff, f"{WORKSPACE}/{locked_order.number}{path}", payload)
        assert response.status_code == 409, (path, response.content)
    assert fresh(locked_order).paid_fen == DEPOSIT
    assert not EditionHold.objects.exists()


def test_a_body_that_is_not_json_is_answered_not_crashed(as_buyer, order):
    for path in (ORDERS, f"{ORDERS}/{order.number}/payments", f"{ORDERS}/{order.number}/cancel"):
        response = as_buyer.post(
            path, data="{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
        )
        assert response.status_code in (400, 422), (path, response.status_code)
    assert Order.objects.count() == 1


def test_dealer_staff_cannot_place_orders_and_see_none_as_buyers(advisor, body):
    staff = signed_in(advisor)
    response = place(staff, body)
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert staff.get(ORDERS).json() == {"count": 0, "items": []}
    assert Order.objects.count() == 0


def test_an_absurd_order_number_is_404(as_buyer, advisor):
    for number in ("x" * 500, "FO!!"):
        assert as_buyer.get(f"{ORDERS}/{number}").status_code == 404
        assert signed_in(advisor).get(f"{WORKSPACE}/{number}").status_code == 404
    # A NUL anywhere in a request is refused before routing (core's guard), as malformed input.
    for number in ("%00", "FO%00AB"):
        assert as_buyer.get(f"{ORDERS}/{number}").status_code == 422
        assert signed_in(advisor).get(f"{WORKSPACE}/{number}").status_code == 422
    assert Client().get("/api/v1/editions/%00").status_code == 422


@pytest.mark.parametrize("field", ["configuration", "dealer", "city", "edition"])
def test_a_nul_byte_in_a_reference_is_422_on_every_database(as_buyer, body, field):
    response = place(as_buyer, {**body, field: "AB\u0000CD"})
    assert response.status_code == 422
    assert Order.objects.count() == 0


def test_nul_bytes_in_free_text_are_422(as_buyer, locked_order, advisor):
    order = locked_order
    cancel = post(as_buyer, f"{ORDERS}/{order.number}/cancel", {"note": "a\u0000b"})
    receipt = post(
        signed_in(advisor), f"{WORKSPACE}/{locked_order.number}/final-payment", {"receipt_number": "P\u0000"}
    )
    pay_start = post(
        as_buyer,
        f"{ORDERS}/{order.number}/payments",
        {"stage": "intention", "provider": "sandbox", "return_url": "/a\u0000"},
    )
    assert (cancel.status_code, receipt.status_code, pay_start.status_code) == (422, 422, 422)
    assert fresh(order).status == "locked"
