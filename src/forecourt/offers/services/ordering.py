"""Coupons on car orders: the quote (eligibility, stacking, caps, the floor) and what orders do to them.

- `offers_quote` is pure: it reads and decides, and the order's pages use it to preview.
- `vouchers_apply_to_order` runs inside the order's transaction: the vouchers are locked, the quote is
  made again under the locks, and each voucher moves active → applied by a conditional UPDATE, so one
  voucher can never be reserved by two orders (the second waits for the lock, then sees it applied).
- `vouchers_release_for_order` runs inside the cancellation's transaction, so no refund can leave with a
  coupon still standing on the order; `vouchers_redeem_for_order` writes them off on delivery.

Offers never imports orders: orders calls these, and the delivery reaches us through `order.delivered`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.events import event_record
from forecourt.dealers.models import Dealer
from forecourt.offers.errors import OfferErrorCode
from forecourt.offers.models import ORDER_KINDS, Campaign, CouponKind, OnCancel, Voucher, VoucherStatus
from forecourt.offers.services.floors import price_floor_for
from forecourt.offers.services.redemption import redemption_record

SUBJECT_TYPE = "voucher"
V = VoucherStatus
# The most coupons one order may carry (anything beyond is refused, never silently dropped).
MAX_CODES = 10


@dataclass(frozen=True)
class OfferLine:
    code: str
    campaign: str
    campaign_name: str
    kind: str
    value_fen: int

    def as_record(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "campaign": self.campaign,
            "name": self.campaign_name,
            "kind": self.kind,
            "value_fen": self.value_fen,
        }


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason, "message": self.message}


@dataclass(frozen=True)
class OfferQuote:
    vehicle_price_fen: int
    lines: tuple[OfferLine, ...] = ()
    discount_fen: int = 0
    floor_fen: int = 0
    total_fen: int = 0
    refused: tuple[Refusal, ...] = field(default=())

    @property
    def codes(self) -> list[str]:
        return [line.code for line in self.lines]

    @property
    def records(self) -> list[dict[str, Any]]:
        return [line.as_record() for line in self.lines]


def code_normalise(text: str) -> str:
    # Typed in groups ("ABCD-EFGH …") or pasted: compared without separators, in capitals.
    return "".join(ch for ch in str(text).upper() if ch.isalnum())[:20]


def codes_normalise(codes: Iterable[str]) -> list[str]:
    """Distinct codes in the order given (a code typed twice counts once)."""
    seen: list[str] = []
    for text in codes:
        code = code_normalise(text)
        if code and code not in seen:
            seen.append(code)
    return seen


def nominal_value_fen(voucher: Voucher, vehicle_price_fen: int) -> int:
    """What the voucher is worth on this car before caps and the floor (percentages apply to the price)."""
    if voucher.kind == CouponKind.PERCENT_OFF:
        value = vehicle_price_fen * voucher.percent_off_bp // 10000
        return min(value, voucher.percent_cap_fen) if voucher.percent_cap_fen > 0 else value
    return voucher.face_value_fen


def _refusal_for_status(voucher: Voucher, order_reference: str, at: datetime) -> Refusal | None:
    code = voucher.code
    if voucher.status == V.APPLIED:
        if order_reference and voucher.order_reference == order_reference:
            return None  # already reserved by this very order: it keeps it, even past its date
        return Refusal(
            code, OfferErrorCode.ALREADY_APPLIED, _("This coupon is already used on another order.")
        )
    if voucher.status == V.PENDING_PAYMENT:
        return Refusal(code, OfferErrorCode.PAYMENT_REQUIRED, _("Pay for this coupon before using it."))
    if voucher.status == V.REDEEMED:
        return Refusal(code, OfferErrorCode.ALREADY_REDEEMED, _("This coupon has already been used."))
    if voucher.status in (V.VOID, V.REFUNDED):
        return Refusal(code, OfferErrorCode.VOUCHER_VOID, _("This coupon is no longer valid."))
    if voucher.status == V.EXPIRED or voucher.valid_until <= at or voucher.valid_from > at:
        return Refusal(code, OfferErrorCode.VOUCHER_EXPIRED, _("This coupon has expired."))
    if voucher.status != V.ACTIVE:
        return Refusal(code, OfferErrorCode.VOUCHER_NOT_USABLE, _("This coupon cannot be used."))
    return None


def _refusal_for_car(voucher: Voucher, *, car: dict[str, str]) -> Refusal | None:
    campaign = voucher.campaign
    if voucher.kind not in ORDER_KINDS:
        return Refusal(
            voucher.code,
            OfferErrorCode.NOT_ELIGIBLE,
            _("This coupon is used at the counter, not on a car order."),
        )
    rules = (
        (campaign.eligible_models, car["model"], _("This coupon is not valid for this model.")),
        (campaign.eligible_trims, car["trim"], _("This coupon is not valid for this version of the car.")),
        (campaign.eligible_cities, car["city"], _("This coupon is not valid in this city.")),
        (campaign.eligible_dealers, car["dealer"], _("This coupon is not valid at this dealer.")),
    )
    for allowed, value, message in rules:
        if allowed and value not in allowed:
            return Refusal(voucher.code, OfferErrorCode.NOT_ELIGIBLE, message)
    return None


def _stacks_with(first: Voucher, second: Voucher, partners: dict[int, set[int]]) -> bool:
    if first.campaign.exclusive or second.campaign.exclusive:
        return False
    if first.campaign_id == second.campaign_id:
        return False
    return second.campaign_id in partners.get(first.campaign_id, set()) and first.campaign_id in partners.get(
        second.campaign_id, set()
    )


def offers_quote(
    *,
    holder: User,
    codes: Iterable[str],
    trim_code: str,
    model_code: str,
    city_code: str,
    dealer_public_id: str,
    vehicle_price_fen: int,
    order_reference: str = "",
    at: datetime | None = None,
) -> OfferQuote:
    """What these coupons take off this car for this person, and which are refused and why (no writes)."""
    moment = at or clock.now()
    wanted = codes_normalise(codes)
    floor = min(
        price_floor_for(trim_code=trim_code, model_code=model_code, vehicle_price_fen=vehicle_price_fen),
        vehicle_price_fen,
    )
    refused: list[Refusal] = []
    if len(wanted) > MAX_CODES:
        refused += [
            Refusal(code, OfferErrorCode.NOT_STACKABLE, _("Too many coupons on one order."))
            for code in wanted[MAX_CODES:]
        ]
        wanted = wanted[:MAX_CODES]
    found = {
        voucher.code: voucher
        for voucher in Voucher.objects.filter(code__in=wanted, holder_id=holder.pk).select_related("campaign")
    }
    car = {"model": model_code, "trim": trim_code, "city": city_code, "dealer": dealer_public_id}
    candidates: list[Voucher] = []
    for code in wanted:
        voucher = found.get(code)
        if voucher is None:
            # Someone else's code is answered exactly like one that does not exist.
            refused.append(Refusal(code, OfferErrorCode.VOUCHER_NOT_FOUND, _("No such coupon.")))
            continue
        refusal = _refusal_for_status(voucher, order_reference, moment) or _refusal_for_car(voucher, car=car)
        if refusal is not None:
            refused.append(refusal)
        else:
            candidates.append(voucher)
    partners: dict[int, set[int]] = {}
    if len(candidates) > 1:
        campaign_ids = {voucher.campaign_id for voucher in candidates}
        through = Campaign.stackable_with.through
        for row in through.objects.filter(from_campaign_id__in=campaign_ids).values_list(
            "from_campaign_id", "to_campaign_id"
        ):
            partners.setdefault(row[0], set()).add(row[1])
    accepted: list[Voucher] = []
    for voucher in candidates:
        if all(_stacks_with(other, voucher, partners) for other in accepted):
            accepted.append(voucher)
        else:
            refused.append(
                Refusal(
                    voucher.code,
                    OfferErrorCode.NOT_STACKABLE,
                    _("This coupon cannot be combined with the others."),
                )
            )
    caps = [
        v.campaign.max_order_discount_fen for v in accepted if v.campaign.max_order_discount_fen is not None
    ]
    room = vehicle_price_fen - floor
    if caps:
        room = min(room, min(caps))
    lines: list[OfferLine] = []
    for voucher in accepted:
        # Given in the order the codes came: each takes what is left under the cap and the floor.
        value = min(nominal_value_fen(voucher, vehicle_price_fen), max(room, 0))
        if value <= 0:
            refused.append(
                Refusal(
                    voucher.code,
                    OfferErrorCode.FLOOR_REACHED,
                    _("The other coupons already take this car to its lowest price."),
                )
            )
            continue
        room -= value
        lines.append(
            OfferLine(
                code=voucher.code,
                campaign=voucher.campaign.public_id,
                campaign_name=voucher.campaign.display_name,
                kind=voucher.kind,
                value_fen=value,
            )
        )
    discount = sum(line.value_fen for line in lines)
    return OfferQuote(
        vehicle_price_fen=vehicle_price_fen,
        lines=tuple(lines),
        discount_fen=discount,
        floor_fen=floor,
        total_fen=vehicle_price_fen - discount,
        refused=tuple(refused),
    )


def refused_error(quote: OfferQuote) -> DomainError:
    """409 with the first refusal's reason as the code; every refusal is in the details."""
    first = quote.refused[0]
    return DomainError(
        first.reason, first.message, status=409, details={"refused": [r.as_dict() for r in quote.refused]}
    )


