"""Write-off services: exactly once, what each place may see, the 409s that say why, reversal by ops."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import translation

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import AuditEntry, Event
from forecourt.dealers.tests.factories import DealerFactory, shanghai
from forecourt.offers.models import CouponKind, Redemption, Voucher, VoucherStatus
from forecourt.offers.qr import qr_payload
from forecourt.offers.services import (
    campaign_claim,
    redemption_record,
    redemption_reverse,
    voucher_lookup,
    voucher_redeem,
)
from forecourt.offers.tests.factories import (
    dealer_of,
    make_campaign,
    make_consumer,
    make_merchant,
    make_merchant_staff,
    make_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits_in_english() -> Iterator[None]:
    cache.clear()
    with translation.override("en"):
        yield
    cache.clear()


def gift_voucher(**fields) -> Voucher:
    campaign = make_campaign(
        kind=CouponKind.GIFT,
        face_value_fen=800_00,
        gift_description="脚垫一套",
        gift_description_en="Floor mats",
        **fields,
    )
    return campaign_claim(campaign=campaign, holder=make_consumer(display_name="王小明"))


def merchant_voucher(merchant) -> Voucher:
    campaign = make_campaign(kind=CouponKind.MERCHANT_SERVICE, face_value_fen=50_00, merchant=merchant)
    return campaign_claim(campaign=campaign, holder=make_consumer())


def applied(voucher: Voucher, dealer, *, order: str = "FO2026000001", value_fen: int = 2_000_00) -> Voucher:
    """Stand in for ordering's apply: the voucher bound to an order of `dealer`."""
    Voucher.objects.filter(pk=voucher.pk).update(
        status=VoucherStatus.APPLIED,
        order_reference=order,
        order_dealer=dealer,
        applied_value_fen=value_fen,
        applied_at=clock.now(),
    )
    voucher.refresh_from_db()
    return voucher


def payload_of(voucher: Voucher) -> str:
    return qr_payload(
        code=voucher.code,
        holder_public_id=voucher.holder.public_id,
        valid_until_epoch=int(voucher.valid_until.timestamp()),
    )


