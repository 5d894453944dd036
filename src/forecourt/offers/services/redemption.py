"""Writing a voucher off (核销) at a dealer or merchant counter, exactly once; ops may reverse it.

Exactly once is the database's job: the voucher moves to `redeemed` by one conditional UPDATE whose row
count tells who won (a concurrent second scan blocks on the row, then matches nothing), and a partial
unique index allows one standing Redemption per voucher. The checks before it only pick the right error
message; they never decide alone.

Anti-probing: lookups and write-offs are counted per staff member, per place and per IP, and a voucher
the staff member may not see is answered with exactly the same 404 as a code that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.core.audit import audit_record
from forecourt.core.errors import DomainError, NotFound
from forecourt.core.events import event_record
from forecourt.core.identifiers import CODE_ALPHABET
from forecourt.core.ratelimit import rate_limits_hit
from forecourt.dealers.models import Dealer
from forecourt.offers.access import Place, ensure_ops, staff_place
from forecourt.offers.errors import OfferErrorCode, field_error
from forecourt.offers.models import (
    COUNTER_KINDS,
    CouponKind,
    Merchant,
    Redemption,
    Voucher,
    VoucherStatus,
)
from forecourt.offers.models.vouchers import VOUCHER_CODE_LENGTH
from forecourt.offers.qr import code_from_input
from forecourt.offers.selectors import voucher_effective_status
from forecourt.offers.selectors import voucher_standing_redemption as standing_redemption

V = VoucherStatus
SUBJECT_TYPE = "voucher"
# Longest text accepted from a scan or the keyboard (a signed payload is about 150 characters).
MAX_INPUT_LENGTH = 300
_CODE_CHARACTERS = frozenset(CODE_ALPHABET)
_NOT_USABLE = frozenset({V.VOID, V.REFUNDED, V.PENDING_PAYMENT})
# What a write-off re-reads after its UPDATE: everything but the campaign and holder it keeps cached.
_MUTABLE_FIELDS = [
    field.name for field in Voucher._meta.concrete_fields if field.name not in {"id", "campaign", "holder"}
]


def voucher_not_found() -> NotFound:
    """The one answer for a code that does not exist AND for one this place may not see."""
    return NotFound(_("No voucher with this code."))


def already_redeemed(redemption: Redemption) -> DomainError:
    at = redemption.redeemed_at.astimezone(clock.SHANGHAI)
    return DomainError(
        OfferErrorCode.ALREADY_REDEEMED,
        _("This voucher was already used on %(time)s at %(place)s.")
        % {"time": at.strftime("%Y-%m-%d %H:%M"), "place": redemption.place},
        status=409,
        details={"redeemed_at": at.isoformat(), "place": redemption.place},
    )


def voucher_expired() -> DomainError:
    return DomainError(OfferErrorCode.VOUCHER_EXPIRED, _("This voucher has expired."), status=409)


def voucher_not_usable(status: str) -> DomainError:
    return DomainError(
        OfferErrorCode.VOUCHER_NOT_USABLE,
        _("This voucher cannot be used (%(status)s).") % {"status": V(status).label},
        status=409,
        details={"status": status},
    )


def not_applied() -> DomainError:
    return DomainError(
        OfferErrorCode.NOT_APPLIED,
        _(
            "This coupon takes money off a car order: apply it to the buyer's order first; "
            "it is written off with the order."
        ),
        status=409,
    )


def _value_fen(voucher: Voucher) -> int:
    if voucher.status == V.APPLIED or voucher.applied_value_fen:
        return voucher.applied_value_fen
    return voucher.face_value_fen


def redemption_record(
    *,
    voucher: Voucher,
    staff: User | None,
    dealer: Dealer | None = None,
    merchant: Merchant | None = None,
    order_reference: str = "",
    idempotency_key: str = "",
) -> Redemption:
    """Write the voucher off at a dealer or merchant once (409 `already_redeemed` the second time)."""
    if (dealer is None) == (merchant is None):
        raise ValueError("a write-off happens at exactly one place: a dealer or a merchant")
    at = clock.now()
    # Kept as written (Chinese), whatever language the staff member uses.
    place = dealer.name if dealer is not None else merchant.name  # type: ignore[union-attr]
    # An active voucher while it is valid; an applied one only by the dealer holding its order.
    usable = Q(status=V.ACTIVE, valid_until__gt=at)
    if dealer is not None:
        applied = Q(status=V.APPLIED, order_dealer=dealer)
        if order_reference:
            applied &= Q(order_reference=order_reference)
        usable |= applied
    changes: dict[str, Any] = {"status": V.REDEEMED, "redeemed_at": at, "updated_at": at}
    redemption: Redemption | None = None
    try:
        # One block (a savepoint inside a caller's transaction) and no inner savepoint: a refusal is
        # raised after the block, when nothing was written; a unique-index violation rolls the block back.
        with transaction.atomic():
            if Voucher.objects.filter(Q(pk=voucher.pk) & usable).update(**changes):
                # The row as the UPDATE left it (another transaction may have applied it to an order since
                # it was read); the campaign and holder stay cached.
                voucher.refresh_from_db(fields=_MUTABLE_FIELDS)
                redemption = Redemption.objects.create(
                    voucher=voucher,
                    redeemed_at=at,
                    redeemed_by=staff,
                    dealer=dealer,
                    merchant=merchant,
                    place=place[:120],
                    order_reference=voucher.order_reference or order_reference,
                    value_fen=_value_fen(voucher),
                    idempotency_key=idempotency_key[:128],
                )
                event_record(
                    "voucher.redeemed",
                    subject_type=SUBJECT_TYPE,
                    subject_id=voucher.code,
                    actor=staff,
                    dealer_id=dealer.pk if dealer is not None else None,
                    payload={
                        "campaign": voucher.campaign.public_id,
                        "kind": voucher.kind,
                        "holder": voucher.holder.public_id,
                        "value_fen": redemption.value_fen,
                        "place": redemption.place,
                        "merchant": merchant.public_id if merchant is not None else None,
                        "order": redemption.order_reference,
                        "redemption": redemption.pk,
                    },
                )
    except IntegrityError:  # a standing redemption already exists: the UPDATE's guard was bypassed
        existing = standing_redemption(voucher)
        if existing is None:
            raise
        raise already_redeemed(existing) from None
    if redemption is None:
        raise _why_not_redeemed(voucher, at)
    return redemption


def _why_not_redeemed(voucher: Voucher, at: Any) -> DomainError:
    """The conditional UPDATE matched nothing: say why, from the row as it now stands."""
    current = Voucher.objects.get(pk=voucher.pk)
    if current.status == V.REDEEMED:
        existing = standing_redemption(current)
        if existing is not None:
            return already_redeemed(existing)
    status = voucher_effective_status(current, at)
    if status == V.EXPIRED:
        return voucher_expired()
    if status == V.APPLIED:
        return not_applied()
    return voucher_not_usable(status)


# ---- Counter staff: look up and write off --------------------------------------------------------------


def _rate_limit(*, staff: User, place: Place, ip: str | None) -> None:
    hits = [
        ("offers-writeoff-staff", str(staff.pk), settings.OFFERS_LOOKUP_LIMIT_PER_STAFF),
        ("offers-writeoff-place", place.key, settings.OFFERS_LOOKUP_LIMIT_PER_PLACE),
    ]
    if ip:
        hits.append(("offers-writeoff-ip", ip, settings.OFFERS_LOOKUP_LIMIT_PER_IP))
    # One statement for all three counters (see core.ratelimit).
    rate_limits_hit(hits, window_seconds=settings.OFFERS_LOOKUP_WINDOW_SECONDS)


def writeoff_attempt_count(*, staff: User, ip: str | None = None) -> Place:
    """Count one lookup or write-off against the staff member, their place and the IP (429 over a limit);
    returns the place (403 for anyone who is not counter staff)."""
    place = staff_place(staff)
    _rate_limit(staff=staff, place=place, ip=ip)
    return place


def _code_of(text: Any) -> tuple[str, str]:
    """(code, holder public id or "") from typed or scanned text; a forged payload is 422 `invalid_qr`."""
    if not isinstance(text, str) or not text.strip():
        raise field_error("invalid", "code", _("Type or scan a voucher code."))
    if len(text) > MAX_INPUT_LENGTH or "\x00" in text:
        raise field_error("invalid", "code", _("This is not a voucher code."))
    code, scanned = code_from_input(text)
    return code, scanned.holder_public_id if scanned is not None else ""


def _dealer_may_see(voucher: Voucher, dealer: Dealer) -> bool:
    campaign = voucher.campaign
    if voucher.kind == CouponKind.MERCHANT_SERVICE:
        return False
    if campaign.eligible_dealers and dealer.public_id not in campaign.eligible_dealers:
        return False
    if voucher.kind in COUNTER_KINDS:
        return True
    # An order's coupon: once bound to an order (or written off against one) only that dealer sees it.
    if voucher.order_dealer_id is not None:
        return voucher.order_dealer_id == dealer.pk
    if voucher.status == V.REDEEMED:
        standing = standing_redemption(voucher)
        return standing is not None and standing.dealer_id == dealer.pk
    return True


def _visible_voucher(*, code: str, holder_public_id: str, place: Place) -> Voucher:
    if len(code) != VOUCHER_CODE_LENGTH or not set(code) <= _CODE_CHARACTERS:
        raise voucher_not_found()
    voucher = (
        Voucher.objects.select_related("campaign", "campaign__merchant", "holder", "order_dealer")
        .filter(code=code)
        .first()
    )
    if voucher is None:
        raise voucher_not_found()
    if holder_public_id and voucher.holder.public_id != holder_public_id:
        raise voucher_not_found()
    if place.merchant is not None:
        visible = (
            voucher.kind == CouponKind.MERCHANT_SERVICE and voucher.campaign.merchant_id == place.merchant.pk
        )
    else:
        assert place.dealer is not None
        visible = _dealer_may_see(voucher, place.dealer)
    if not visible:
        raise voucher_not_found()
    return voucher


def _usable_check(voucher: Voucher) -> None:
    """Raise the 409 that tells staff why this visible voucher cannot be written off now."""
    status = voucher_effective_status(voucher)
    if status == V.REDEEMED:
        standing = standing_redemption(voucher)
        if standing is not None:
            raise already_redeemed(standing)
        raise voucher_not_usable(status)
    if status == V.EXPIRED:
        raise voucher_expired()
    if status in _NOT_USABLE:
        raise voucher_not_usable(status)
    if voucher.applies_to_orders and status != V.APPLIED:
        raise not_applied()


def voucher_lookup(*, staff: User, text: str, ip: str | None = None) -> Voucher:
    """The voucher behind a typed code or a scanned payload, if this staff member's place may see it
    (404 alike for unknown and not theirs; 409 `not_applied` for an order coupon not on an order here)."""
    place = writeoff_attempt_count(staff=staff, ip=ip)
    code, holder = _code_of(text)
    voucher = _visible_voucher(code=code, holder_public_id=holder, place=place)
    if voucher.applies_to_orders and voucher_effective_status(voucher) == V.ACTIVE:
        raise not_applied()
    return voucher


def voucher_redeem(
    *,
    staff: User,
    text: str,
    idempotency_key: str,
    ip: str | None = None,
    order_reference: str = "",
    counted: bool = False,
) -> Redemption:
    """Write off the voucher behind a typed code or a scanned payload at the staff member's place.

    The same idempotency key returns the first write-off; another key on a used voucher is 409
    `already_redeemed` with the first one's time and place. `counted=True` when the caller has
    already counted this attempt against the rate limits (the API counts outside its transaction).
    """
    place = staff_place(staff) if counted else writeoff_attempt_count(staff=staff, ip=ip)
    code, holder = _code_of(text)
    voucher = _visible_voucher(code=code, holder_public_id=holder, place=place)
    if voucher.status == V.REDEEMED and idempotency_key:
        standing = standing_redemption(voucher)
        if (
            standing is not None
            and standing.idempotency_key == idempotency_key[:128]
            and standing.redeemed_by_id == staff.pk
        ):
            standing.voucher = voucher
            return standing
    _usable_check(voucher)
    return redemption_record(
        voucher=voucher,
        staff=staff,
        dealer=place.dealer,
        merchant=place.merchant,
        order_reference=order_reference,
        idempotency_key=idempotency_key,
    )


def redemptions_at(*, place: Place, limit: int = 50) -> list[Redemption]:
    """The place's most recent write-offs, newest first."""
    query = Redemption.objects.select_related("voucher", "voucher__campaign", "redeemed_by")
    if place.dealer is not None:
        query = query.filter(dealer=place.dealer)
    else:
        query = query.filter(merchant=place.merchant)
    return list(query.order_by("-redeemed_at", "-id")[:limit])


