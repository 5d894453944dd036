"""The broker's API at /api/v1/broker: me, enrol, my referrals and commissions; only ever one's own."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.referrals.models import Broker, BrokerKind, Commission, Referral

from .referrals_cast import *  # noqa: F403
from .referrals_cast import CPL_FEN, FRIEND_PHONE, capture, consumer, make_order, mark_delivered, record

pytestmark = pytest.mark.django_db

API = "/api/v1/broker"


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _post(client: Client, path: str, body: object = None) -> object:
    data = "" if body is None else body if isinstance(body, str) else json.dumps(body)
    return client.post(f"{API}{path}", data=data, content_type="application/json")


def test_me_needs_a_signed_in_broker(frozen, model):
    person = consumer(FRIEND_PHONE, "王芳")

    anonymous = Client().get(f"{API}/me")
    not_yet = _client(person).get(f"{API}/me")

    assert anonymous.status_code == 401
    assert (not_yet.status_code, not_yet.json()["code"], not_yet.json()["details"]) == (
        404,
        "not_a_broker",
        {"eligible": False},
    )


def test_me_shows_the_code_links_and_totals(frozen, model, broker):
    body = _client(broker.user).get(f"{API}/me").json()

    assert (body["code"], body["kind"], body["status"], body["city"]) == (
        broker.code,
        "owner",
        "active",
        "shanghai",
    )
    assert [link["model"] for link in body["links"]] == [None, "aurora"]
    assert body["links"][1]["url"] == f"http://testserver/r/{broker.code}/?m=aurora"
    assert body["totals"]["available"] == {"amount": 0, "currency": "CNY"}


def test_an_owner_enrols_once(frozen, dealer, model, city):
    owner = consumer(FRIEND_PHONE, "王芳")
    mark_delivered(make_order(owner, model, dealer))
    client = _client(owner)

    first = _post(client, "/enrol")
    second = _post(client, "/enrol", {})

    assert (first.status_code, second.status_code) == (201, 200)  # type: ignore[attr-defined]
    assert first.json()["code"] == second.json()["code"] == Broker.objects.get().code  # type: ignore[attr-defined]


def test_someone_without_a_delivered_car_cannot_enrol(frozen, model):
    response = _post(_client(consumer(FRIEND_PHONE, "王芳")), "/enrol")

    assert (response.status_code, response.json()["code"]) == (403, "not_eligible")  # type: ignore[attr-defined]
    assert Broker.objects.count() == 0


def test_ops_enrol_a_professional_broker_and_nobody_else_may(frozen, model, city, ops):
    person = consumer(FRIEND_PHONE, "王芳")
    stranger = consumer("13600136000", "赵磊")
    body = {"user": person.public_id, "kind": "professional", "city": "shanghai"}

    refused = _post(_client(stranger), "/enrol", body)
    self_professional = _post(_client(person), "/enrol", {"kind": "professional"})
    assert Broker.objects.count() == 0
    enrolled = _post(_client(ops), "/enrol", body)

    assert (refused.status_code, self_professional.status_code) == (403, 403)  # type: ignore[attr-defined]
    assert enrolled.status_code == 201  # type: ignore[attr-defined]
    broker = Broker.objects.get()
    assert (broker.user, broker.kind, broker.city, broker.enrolled_by) == (
        person,
        BrokerKind.PROFESSIONAL,
        city,
        ops,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "body"),
        ([1, 2], "body"),
        ({"kind": "emperor"}, "kind"),
        ({"user": "usr_NOPE"}, "user"),
        ({"user": "../x"}, "user"),
        ({"city": "atlantis"}, "city"),
        ({"kind": 5}, "kind"),
    ],
)
def test_a_malformed_enrolment_is_422_naming_the_field(frozen, model, ops, city, body, field):
    response = _post(_client(ops), "/enrol", body)

    assert response.status_code == 422  # type: ignore[attr-defined]
    assert response.json()["details"][0]["field"] == field  # type: ignore[attr-defined]
    assert Broker.objects.count() == 0


def test_a_broker_lists_only_their_own_referrals(frozen, dealer, model, broker, other_broker, rules):
    capture(broker_code=broker.code)
    capture(phone="13600136000", name="赵磊", broker_code=other_broker.code)
    mine = Referral.objects.get(broker=broker)
    theirs = Referral.objects.get(broker=other_broker)
    record("visit.checked_in", subject_type="appointment", lead_id=mine.lead_public_id)
    client = _client(broker.user)

    listing = client.get(f"{API}/referrals").json()
    one = client.get(f"{API}/referrals/{mine.public_id}").json()
    other = client.get(f"{API}/referrals/{theirs.public_id}")

    assert listing["count"] == 1 and [item["id"] for item in listing["items"]] == [mine.public_id]
    assert (one["stage"], one["friend"], one["model"]) == ("qualified", "王*", "aurora")
    assert [(c["kind"], c["amount"]["amount"], c["status"]) for c in one["commissions"]] == [
        ("cpl", CPL_FEN, "pending")
    ]
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    assert FRIEND_PHONE not in json.dumps(listing)


def test_referral_filters_are_checked(frozen, broker):
    client = _client(broker.user)

    assert client.get(f"{API}/referrals?stage=bogus").status_code == 422
    assert client.get(f"{API}/referrals?limit=0").status_code == 422
    assert client.get(f"{API}/referrals/%20bad").status_code == 404
    assert client.get(f"{API}/commissions?status=bogus").status_code == 422


def test_commissions_are_listed_with_their_effective_status(frozen, dealer, model, broker, rules):
    capture(broker_code=broker.code)
    referral = Referral.objects.get()
    record("visit.checked_in", subject_type="appointment", lead_id=referral.lead_public_id)
    client = _client(broker.user)

    pending = client.get(f"{API}/commissions?status=pending").json()
    clock.advance(timedelta(days=3))
    available = client.get(f"{API}/commissions?status=available").json()
    still_pending = client.get(f"{API}/commissions?status=pending").json()

    commission = Commission.objects.get()
    assert [item["id"] for item in pending["items"]] == [commission.public_id]
    assert [item["status"] for item in available["items"]] == ["available"]
    assert still_pending["count"] == 0