def error_of(call, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(**kwargs)
    return caught.value


def nothing_redeemed(voucher: Voucher, status: str = VoucherStatus.ACTIVE) -> None:
    voucher.refresh_from_db()
    assert voucher.status == status and voucher.redeemed_at is None
    assert not Redemption.objects.filter(voucher=voucher).exists()
    assert not Event.objects.filter(name="voucher.redeemed", subject_id=voucher.code).exists()


# ---- redemption_record ---------------------------------------------------------------------------------


def test_recording_a_write_off_redeems_the_voucher_once_with_its_place_value_and_event() -> None:
    voucher = gift_voucher()
    staff = make_staff()
    redemption = redemption_record(voucher=voucher, staff=staff, dealer=staff.dealer, idempotency_key="k1")
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.REDEEMED and voucher.redeemed_at == redemption.redeemed_at
    assert (redemption.place, redemption.value_fen, redemption.idempotency_key) == (
        dealer_of(staff).name,
        800_00,
        "k1",
    )
    assert (redemption.dealer, redemption.merchant, redemption.redeemed_by) == (staff.dealer, None, staff)
    event = Event.objects.get(name="voucher.redeemed", subject_id=voucher.code)
    assert event.dealer_id == dealer_of(staff).pk and event.payload["value_fen"] == 800_00


def test_a_second_write_off_is_409_with_the_first_time_and_place() -> None:
    voucher = gift_voucher()
    staff = make_staff()
    moment = clock.now().replace(microsecond=0)
    with clock.frozen_at(moment):
        redemption_record(voucher=voucher, staff=staff, dealer=staff.dealer)
    error = error_of(redemption_record, voucher=voucher, staff=staff, dealer=staff.dealer)
    assert (error.code, error.status) == ("already_redeemed", 409)
    assert error.details == {
        "redeemed_at": moment.astimezone(clock.SHANGHAI).isoformat(),
        "place": dealer_of(staff).name,
    }
    assert error.details["redeemed_at"].endswith("+08:00")
    assert Redemption.objects.filter(voucher=voucher).count() == 1
    assert Event.objects.filter(name="voucher.redeemed").count() == 1


def test_an_applied_voucher_is_written_off_only_by_the_dealer_holding_its_order() -> None:
    campaign = make_campaign()
    voucher = campaign_claim(campaign=campaign, holder=make_consumer())
    ours, theirs = make_staff(), make_staff()
    applied(voucher, ours.dealer, value_fen=1_500_00)
    error = error_of(redemption_record, voucher=voucher, staff=theirs, dealer=theirs.dealer)
    assert error.code == "not_applied"
    nothing_redeemed(voucher, VoucherStatus.APPLIED)
    redemption = redemption_record(
        voucher=voucher, staff=ours, dealer=ours.dealer, order_reference="FO2026000001"
    )
    assert (redemption.value_fen, redemption.order_reference) == (1_500_00, "FO2026000001")


def test_an_expired_voucher_cannot_be_recorded() -> None:
    voucher = gift_voucher()
    staff = make_staff()
    with clock.frozen_at(voucher.valid_until + timedelta(seconds=1)):
        error = error_of(redemption_record, voucher=voucher, staff=staff, dealer=staff.dealer)
    assert (error.code, error.status) == ("voucher_expired", 409)
    nothing_redeemed(voucher)


# ---- voucher_lookup / voucher_redeem -------------------------------------------------------------------


def test_a_typed_code_is_accepted_in_any_case_with_dashes_spaces_and_lookalikes() -> None:
    voucher = gift_voucher()
    Voucher.objects.filter(pk=voucher.pk).update(code="0123456789ABCDEF")
    staff = make_staff()
    assert voucher_lookup(staff=staff, text=" o123-4567 89ab-cdef ").pk == voucher.pk
    redemption = voucher_redeem(staff=staff, text="O1234567-89abcdef", idempotency_key="k")
    assert redemption.voucher_id == voucher.pk


def test_a_scanned_payload_is_accepted_and_a_forged_one_is_422_invalid_qr() -> None:
    voucher = gift_voucher()
    staff = make_staff()
    payload = payload_of(voucher)
    assert voucher_lookup(staff=staff, text=payload).pk == voucher.pk
    forged = payload.replace(voucher.code, "0" * 16)
    error = error_of(voucher_redeem, staff=staff, text=forged, idempotency_key="k")
    assert (error.code, error.status) == ("invalid_qr", 422)
    nothing_redeemed(voucher)
    assert voucher_redeem(staff=staff, text=payload, idempotency_key="k").voucher_id == voucher.pk


def test_not_theirs_is_answered_exactly_like_an_unknown_code() -> None:
    merchant = make_merchant()
    wash = merchant_voucher(merchant)
    other_dealer = DealerFactory.create(city=shanghai())
    limited = gift_voucher(eligible_dealers=[other_dealer.public_id])
    staff = make_staff()
    unknown = error_of(voucher_lookup, staff=staff, text="ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    for voucher in (wash, limited):
        for call in (voucher_lookup, voucher_redeem):
            kwargs = {"staff": staff, "text": voucher.code}
            if call is voucher_redeem:
                kwargs["idempotency_key"] = "k"
            error = error_of(call, **kwargs)
            assert (
                (error.code, error.message, error.status, error.details)
                == (
                    unknown.code,
                    unknown.message,
                    unknown.status,
                    unknown.details,
                )
                == ("not_found", "No voucher with this code.", 404, None)
            )
        nothing_redeemed(voucher)


def test_an_order_coupon_must_be_applied_to_an_order_of_this_dealer_first() -> None:
    voucher = campaign_claim(campaign=make_campaign(), holder=make_consumer())
    staff, other = make_staff(), make_staff()
    error = error_of(voucher_redeem, staff=staff, text=voucher.code, idempotency_key="k")
    assert (error.code, error.status) == ("not_applied", 409)
    assert error_of(voucher_lookup, staff=staff, text=voucher.code).code == "not_applied"
    applied(voucher, other.dealer)
    # Bound to another dealer's order: not this dealer's to see.
    assert error_of(voucher_lookup, staff=staff, text=voucher.code).code == "not_found"
    nothing_redeemed(voucher, VoucherStatus.APPLIED)
    assert voucher_redeem(staff=other, text=voucher.code, idempotency_key="k").dealer == other.dealer


def test_expired_void_refunded_and_unpaid_vouchers_are_refused_with_their_reason() -> None:
    staff = make_staff()
    expired = gift_voucher()
    with clock.frozen_at(expired.valid_until + timedelta(minutes=1)):
        assert (
            error_of(voucher_redeem, staff=staff, text=expired.code, idempotency_key="k").code
            == "voucher_expired"
        )
    for status in (VoucherStatus.VOID, VoucherStatus.REFUNDED, VoucherStatus.PENDING_PAYMENT):
        voucher = gift_voucher()
        Voucher.objects.filter(pk=voucher.pk).update(status=status, voided_at=clock.now())
        error = error_of(voucher_redeem, staff=staff, text=voucher.code, idempotency_key="k")
        assert (error.code, error.status, error.details) == ("voucher_not_usable", 409, {"status": status})
        nothing_redeemed(voucher, status)


def test_the_same_key_returns_the_first_write_off_and_another_key_is_already_redeemed() -> None:
    voucher = gift_voucher()
    staff = make_staff()
    first = voucher_redeem(staff=staff, text=voucher.code, idempotency_key="scan-1")
    assert voucher_redeem(staff=staff, text=voucher.code, idempotency_key="scan-1").pk == first.pk
    error = error_of(voucher_redeem, staff=staff, text=voucher.code, idempotency_key="scan-2")
    assert error.code == "already_redeemed" and error.details["place"] == dealer_of(staff).name
    assert Redemption.objects.filter(voucher=voucher).count() == 1


def test_merchant_staff_write_off_their_own_service_vouchers_and_see_nothing_else() -> None:
    merchant, other = make_merchant(), make_merchant(name="净车坊", name_en="PureWash")
    counter = make_merchant_staff(merchant)
    ours, theirs, gift = merchant_voucher(merchant), merchant_voucher(other), gift_voucher()
    for voucher in (theirs, gift):
        assert error_of(voucher_lookup, staff=counter, text=voucher.code).code == "not_found"
        nothing_redeemed(voucher)
    redemption = voucher_redeem(staff=counter, text=ours.code, idempotency_key="k")
    assert (redemption.merchant, redemption.dealer, redemption.place) == (merchant, None, "洁车坊·徐汇店")
    assert Event.objects.get(name="voucher.redeemed", subject_id=ours.code).dealer_id is None


def test_people_without_a_counter_are_403() -> None:
    voucher = gift_voucher()
    for user in (make_consumer(), make_user(role=Role.OPS), make_user(role=Role.PARTNER)):
        error = error_of(voucher_lookup, staff=user, text=voucher.code)
        assert (error.code, error.status) == ("forbidden", 403)
    nothing_redeemed(voucher)


@pytest.mark.parametrize("text", ["", "   ", "x" * 301, 17, None])
def test_malformed_input_is_422_naming_the_code(text) -> None:
    error = error_of(voucher_lookup, staff=make_staff(), text=text)
    assert (error.status, error.details[0]["field"]) == (422, "code")


def test_lookups_are_limited_per_staff_member(settings) -> None:
    settings.OFFERS_LOOKUP_LIMIT_PER_STAFF = 3
    voucher = gift_voucher()
    staff = make_staff()
    colleague = make_staff(dealer=staff.dealer)
    for _attempt in range(3):
        voucher_lookup(staff=staff, text=voucher.code)
    error = error_of(voucher_redeem, staff=staff, text=voucher.code, idempotency_key="k")
    assert (error.code, error.status) == ("rate_limited", 429)
    nothing_redeemed(voucher)
    assert voucher_lookup(staff=colleague, text=voucher.code).pk == voucher.pk


def test_lookups_are_limited_per_place(settings) -> None:
    settings.OFFERS_LOOKUP_LIMIT_PER_PLACE = 4
    staff = make_staff()
    colleagues = [make_staff(dealer=staff.dealer) for _ in range(4)]
    for colleague in colleagues:
        error_of(voucher_lookup, staff=colleague, text="ZZZZZZZZZZZZZZZZ")  # misses count too
    assert error_of(voucher_lookup, staff=staff, text="ZZZZZZZZZZZZZZZZ").code == "rate_limited"
    assert error_of(voucher_lookup, staff=make_staff(), text="ZZZZZZZZZZZZZZZZ").code == "not_found"


def test_lookups_are_limited_per_ip(settings) -> None:
    settings.OFFERS_LOOKUP_LIMIT_PER_IP = 2
    staff = [make_staff() for _ in range(3)]
    error_of(voucher_lookup, staff=staff[0], text="ZZZZZZZZZZZZZZZZ", ip="10.0.0.9")
    error_of(voucher_lookup, staff=staff[1], text="ZZZZZZZZZZZZZZZZ", ip="10.0.0.9")
    assert (
        error_of(voucher_lookup, staff=staff[2], text="ZZZZZZZZZZZZZZZZ", ip="10.0.0.9").code
        == "rate_limited"
    )
    assert (
        error_of(voucher_lookup, staff=staff[2], text="ZZZZZZZZZZZZZZZZ", ip="10.0.0.8").code == "not_found"
    )


# ---- redemption_reverse --------------------------------------------------------------------------------


def test_ops_reverse_a_write_off_with_a_reason_and_it_is_audited() -> None:
    voucher = gift_voucher()
    staff = make_staff()
    redemption = voucher_redeem(staff=staff, text=voucher.code, idempotency_key="k")
    ops = make_user(role=Role.OPS)
    redemption_reverse(redemption=redemption, actor=ops, reason="扫错了券")
    voucher.refresh_from_db()
    redemption.refresh_from_db()
    assert (voucher.status, voucher.redeemed_at) == (VoucherStatus.ACTIVE, None)
    assert (redemption.reversed_by, redemption.reverse_reason) == (ops, "扫错了券")
    assert redemption.reversed_at is not None
    entry = AuditEntry.objects.get(action="offers.redemption_reversed")
    assert (entry.actor, entry.object_id, entry.details["reason"]) == (ops, str(redemption.pk), "扫错了券")
    assert Event.objects.filter(name="voucher.redemption_reversed", subject_id=voucher.code).count() == 1
    # Usable again, once.
    again = voucher_redeem(staff=staff, text=voucher.code, idempotency_key="k2")
    assert again.pk != redemption.pk


def test_a_reversed_order_coupon_goes_back_to_its_order() -> None:
    voucher = campaign_claim(campaign=make_campaign(), holder=make_consumer())
    staff = make_staff()
    applied(voucher, staff.dealer)
    redemption = voucher_redeem(staff=staff, text=voucher.code, idempotency_key="k")
    redemption_reverse(redemption=redemption, actor=make_user(role=Role.OPS), reason="交付取消")
    voucher.refresh_from_db()
    assert (voucher.status, voucher.order_reference) == (VoucherStatus.APPLIED, "FO2026000001")


def test_only_ops_may_reverse_and_only_with_a_reason() -> None:
    voucher = gift_voucher()
    staff = make_staff()
    redemption = voucher_redeem(staff=staff, text=voucher.code, idempotency_key="k")
    for actor, reason, code in (
        (staff, "mistake", "forbidden"),
        (make_user(role=Role.DEALER_MANAGER, dealer=staff.dealer), "mistake", "forbidden"),
        (make_user(role=Role.OPS), "  ", "invalid"),
    ):
        assert error_of(redemption_reverse, redemption=redemption, actor=actor, reason=reason).code == code
    redemption.refresh_from_db()
    voucher.refresh_from_db()
    assert redemption.reversed_at is None and voucher.status == VoucherStatus.REDEEMED
    assert not AuditEntry.objects.filter(action="offers.redemption_reversed").exists()
    assert not Event.objects.filter(name="voucher.redemption_reversed").exists()


def test_a_write_off_cannot_be_reversed_twice() -> None:
    voucher = gift_voucher()
    redemption = voucher_redeem(staff=make_staff(), text=voucher.code, idempotency_key="k")
    ops = make_user(role=Role.OPS)
    redemption_reverse(redemption=redemption, actor=ops, reason="mistake")
    error = error_of(redemption_reverse, redemption=redemption, actor=ops, reason="again")
    assert (error.code, error.status) == ("not_redeemed", 409)
    assert AuditEntry.objects.filter(action="offers.redemption_reversed").count() == 1