def _event(name: str, voucher: Voucher, **payload: Any) -> None:
    event_record(
        name,
        subject_type=SUBJECT_TYPE,
        subject_id=voucher.code,
        actor=None,
        dealer_id=voucher.order_dealer_id,
        payload={"campaign": voucher.campaign.public_id, "kind": voucher.kind, **payload},
    )


def _release(voucher: Voucher, *, order_reference: str, reason: str, moment: datetime) -> None:
    """Back to the holder if still valid (else expired), by a conditional UPDATE on the applied row."""
    status = V.ACTIVE if voucher.valid_until > moment else V.EXPIRED
    moved = Voucher.objects.filter(pk=voucher.pk, status=V.APPLIED, order_reference=order_reference).update(
        status=status,
        order_reference="",
        order_dealer=None,
        applied_value_fen=0,
        applied_at=None,
        updated_at=moment,
    )
    if moved:
        _event("voucher.released", voucher, order=order_reference, reason=reason, status=status)


def _void(voucher: Voucher, *, order_reference: str, reason: str, moment: datetime) -> None:
    moved = Voucher.objects.filter(
        pk=voucher.pk, status__in=[V.APPLIED, V.REDEEMED], order_reference=order_reference
    ).update(status=V.VOID, voided_at=moment, void_reason=reason[:200], updated_at=moment)
    if moved:
        _event("voucher.voided", voucher, order=order_reference, reason=reason, was=voucher.status)