# ---- Ops: reverse a write-off --------------------------------------------------------------------------


def redemption_reverse(*, redemption: Redemption, actor: User, reason: str) -> Redemption:
    """Undo a write-off (ops only, with a reason): the voucher goes back to active, or applied if it is
    still on an order; audited and recorded as `voucher.redemption_reversed`."""
    ensure_ops(actor)
    reason = (reason or "").strip()
    if not reason:
        raise field_error("invalid", "reason", _("Say why the write-off is reversed."))
    if len(reason) > 300 or "\x00" in reason:
        raise field_error("invalid", "reason", _("Keep the reason under 300 characters."))
    at = clock.now()
    with transaction.atomic():
        # Lock the voucher first, then the redemption: the same order as a write-off takes them.
        voucher = Voucher.objects.select_for_update().get(pk=redemption.voucher_id)
        reversed_count = Redemption.objects.filter(pk=redemption.pk, reversed_at__isnull=True).update(
            reversed_at=at, reversed_by=actor, reverse_reason=reason
        )
        if not reversed_count or voucher.status != V.REDEEMED:
            raise DomainError(
                OfferErrorCode.NOT_REDEEMED, _("This write-off has already been reversed."), status=409
            )
        back_to = V.APPLIED if voucher.applies_to_orders and voucher.order_reference else V.ACTIVE
        Voucher.objects.filter(pk=voucher.pk).update(status=back_to, redeemed_at=None, updated_at=at)
        redemption.refresh_from_db()
        details = {
            "voucher": voucher.code,
            "place": redemption.place,
            "redeemed_at": redemption.redeemed_at.astimezone(clock.SHANGHAI).isoformat(),
            "reason": reason,
            "status": back_to,
        }
        audit_record(
            actor=actor,
            action="offers.redemption_reversed",
            object_type="redemption",
            object_id=str(redemption.pk),
            details=details,
        )
        event_record(
            "voucher.redemption_reversed",
            subject_type=SUBJECT_TYPE,
            subject_id=voucher.code,
            actor=actor,
            dealer_id=redemption.dealer_id,
            payload=details,
        )
    return redemption
