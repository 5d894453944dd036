"""Claiming: limits, budgets in count and money, eligibility, and the signed QR payload."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.offers.models import Campaign, ClaimTally, CouponKind, Voucher, VoucherStatus
from forecourt.offers.qr import qr_payload, qr_payload_read
from forecourt.offers.services import campaign_claim
from forecourt.offers.tests.factories import make_campaign, make_consumer, make_staff

pytestmark = pytest.mark.django_db


def test_a_claim_takes_one_from_the_budget_and_records_the_event() -> None:
    campaign = make_campaign(budget_count=2)
    person = make_consumer()
    voucher = campaign_claim(campaign=campaign.public_id, holder=person)
    campaign.refresh_from_db()
    assert (campaign.claimed_count, campaign.claimed_fen) == (1, 2_000_00)
    assert voucher.status == VoucherStatus.ACTIVE and voucher.holder == person
    assert len(voucher.code) == 16 and voucher.face_value_fen == 2_000_00
    assert Event.objects.filter(name="voucher.claimed", subject_id=voucher.code).count() == 1


def test_the_per_person_limit_holds_and_a_refused_claim_takes_nothing() -> None:
    campaign = make_campaign(per_person_limit=2)
    person = make_consumer()
    campaign_claim(campaign=campaign, holder=person)
    campaign_claim(campaign=campaign, holder=person)
    with pytest.raises(DomainError) as caught:
        campaign_claim(campaign=campaign, holder=person)
    assert (caught.value.code, caught.value.status) == ("limit_reached", 409)
    campaign.refresh_from_db()
    assert campaign.claimed_count == 2
    assert ClaimTally.objects.get(campaign=campaign, holder=person).claimed == 2


def test_a_count_budget_is_never_exceeded() -> None:
    campaign = make_campaign(budget_count=1)
    campaign_claim(campaign=campaign, holder=make_consumer())
    with pytest.raises(DomainError) as caught:
        campaign_claim(campaign=campaign, holder=make_consumer())
    assert caught.value.code == "budget_exhausted"
    assert Voucher.objects.filter(campaign=campaign).count() == 1


def test_a_money_budget_counts_a_percentage_coupon_at_its_cap() -> None:
    campaign = make_campaign(
        kind=CouponKind.PERCENT_OFF,
        percent_off_bp=500,
        percent_cap_fen=3_000_00,
        budget_count=None,
        budget_fen=7_000_00,
        face_value_fen=0,
    )
    campaign_claim(campaign=campaign, holder=make_consumer())
    campaign_claim(campaign=campaign, holder=make_consumer())
    with pytest.raises(DomainError) as caught:
        campaign_claim(campaign=campaign, holder=make_consumer())
    assert caught.value.code == "budget_exhausted"
    campaign.refresh_from_db()
    assert campaign.claimed_fen == 6_000_00


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"starts_at_days": 1}, "not_started"),
        ({"ends_at_days": -1}, "ended"),
        ({"channels": ["app"]}, "channel"),
        ({"kind": CouponKind.SUBSIDY}, "subsidy"),
    ],
)
def test_ineligible_claims_are_refused_with_a_reason(change: dict[str, object], reason: str) -> None:
    at = clock.now()
    fields: dict[str, object] = {}
    if "starts_at_days" in change:
        fields["starts_at"] = at + timedelta(days=1)
    if "ends_at_days" in change:
        fields["starts_at"] = at - timedelta(days=5)
        fields["ends_at"] = at - timedelta(days=1)
    for key in ("channels", "kind"):
        if key in change:
            fields[key] = change[key]
    campaign = make_campaign(**fields)
    with pytest.raises(DomainError) as caught:
        campaign_claim(campaign=campaign, holder=make_consumer(), channel="web")
    assert (caught.value.code, caught.value.status) == ("not_eligible", 409)
    assert caught.value.details["reason"] == reason
    assert Campaign.objects.get(pk=campaign.pk).claimed_count == 0


def test_staff_cannot_claim() -> None:
    with pytest.raises(DomainError) as caught:
        campaign_claim(campaign=make_campaign(), holder=make_staff())
    assert caught.value.details["reason"] == "role"


def test_a_paid_coupon_waits_for_its_payment() -> None:
    campaign = make_campaign(kind=CouponKind.PAID_MULTIPLIER, price_fen=99_00, face_value_fen=2_000_00)
    voucher = campaign_claim(campaign=campaign, holder=make_consumer())
    assert voucher.status == VoucherStatus.PENDING_PAYMENT and voucher.price_fen == 99_00


def test_the_qr_payload_is_signed_and_any_change_is_caught() -> None:
    payload = qr_payload(
        code="ABCDEFGHJKMNPQRS", holder_public_id="usr_ABCDEFGH12345678", valid_until_epoch=1_800_000_000
    )
    assert qr_payload_read(payload).code == "ABCDEFGHJKMNPQRS"
    for forged in (
        payload.replace("ABCDEFGHJKMNPQRS", "ABCDEFGHJKMNPQRT"),
        payload.replace("1800000000", "1900000000"),
        payload[:-2] + ("AA" if not payload.endswith("AA") else "BB"),
        "FCV1.garbage",
    ):
        with pytest.raises(DomainError) as caught:
            qr_payload_read(forged)
        assert caught.value.code == "invalid_qr"