def _locked_vouchers(condition: Q) -> list[Voucher]:
    # Locked in primary-key order, so two orders touching the same vouchers never deadlock.
    return list(
        Voucher.objects.select_for_update(of=("self",))
        .select_related("campaign")
        .filter(condition)
        .order_by("pk")
    )


def vouchers_apply_to_order(
    *,
    holder: User,
    codes: Iterable[str],
    order_reference: str,
    dealer: Dealer,
    trim_code: str,
    model_code: str,
    city_code: str,
    vehicle_price_fen: int,
    release_refused: bool = False,
) -> OfferQuote:
    """Inside the order's transaction: reserve exactly `codes` for the order (releasing the ones dropped).

    Any refused code is a 409 with its reason and nothing changes, unless `release_refused` (a re-quote
    after a configuration change), when the refused ones are released and the rest stay applied.
    """
    if not order_reference:
        raise DomainError(OfferErrorCode.NOT_APPLIED, _("An order is needed."), status=422)
    wanted = codes_normalise(codes)
    arguments: dict[str, Any] = {
        "holder": holder,
        "trim_code": trim_code,
        "model_code": model_code,
        "city_code": city_code,
        "dealer_public_id": dealer.public_id,
        "vehicle_price_fen": vehicle_price_fen,
        "order_reference": order_reference,
    }
    with transaction.atomic():
        _locked_vouchers(
            Q(code__in=wanted, holder_id=holder.pk) | Q(order_reference=order_reference, status=V.APPLIED)
        )
        moment = clock.now()
        quote = offers_quote(codes=wanted, at=moment, **arguments)
        if quote.refused and release_refused:
            quote = offers_quote(codes=quote.codes, at=moment, **arguments)
        if quote.refused:
            raise refused_error(quote)
        standing = {
            voucher.code: voucher
            for voucher in Voucher.objects.select_related("campaign").filter(
                order_reference=order_reference, status=V.APPLIED
            )
        }
        for line in quote.lines:
            before = standing.pop(line.code, None)
            moved = (
                Voucher.objects.filter(code=line.code, holder_id=holder.pk)
                .filter(
                    Q(status=V.ACTIVE, valid_until__gt=moment)
                    | Q(status=V.APPLIED, order_reference=order_reference)
                )
                .update(
                    status=V.APPLIED,
                    order_reference=order_reference,
                    order_dealer=dealer,
                    applied_value_fen=line.value_fen,
                    applied_at=before.applied_at if before is not None else moment,
                    updated_at=moment,
                )
            )
            if not moved:  # cannot happen under the locks; the UPDATE's guard is the last word anyway
                raise DomainError(
                    OfferErrorCode.VOUCHER_NOT_USABLE, _("This coupon cannot be used."), status=409
                )
            if before is None or before.applied_value_fen != line.value_fen:
                voucher = Voucher.objects.select_related("campaign").get(code=line.code)
                _event(
                    "voucher.applied",
                    voucher,
                    order=order_reference,
                    value_fen=line.value_fen,
                    holder=holder.public_id,
                )
        for voucher in standing.values():
            _release(voucher, order_reference=order_reference, reason="removed", moment=moment)
    return quote


