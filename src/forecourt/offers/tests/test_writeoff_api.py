"""The staff write-off API, the write-off page and the ops console's reversal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user
from forecourt.core.models import AuditEntry, Event, IdempotencyRecord
from forecourt.core.phones import protect_phone
from forecourt.offers.models import CouponKind, Redemption, VoucherStatus
from forecourt.offers.qr import public_key_jwk
from forecourt.offers.services import campaign_claim, voucher_redeem
from forecourt.offers.tests.factories import (
    dealer_of,
    make_campaign,
    make_consumer,
    make_merchant,
    make_merchant_staff,
    make_staff,
)
from forecourt.offers.tests.test_redemption import (  # noqa: F401  (the autouse fixture)
    _fresh_limits_in_english,
    gift_voucher,
    merchant_voucher,
    nothing_redeemed,
    payload_of,
)

pytestmark = pytest.mark.django_db

REDEEM = "/api/v1/vouchers/redeem"
LOOKUP = "/api/v1/vouchers/lookup"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, path: str, body: Any, **headers: str):
    return client.post(path, data=json.dumps(body), content_type="application/json", headers=headers)


def redeem(client: Client, code: Any, key: str | None = "scan-1", **extra: Any):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return post(client, REDEEM, {"code": code, **extra}, **headers)


def test_redeem_answers_200_with_the_voucher_and_the_redemption() -> None:
    voucher = gift_voucher()
    staff = make_staff()
    response = redeem(signed_in(staff), voucher.display_code.lower())
    assert response.status_code == 200
    body = response.json()
    assert body["voucher"]["status"] == "redeemed" and body["voucher"]["code"] == voucher.display_code
    redemption = Redemption.objects.get(voucher=voucher)
    assert body["redemption"] == {
        "place": dealer_of(staff).name,
        "redeemed_at": body["redemption"]["redeemed_at"],
        "value": {"amount": 800_00, "currency": "CNY"},
    }
    assert body["redemption"]["redeemed_at"].endswith("+08:00") and redemption.idempotency_key == "scan-1"


def test_the_same_key_replays_the_first_answer_byte_for_byte() -> None:
    voucher = gift_voucher()
    client = signed_in(make_staff())
    first = redeem(client, voucher.code)
    again = redeem(client, voucher.code)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.content == again.content
    assert Redemption.objects.filter(voucher=voucher).count() == 1
    assert Event.objects.filter(name="voucher.redeemed").count() == 1


def test_another_key_on_a_used_voucher_is_409_with_the_first_time_and_place() -> None:
    voucher = gift_voucher()
    staff = make_staff()
    client = signed_in(staff)
    first = redeem(client, voucher.code).json()
    response = redeem(signed_in(make_staff(dealer=staff.dealer)), payload_of(voucher), key="scan-2")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "already_redeemed"
    assert body["details"] == {
        "redeemed_at": first["redemption"]["redeemed_at"],
        "place": dealer_of(staff).name,
    }
    assert Redemption.objects.filter(voucher=voucher).count() == 1


def test_the_idempotency_key_header_is_required() -> None:
    voucher = gift_voucher()
    response = redeem(signed_in(make_staff()), voucher.code, key=None)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "Idempotency-Key"
    nothing_redeemed(voucher)


def test_a_forged_payload_is_422_invalid_qr() -> None:
    voucher = gift_voucher()
    forged = payload_of(voucher)[:-2] + ("AA" if not payload_of(voucher).endswith("AA") else "BB")
    response = redeem(signed_in(make_staff()), forged)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_qr")
    nothing_redeemed(voucher)
    assert not IdempotencyRecord.objects.exists()


def test_not_theirs_is_byte_for_byte_the_same_404_as_an_unknown_code() -> None:
    merchant = make_merchant()
    wash = merchant_voucher(merchant)
    applied_elsewhere = campaign_claim(campaign=make_campaign(), holder=make_consumer())
    client = signed_in(make_staff())
    unknown_lookup = post(client, LOOKUP, {"code": "ZZZZZZZZZZZZZZZZ"})
    unknown_redeem = redeem(client, "ZZZZZZZZZZZZZZZZ", key="k0")
    assert unknown_lookup.status_code == 404 and unknown_lookup.content == unknown_redeem.content
    for index, voucher in enumerate((wash,)):
        assert post(client, LOOKUP, {"code": voucher.code}).content == unknown_lookup.content
        assert redeem(client, voucher.code, key=f"k{index + 1}").content == unknown_redeem.content
        nothing_redeemed(voucher)
    merchant_client = signed_in(make_merchant_staff(make_merchant(name="别家")))
    assert post(merchant_client, LOOKUP, {"code": wash.code}).content == unknown_lookup.content
    assert post(merchant_client, LOOKUP, {"code": applied_elsewhere.code}).content == unknown_lookup.content


def test_lookup_shows_what_whose_value_validity_conditions_and_status() -> None:
    _e164, phone_hash, phone_encrypted = protect_phone("13800138000")
    holder = make_consumer(display_name="王小明", phone_hash=phone_hash, phone_encrypted=phone_encrypted)
    campaign = make_campaign(
        kind=CouponKind.GIFT,
        face_value_fen=800_00,
        gift_description="脚垫一套",
        gift_description_en="Floor mats",
        conditions="到店试驾后领取",
        conditions_en="After a test drive",
    )
    voucher = campaign_claim(campaign=campaign, holder=holder)
    response = post(signed_in(make_staff()), LOOKUP, {"code": voucher.code})
    assert response.status_code == 200
    card = response.json()["voucher"]
    assert card["holder"] == {"name": "王**", "phone": "138****8000"}
    assert (card["what"], card["conditions"], card["status"]) == (
        "脚垫一套",
        "到店试驾后领取",
        "active",
    )
    assert card["value"] == {"amount": 800_00, "currency": "CNY"}
    assert card["valid_until"].endswith("+08:00") and card["redemption"] is None
    assert "13800138000" not in response.content.decode()


def test_merchant_staff_redeem_their_service_vouchers_over_the_api() -> None:
    merchant = make_merchant()
    voucher = merchant_voucher(merchant)
    response = redeem(signed_in(make_merchant_staff(merchant)), voucher.code)
    assert response.status_code == 200
    assert response.json()["redemption"]["place"] == "洁车坊·徐汇店"


@pytest.mark.parametrize("user_role", [Role.CONSUMER, Role.OPS, Role.PARTNER, Role.BROKER])
def test_only_counter_staff_may_use_the_write_off_api(user_role) -> None:
    voucher = gift_voucher()
    client = signed_in(make_user(role=user_role))
    assert post(client, LOOKUP, {"code": voucher.code}).status_code == 403
    assert redeem(client, voucher.code).status_code == 403
    nothing_redeemed(voucher)


def test_signing_in_is_required() -> None:
    assert redeem(Client(), "ZZZZZZZZZZZZZZZZ").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [({"code": 17}, "code"), ({"code": ""}, "code"), ({"code": "x" * 301}, "code"), ({}, "code")],
)
def test_malformed_bodies_are_422_naming_the_field(body, field) -> None:
    response = post(signed_in(make_staff()), REDEEM, body, **{"Idempotency-Key": "k"})
    assert response.status_code == 422 and response.json()["details"][0]["field"] == field


def test_a_nul_byte_in_the_code_is_refused_not_crashed() -> None:
    response = redeem(signed_in(make_staff()), "ABCD\x00EFGH")
    assert response.status_code in (400, 422)


def test_write_offs_and_lookups_are_rate_limited_per_staff_member(settings) -> None:
    settings.OFFERS_LOOKUP_LIMIT_PER_STAFF = 2
    voucher = gift_voucher()
    client = signed_in(make_staff())
    assert post(client, LOOKUP, {"code": "ZZZZZZZZZZZZZZZZ"}).status_code == 404
    assert post(client, LOOKUP, {"code": "ZZZZZZZZZZZZZZZZ"}).status_code == 404
    response = redeem(client, voucher.code)
    assert response.status_code == 429 and response["Retry-After"]
    nothing_redeemed(voucher)


def test_write_offs_are_rate_limited_per_ip(settings) -> None:
    settings.OFFERS_LOOKUP_LIMIT_PER_IP = 1
    voucher = gift_voucher()
    assert post(signed_in(make_staff()), LOOKUP, {"code": "ZZZZZZZZZZZZZZZZ"}).status_code == 404
    assert redeem(signed_in(make_staff()), voucher.code).status_code == 429
    nothing_redeemed(voucher)


def test_the_verification_key_is_published_as_a_jwk() -> None:
    response = Client().get("/api/v1/vouchers/verification-key")
    assert response.status_code == 200 and response.json() == public_key_jwk()
    assert response.json()["crv"] == "P-256"


# ---- the write-off page ------------------------------------------------------------------------------


def test_the_page_embeds_the_verification_key_and_the_scanner() -> None:
    staff = make_staff()
    page = signed_in(staff).get("/workspace/vouchers/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="voucher-verification-key"' in html and str(public_key_jwk()["x"]) in html
    assert "offers/write_off.js" in html and "vendor/jsqr/jsQR.js" in html and dealer_of(staff).name in html


def test_on_the_page_lookup_shows_the_card_and_a_double_tap_replays() -> None:
    voucher = gift_voucher()
    staff = make_staff()
    client = signed_in(staff)
    card = client.post("/workspace/vouchers/lookup/", {"code": voucher.code}, headers={"HX-Request": "true"})
    html = card.content.decode()
    assert card.status_code == 200 and 'id="writeoff-redeem"' in html and "脚垫一套" in html
    key = html.split('name="idempotency_key" value="')[1].split('"')[0]
    for _tap in range(2):
        done = client.post("/workspace/vouchers/redeem/", {"code": voucher.code, "idempotency_key": key})
        assert 'id="writeoff-ok"' in done.content.decode()
    assert Redemption.objects.filter(voucher=voucher).count() == 1
    again = client.post("/workspace/vouchers/redeem/", {"code": voucher.code, "idempotency_key": "other"})
    assert (
        'data-code="already_redeemed"' in again.content.decode()
        and dealer_of(staff).name in again.content.decode()
    )
    assert voucher.code in client.get("/workspace/vouchers/").content.decode()


def test_the_page_is_for_counter_staff_only() -> None:
    assert Client().get("/workspace/vouchers/").status_code == 302
    assert signed_in(make_consumer()).get("/workspace/vouchers/").status_code == 403
    assert signed_in(make_user(role=Role.PARTNER)).get("/workspace/vouchers/").status_code == 302
    assert signed_in(make_merchant_staff()).get("/workspace/vouchers/").status_code == 200
    voucher = gift_voucher()
    signed_in(make_consumer()).post("/workspace/vouchers/redeem/", {"code": voucher.code})
    nothing_redeemed(voucher)


# ---- the ops console ---------------------------------------------------------------------------------


def test_ops_reverse_a_write_off_in_the_console_with_a_reason() -> None:
    voucher = gift_voucher()
    redemption = voucher_redeem(staff=make_staff(), text=voucher.code, idempotency_key="k")
    console = signed_in(make_user(username="root", role=Role.OPS, is_staff=True, is_superuser=True))
    assert console.get("/ops/offers/redemption/").status_code == 200
    assert console.get("/ops/offers/redemption/?reversed=no").status_code == 200
    url = f"/ops/offers/redemption/{redemption.pk}/reverse/"
    assert console.get(url).status_code == 200
    console.post(url, {"reason": ""})
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.REDEEMED
    assert console.post(url, {"reason": "扫错了"}).status_code == 302
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.ACTIVE
    assert (
        AuditEntry.objects.filter(action="offers.redemption_reversed", object_id=str(redemption.pk)).count()
        == 1
    )
