"""Paid coupons through the real sandbox payment path: pay → active once; late payment → refunded;
refund of an unused coupon; no refund of a used one; and the API's pay and refund endpoints."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, TestCase

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.core.money import Money
from forecourt.offers.models import Campaign, ClaimTally, CouponKind, Voucher, VoucherStatus
from forecourt.offers.services import campaign_claim, offers_sweep, voucher_pay_start, voucher_refund
from forecourt.offers.services.paid import PURPOSE
from forecourt.offers.tests.factories import make_campaign, make_consumer
from forecourt.payments.models import IntentStatus, PaymentIntent, Refund
from forecourt.payments.providers.sandbox import sandbox_notification_build
from forecourt.payments.selectors import payment_intents_for
from forecourt.payments.services import payment_notification_receive

pytestmark = pytest.mark.django_db

RETURN_URL = "/offers/mine/"


def committed() -> Any:
    return TestCase.captureOnCommitCallbacks(execute=True)


def paid_campaign(**fields: Any) -> Campaign:
    values: dict[str, Any] = {
        "name": "双11 ¥99抵¥2,000",
        "kind": CouponKind.PAID_MULTIPLIER,
        "price_fen": 99_00,
        "face_value_fen": 2_000_00,
        "budget_count": 10,
    }
    values.update(fields)
    return make_campaign(**values)


def start(voucher: Voucher) -> PaymentIntent:
    voucher_pay_start(voucher=voucher, provider="sandbox", return_url=RETURN_URL, actor=voucher.holder)
    return [i for i in payment_intents_for(reference=voucher.code, purpose=PURPOSE) if i.status == "created"][
        -1
    ]


def notify_paid(intent: PaymentIntent, suffix: str = "PAY") -> None:
    headers, body = sandbox_notification_build(
        notification_id=f"SBN{intent.out_trade_no}{suffix}",
        out_trade_no=intent.out_trade_no,
        trade_no=f"SBX{intent.out_trade_no}",
        amount_fen=intent.amount_fen,
        status="succeeded",
    )
    with committed():
        outcome = payment_notification_receive(provider="sandbox", headers=headers, body=body, ip="127.0.0.1")
    assert outcome.accepted or outcome.duplicate, outcome.reason


def fresh(voucher: Voucher) -> Voucher:
    return Voucher.objects.get(pk=voucher.pk)


def test_paying_a_paid_coupon_makes_it_active_exactly_once() -> None:
    voucher = campaign_claim(campaign=paid_campaign(), holder=make_consumer())
    assert voucher.status == VoucherStatus.PENDING_PAYMENT
    intent = start(voucher)
    assert (intent.amount_fen, intent.reference, intent.purpose) == (99_00, voucher.code, "offers.voucher")
    notify_paid(intent)
    notify_paid(intent, suffix="AGAIN")
    paid = fresh(voucher)
    assert paid.status == VoucherStatus.ACTIVE and paid.paid_at is not None
    assert paid.payment_intent == intent.public_id
    assert Event.objects.filter(name="voucher.paid", subject_id=voucher.code).count() == 1
    assert not Refund.objects.exists()


def test_starting_twice_reuses_one_intent() -> None:
    voucher = campaign_claim(campaign=paid_campaign(), holder=make_consumer())
    first, second = start(voucher), start(voucher)
    assert first.pk == second.pk
    assert PaymentIntent.objects.filter(reference=voucher.code).count() == 1


def test_a_payment_for_a_coupon_voided_for_non_payment_is_refunded_automatically() -> None:
    campaign = paid_campaign(budget_count=1)
    voucher = campaign_claim(campaign=campaign, holder=make_consumer())
    intent = start(voucher)
    with clock.frozen_at(clock.now() + timedelta(minutes=31)):
        assert offers_sweep()["unpaid_voided"] == 1
    campaign.refresh_from_db()
    assert campaign.claimed_count == 0  # the budget went back
    notify_paid(intent)
    assert fresh(voucher).status == VoucherStatus.VOID
    refund = Refund.objects.get(intent=intent)
    assert refund.amount_fen == 99_00 and refund.status == "succeeded"
    assert Event.objects.filter(name="voucher.paid").count() == 0


def test_a_second_payment_of_the_same_coupon_is_refunded() -> None:
    voucher = campaign_claim(campaign=paid_campaign(), holder=make_consumer())
    first = start(voucher)
    second = PaymentIntent.objects.get(pk=first.pk)
    notify_paid(first)
    # A second intent (another tab) paid too: it is refunded, the coupon stays paid by the first.
    from forecourt.payments.services import payment_intent_create

    other = payment_intent_create(
        purpose=PURPOSE,
        reference=voucher.code,
        amount=Money(second.amount_fen, "CNY"),
        payer=voucher.holder,
        provider="sandbox",
        description="again",
        idempotency_key=f"again:{voucher.code}",
    )
    notify_paid(other)
    assert fresh(voucher).payment_intent == first.public_id
    assert list(Refund.objects.values_list("intent__public_id", flat=True)) == [other.public_id]


def test_an_unused_paid_coupon_is_refunded_and_voided_together() -> None:
    campaign = paid_campaign()
    voucher = campaign_claim(campaign=campaign, holder=make_consumer())
    intent = start(voucher)
    notify_paid(intent)
    with committed():
        refunded = voucher_refund(voucher=fresh(voucher), actor=voucher.holder)
    assert refunded.status == VoucherStatus.REFUNDED and refunded.voided_at is not None
    assert Refund.objects.get(intent=intent).amount_fen == 99_00
    assert PaymentIntent.objects.get(pk=intent.pk).refunded_fen == 99_00
    campaign.refresh_from_db()
    assert campaign.claimed_count == 0
    assert ClaimTally.objects.get(campaign=campaign, holder=voucher.holder).claimed == 0
    with pytest.raises(DomainError) as again:
        voucher_refund(voucher=fresh(voucher), actor=voucher.holder)
    assert again.value.code == "not_refundable"
    assert Refund.objects.count() == 1


@pytest.mark.parametrize("status", [VoucherStatus.APPLIED, VoucherStatus.REDEEMED])
def test_a_coupon_applied_or_used_is_not_refundable(status: str) -> None:
    voucher = campaign_claim(campaign=paid_campaign(), holder=make_consumer())
    notify_paid(start(voucher))
    Voucher.objects.filter(pk=voucher.pk).update(
        status=status, order_reference="FC2026X", redeemed_at=clock.now()
    )
    with pytest.raises(DomainError) as caught:
        voucher_refund(voucher=fresh(voucher), actor=voucher.holder)
    assert (caught.value.code, caught.value.status) == ("not_refundable", 409)
    assert fresh(voucher).status == status
    assert not Refund.objects.exists()


def test_an_unpaid_coupon_is_not_refundable() -> None:
    voucher = campaign_claim(campaign=paid_campaign(), holder=make_consumer())
    with pytest.raises(DomainError) as caught:
        voucher_refund(voucher=voucher, actor=voucher.holder)
    assert caught.value.code == "not_refundable"


def test_paying_after_the_payment_window_is_refused() -> None:
    voucher = campaign_claim(campaign=paid_campaign(), holder=make_consumer())
    with clock.frozen_at(clock.now() + timedelta(minutes=31)), pytest.raises(DomainError) as caught:
        start(voucher)
    assert (caught.value.code, caught.value.status) == ("voucher_expired", 409)
    assert not PaymentIntent.objects.exists()


def test_the_api_pays_and_refunds_my_paid_coupon() -> None:
    person = make_consumer()
    voucher = campaign_claim(campaign=paid_campaign(), holder=person)
    client = Client()
    client.force_login(person)
    body = {"provider": "sandbox", "return_url": "/offers/mine/"}
    response = client.post(
        f"/api/v1/vouchers/{voucher.code}/pay", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201
    answer = response.json()
    assert answer["kind"] == "redirect" and answer["url"].startswith("/payments/sandbox/")
    assert answer["voucher"] == voucher.code
    intent = PaymentIntent.objects.get(reference=voucher.code)
    assert intent.status == IntentStatus.CREATED
    notify_paid(intent)
    assert client.get(f"/api/v1/vouchers/{voucher.code}").json()["status"] == "active"
    with committed():
        refund = client.post(f"/api/v1/vouchers/{voucher.code}/refund")
    assert refund.status_code == 200 and refund.json()["status"] == "refunded"
    again = client.post(f"/api/v1/vouchers/{voucher.code}/refund")
    assert (again.status_code, again.json()["code"]) == (409, "not_refundable")


def test_the_api_refuses_an_unknown_provider_with_422() -> None:
    person = make_consumer()
    voucher = campaign_claim(campaign=paid_campaign(), holder=person)
    client = Client()
    client.force_login(person)
    body = {"provider": "paypal", "return_url": "/offers/mine/"}
    response = client.post(
        f"/api/v1/vouchers/{voucher.code}/pay", data=json.dumps(body), content_type="application/json"
    )
    assert (response.status_code, response.json()["details"][0]["field"]) == (422, "provider")
    assert not PaymentIntent.objects.exists()


def test_paying_someone_elses_coupon_is_404() -> None:
    voucher = campaign_claim(campaign=paid_campaign(), holder=make_consumer())
    client = Client()
    client.force_login(make_consumer())
    body = {"provider": "sandbox", "return_url": "/offers/mine/"}
    response = client.post(
        f"/api/v1/vouchers/{voucher.code}/pay", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 404
    assert not PaymentIntent.objects.exists()


def test_the_voucher_page_pays_through_the_sandbox() -> None:
    person = make_consumer()
    voucher = campaign_claim(campaign=paid_campaign(), holder=person)
    client = Client()
    client.force_login(person)
    page = client.get(f"/offers/mine/{voucher.code}/").content.decode()
    assert 'id="pay-form"' in page
    response = client.post(f"/offers/mine/{voucher.code}/pay/", {"provider": "sandbox"})
    assert response.status_code == 302 and response["Location"].startswith("/payments/sandbox/")
