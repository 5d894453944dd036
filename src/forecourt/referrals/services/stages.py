"""A referral's stages, moved by other apps' events, and the commission each stage earns.

referred → qualified (checked in at a store or test-driven: CPL, pending for REFERRALS_CPL_HOLD_DAYS)
→ ordered → delivered (CPS, pending until the return window has passed) → converted (the window passed:
`referral.converted`, on which loyalty credits the broker's points). A cancelled order makes the referral
`lost`; a delivered car that is returned (refunded) makes it `lost` and claws its CPS back, paid or not.

Every change locks the referral row, re-checks its stage under the lock, and records the event in the same
transaction. Handlers are idempotent: a replayed event finds the stage already moved and the commission
already recorded (its idempotency key).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from forecourt.core import clock
from forecourt.referrals.models import CommissionKind, Referral, Stage
from forecourt.referrals.selectors import commission_rule_amount, return_window
from forecourt.referrals.services.commissions import commission_claw_back_for_referral, commission_record
from forecourt.referrals.services.events import referral_event

# A new order of the referred model moves a referral from these to `ordered` (a lost one comes back).
ORDERABLE = frozenset({Stage.REFERRED, Stage.QUALIFIED, Stage.LOST})


def referral_lock(referral: Referral | int) -> Referral:
    """Re-read the referral under a row lock (inside the caller's transaction)."""
    pk = referral if isinstance(referral, int) else referral.pk
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("broker", "broker__user", "person", "city")
        .get(pk=pk)
    )


def _move(referral: Referral, stage: str, moment: datetime, **fields: Any) -> None:
    referral.stage = stage
    referral.updated_at = moment
    for name, value in fields.items():
        setattr(referral, name, value)
    referral.save(update_fields=["stage", "updated_at", *fields])


def _commission_earn(referral: Referral, kind: str, available_at: datetime) -> None:
    """The referral's CPL or CPS, once (its idempotency key), if a rule pays one for its model/campaign."""
    amount = commission_rule_amount(kind=kind, model_code=referral.model_code, campaign=referral.campaign)
    if amount:
        commission_record(
            referral=referral,
            kind=kind,
            amount_fen=amount,
            available_at=available_at,
            idempotency_key=f"{kind}:{referral.public_id}",
        )


def _referral_of_person(*, person_public_id: str, model_code: str = "") -> Referral | None:
    """The person's latest referral that still counts (for events that name no lead)."""
    referrals = Referral.objects.filter(person__public_id=person_public_id).exclude(stage=Stage.REJECTED)
    if model_code:
        referrals = referrals.filter(model_code=model_code)
    return referrals.order_by("-referred_at", "-id").first()


def referral_qualify(
    *, lead_public_id: str = "", person_public_id: str = "", model_code: str = "", cause: str = ""
) -> Referral | None:
    """The referred person visited a store (checked in or test-drove): qualified, and the CPL is earned.

    The CPL (if a rule pays one) is pending for REFERRALS_CPL_HOLD_DAYS, held if the referral is flagged.
    """
    found = Referral.objects.filter(lead_public_id=lead_public_id).first() if lead_public_id else None
    if found is None and person_public_id:
        found = _referral_of_person(person_public_id=person_public_id, model_code=model_code)
    if found is None or found.stage == Stage.REJECTED:
        return None
    with transaction.atomic():
        referral = referral_lock(found)
        if referral.stage == Stage.REJECTED:
            return None
        moment = clock.now()
        if referral.stage == Stage.REFERRED:
            _move(referral, Stage.QUALIFIED, moment, qualified_at=moment)
            referral_event("referral.qualified", referral, cause=cause)
        _commission_earn(
            referral, CommissionKind.CPL, moment + timedelta(days=settings.REFERRALS_CPL_HOLD_DAYS)
        )
    return referral


def referral_order(
    *, order_number: str, buyer_public_id: str, model_code: str, ordered_at: datetime
) -> Referral | None:
    """The referred person ordered the referred model (after the referral): the referral is `ordered`."""
    if Referral.objects.filter(order_number=order_number).exists():
        return Referral.objects.filter(order_number=order_number).first()
    found = (
        Referral.objects.filter(
            person__public_id=buyer_public_id,
            model_code=model_code,
            stage__in=sorted(ORDERABLE),
            referred_at__lte=ordered_at,
        )
        .order_by("-referred_at", "-id")
        .first()
    )
    if found is None:
        return None
    with transaction.atomic():
        referral = referral_lock(found)
        if referral.stage not in ORDERABLE:
            return None
        _move(referral, Stage.ORDERED, clock.now(), order_number=order_number)
        referral_event("referral.ordered", referral, order=order_number)
    return referral


def referral_deliver(
    *, order_number: str, buyer_public_id: str, model_code: str, ordered_at: datetime
) -> Referral | None:
    """The referred person's car was delivered: `delivered`, and the CPS is earned, pending until the
    return window has passed (REFERRALS_RETURN_WINDOW_DAYS)."""
    found = Referral.objects.filter(order_number=order_number).exclude(stage=Stage.REJECTED).first()
    if found is None:
        # The order's own event was missed or came before the referral: match it now.
        found = referral_order(
            order_number=order_number,
            buyer_public_id=buyer_public_id,
            model_code=model_code,
            ordered_at=ordered_at,
        )
    if found is None:
        return None
    with transaction.atomic():
        referral = referral_lock(found)
        if referral.stage != Stage.ORDERED or referral.order_number != order_number:
            return None
        moment = clock.now()
        _move(referral, Stage.DELIVERED, moment, delivered_at=moment)
        referral_event("referral.delivered", referral, order=order_number)
        _commission_earn(referral, CommissionKind.CPS, moment + return_window())
    return referral


def referral_lose(*, order_number: str, reason: str) -> Referral | None:
    """The referred order was cancelled before delivery (`cancelled`) or the delivered car was returned
    (`returned`): the referral is `lost` and its sale commission is clawed back, even if already paid."""
    found = Referral.objects.filter(order_number=order_number).first()
    if found is None:
        return None
    losable = {Stage.ORDERED} if reason == "cancelled" else {Stage.DELIVERED, Stage.CONVERTED}
    with transaction.atomic():
        referral = referral_lock(found)
        if referral.stage not in losable:
            return None
        _move(referral, Stage.LOST, clock.now())
        commission_claw_back_for_referral(
            referral=referral, reason=f"order_{reason}", kinds=frozenset({CommissionKind.CPS})
        )
        referral_event("referral.lost", referral, order=order_number, reason=reason)
    return referral


def referrals_convert_due(*, at: datetime | None = None, limit: int = 500) -> int:
    """Sweeper: a delivery whose return window has passed is a confirmed sale (`referral.converted`)."""
    moment = at or clock.now()
    due = list(
        Referral.objects.filter(stage=Stage.DELIVERED, delivered_at__lte=moment - return_window())
        .order_by("delivered_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    converted = 0
    for pk in due:
        with transaction.atomic():
            referral = referral_lock(pk)
            # Re-checked under the lock: a return may have made it lost since the read above.
            if referral.stage != Stage.DELIVERED or referral.delivered_at is None:
                continue
            if referral.delivered_at + return_window() > moment:
                continue
            _move(referral, Stage.CONVERTED, moment)
            referral_event("referral.converted", referral, order=referral.order_number)
            converted += 1
    return converted
