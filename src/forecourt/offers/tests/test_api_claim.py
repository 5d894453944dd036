"""The consumer API: campaigns, claiming (201 / 409 codes / 404 / 422 / 401), and my vouchers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from forecourt.core.models import Event
from forecourt.offers.models import Campaign, ClaimTally, CouponKind, Voucher, VoucherStatus
from forecourt.offers.qr import qr_payload_read
from forecourt.offers.services import campaign_claim
from forecourt.offers.tests.factories import make_campaign, make_consumer, make_merchant, make_staff

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/campaigns"
VOUCHERS = "/api/v1/vouchers"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, path: str, body: Any = None) -> Any:
    if body is None:
        return client.post(path)
    return client.post(path, data=json.dumps(body), content_type="application/json")


def claim(client: Client, campaign: Campaign, body: Any = None) -> Any:
    return post(client, f"{CAMPAIGNS}/{campaign.public_id}/claim", body)


def test_running_campaigns_are_listed_publicly_without_subsidies_or_ended_ones() -> None:
    running = make_campaign(name="双11立减", budget_count=10, claimed_count=4)
    make_campaign(name="补贴", kind=CouponKind.SUBSIDY)
    make_campaign(name="停用", is_active=False)
    response = Client().get(CAMPAIGNS)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["id"] for item in items] == [running.public_id]
    assert items[0]["remaining_percent"] == 60
    assert items[0]["value"] == {"amount": 2_000_00, "currency": "CNY"}


def test_one_campaign_shows_its_budget_left_limit_validity_and_conditions() -> None:
    campaign = make_campaign(
        kind=CouponKind.PERCENT_OFF,
        face_value_fen=0,
        percent_off_bp=500,
        percent_cap_fen=8_000_00,
        budget_count=None,
        budget_fen=80_000_00,
        claimed_fen=20_000_00,
        per_person_limit=2,
        conditions="限购车使用",
        eligible_cities=["shanghai"],
    )
    body = Client().get(f"{CAMPAIGNS}/{campaign.public_id}").json()
    assert body["id"] == campaign.public_id
    assert body["kind"] == "percent_off"
    assert body["remaining_percent"] == 75
    assert body["per_person_limit"] == 2
    assert body["cap"] == {"amount": 8_000_00, "currency": "CNY"}
    assert body["conditions"] == "限购车使用"
    assert body["eligibility"]["cities"] == ["shanghai"]
    assert body["valid_days"] == 60 and body["starts_at"] and body["ends_at"]


def test_an_unknown_campaign_is_404() -> None:
    assert Client().get(f"{CAMPAIGNS}/cmp_NOPE").status_code == 404
    assert Client().get(f"{CAMPAIGNS}/cmp_NOPE").json()["code"] == "not_found"
    response = post(signed_in(make_consumer()), f"{CAMPAIGNS}/cmp_NOPE/claim")
    assert response.status_code == 404


def test_claiming_answers_201_with_the_voucher_and_its_signed_qr() -> None:
    campaign = make_campaign()
    person = make_consumer()
    response = claim(signed_in(person), campaign)
    assert response.status_code == 201
    voucher = response.json()["voucher"]
    stored = Voucher.objects.get(holder=person)
    assert voucher["code"] == stored.code
    assert voucher["display_code"] == stored.display_code
    assert voucher["kind"] == "cash_off"
    assert voucher["status"] == "active"
    assert voucher["value"] == {"amount": 2_000_00, "currency": "CNY"}
    assert voucher["campaign"] == {"id": campaign.public_id, "name": "双11购车立减"}
    assert voucher["valid_until"] == stored.valid_until.isoformat()
    scanned = qr_payload_read(voucher["qr"])
    assert (scanned.code, scanned.holder_public_id) == (stored.code, person.public_id)


def test_claiming_takes_a_channel_from_the_body() -> None:
    campaign = make_campaign(channels=["app"])
    person = make_consumer()
    assert claim(signed_in(person), campaign, {"channel": "app"}).status_code == 201
    assert Voucher.objects.get(holder=person).channel == "app"


def test_claiming_through_a_channel_the_campaign_does_not_take_is_409_not_eligible() -> None:
    campaign = make_campaign(channels=["app"])
    response = claim(signed_in(make_consumer()), campaign)
    assert response.status_code == 409
    assert response.json()["code"] == "not_eligible"
    assert response.json()["details"] == {"reason": "channel"}
    assert not Voucher.objects.exists()


def test_a_claim_beyond_the_per_person_limit_is_409_limit_reached_and_takes_nothing() -> None:
    campaign = make_campaign(per_person_limit=1)
    client = signed_in(make_consumer())
    assert claim(client, campaign).status_code == 201
    response = claim(client, campaign)
    assert (response.status_code, response.json()["code"]) == (409, "limit_reached")
    assert response.json()["details"] == {"limit": 1}
    campaign.refresh_from_db()
    assert campaign.claimed_count == 1
    assert Voucher.objects.filter(campaign=campaign).count() == 1
    assert Event.objects.filter(name="voucher.claimed").count() == 1


def test_a_claim_when_the_budget_is_gone_is_409_budget_exhausted() -> None:
    campaign = make_campaign(budget_count=1)
    campaign_claim(campaign=campaign, holder=make_consumer())
    response = claim(signed_in(make_consumer()), campaign)
    assert (response.status_code, response.json()["code"]) == (409, "budget_exhausted")
    assert Voucher.objects.filter(campaign=campaign).count() == 1
    assert ClaimTally.objects.filter(campaign=campaign, claimed=1).count() == 1


def test_staff_cannot_claim_coupons() -> None:
    campaign = make_campaign()
    response = claim(signed_in(make_staff()), campaign)
    assert (response.status_code, response.json()["code"]) == (409, "not_eligible")
    assert not Voucher.objects.exists()


def test_claiming_needs_a_signed_in_person() -> None:
    campaign = make_campaign()
    response = claim(Client(), campaign)
    assert response.status_code == 401
    assert not Voucher.objects.exists()


def test_a_claim_with_a_body_that_is_not_an_object_is_422() -> None:
    campaign = make_campaign()
    client = signed_in(make_consumer())
    for raw in ("[1]", "{nope"):
        response = client.post(
            f"{CAMPAIGNS}/{campaign.public_id}/claim", data=raw, content_type="application/json"
        )
        assert (response.status_code, response.json()["details"][0]["field"]) == (422, "body")
    assert not Voucher.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{"channel": ""}, {"channel": "x" * 11}, {"channel": "a\x00b"}, {"channel": 5}, {"channel": "carrier"}],
)
def test_a_malformed_claim_is_422_naming_the_channel(body: Any) -> None:
    campaign = make_campaign()
    response = claim(signed_in(make_consumer()), campaign, body)
    assert response.status_code == 422
    details = response.json()["details"]
    assert "channel" in json.dumps(details)
    assert not Voucher.objects.exists()


def test_a_paid_coupon_is_claimed_awaiting_payment() -> None:
    campaign = make_campaign(kind=CouponKind.PAID_MULTIPLIER, price_fen=99_00)
    response = claim(signed_in(make_consumer()), campaign)
    assert response.status_code == 201
    voucher = response.json()["voucher"]
    assert voucher["status"] == "pending_payment"
    assert voucher["price"] == {"amount": 99_00, "currency": "CNY"}
    assert voucher["pay_by"] is not None


def test_my_vouchers_are_listed_and_filtered_by_tab() -> None:
    person = make_consumer()
    active = campaign_claim(campaign=make_campaign(), holder=person)
    used = campaign_claim(
        campaign=make_campaign(kind=CouponKind.GIFT, gift_description="车载香氛"), holder=person
    )
    Voucher.objects.filter(pk=used.pk).update(status=VoucherStatus.REDEEMED, redeemed_at=used.created_at)
    lapsed = campaign_claim(campaign=make_campaign(valid_days=1), holder=person)
    Voucher.objects.filter(pk=lapsed.pk).update(
        valid_from=lapsed.valid_from.replace(year=1999), valid_until=lapsed.valid_from.replace(year=2000)
    )
    campaign_claim(campaign=make_campaign(), holder=make_consumer())  # someone else's
    client = signed_in(person)
    everything = client.get(VOUCHERS).json()
    assert everything["count"] == 3
    tabs = {
        tab: [item["code"] for item in client.get(f"{VOUCHERS}?status={tab}").json()["items"]]
        for tab in ("active", "used", "expired")
    }
    assert tabs == {"active": [active.code], "used": [used.code], "expired": [lapsed.code]}
    assert client.get(f"{VOUCHERS}?status=expired").json()["items"][0]["status"] == "expired"


def test_an_unknown_tab_is_422() -> None:
    response = signed_in(make_consumer()).get(f"{VOUCHERS}?status=everything")
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "status"


def test_my_voucher_is_readable_by_its_code_typed_in_groups() -> None:
    person = make_consumer()
    voucher = campaign_claim(campaign=make_campaign(), holder=person)
    client = signed_in(person)
    assert client.get(f"{VOUCHERS}/{voucher.code}").json()["code"] == voucher.code
    assert client.get(f"{VOUCHERS}/{voucher.display_code.lower()}").json()["code"] == voucher.code


def test_someone_elses_voucher_is_404_like_an_unknown_one() -> None:
    voucher = campaign_claim(campaign=make_campaign(), holder=make_consumer())
    client = signed_in(make_consumer())
    theirs = client.get(f"{VOUCHERS}/{voucher.code}")
    unknown = client.get(f"{VOUCHERS}/ABCDABCDABCDABCD")
    assert (theirs.status_code, unknown.status_code) == (404, 404)
    assert theirs.json() == unknown.json()
    assert post(client, f"{VOUCHERS}/{voucher.code}/refund").status_code == 404


def test_my_vouchers_need_a_signed_in_person() -> None:
    assert Client().get(VOUCHERS).status_code == 401


def test_a_merchant_service_campaign_names_its_merchant() -> None:
    merchant = make_merchant()
    campaign = make_campaign(kind=CouponKind.MERCHANT_SERVICE, merchant=merchant, face_value_fen=80_00)
    body = Client().get(f"{CAMPAIGNS}/{campaign.public_id}").json()
    assert body["merchant"] == {"id": merchant.public_id, "name": "洁车坊·徐汇店", "kind": "car_wash"}