def vouchers_release_for_order(*, order_reference: str, reason: str) -> int:
    """On cancellation (inside its transaction): each voucher of the order is released or voided by its
    campaign's rule; one already written off against the order is voided.
    Idempotent; returns how many moved."""
    if not order_reference:
        return 0
    moved = 0
    with transaction.atomic():
        moment = clock.now()
        for voucher in _locked_vouchers(
            Q(order_reference=order_reference, status__in=[V.APPLIED, V.REDEEMED])
        ):
            # A written-off voucher has already given its value: never a refund and a usable coupon too.
            if voucher.status == V.REDEEMED or voucher.campaign.on_cancel == OnCancel.VOID:
                _void(
                    voucher,
                    order_reference=order_reference,
                    reason=f"order cancelled: {reason}",
                    moment=moment,
                )
            else:
                _release(voucher, order_reference=order_reference, reason=reason, moment=moment)
            moved += 1
    return moved


def vouchers_redeem_for_order(*, order_reference: str, dealer: Dealer) -> int:
    """On delivery: write off every voucher still applied to the order at its dealer. Idempotent."""
    redeemed = 0
    with transaction.atomic():
        for voucher in _locked_vouchers(Q(order_reference=order_reference, status=V.APPLIED)):
            redemption_record(
                voucher=voucher,
                staff=None,
                dealer=dealer,
                order_reference=order_reference,
                idempotency_key=f"order:{order_reference}:{voucher.code}",
            )
            redeemed += 1
    return redeemed
