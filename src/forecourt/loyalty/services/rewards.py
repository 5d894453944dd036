"""Rewards: redeeming a catalogue item for points (or points and cash), delivered as an offers voucher.

Points only: the spend, the voucher and the redemption are written in ONE transaction, the member's row
locked first (see `points_spend`), then offers' per-person tally and the campaign's budget row (see
`voucher_issue`). A rush of redemptions against one balance is served one after the other, so no point
is spent twice, and a voucher never exists without the spend that paid for it (or the other way round).

Points + cash: the points are taken at once (the member sees them gone) and a payment intent (purpose
"loyalty.reward", reference = the redemption's public id) collects the cash; the voucher is issued when
payments records `payment.succeeded` (`reward_payment_credit`, through the subscriber). A cash part not
paid within LOYALTY_PAYMENT_MINUTES gives the points back: the redemption reads as lapsed at once, and
its points are reversed by `reward_orders_sweep()` or by the member's next redemption, whichever comes
first. Money that arrives for a redemption that cannot take it (lapsed, failed, sold out meanwhile, paid
twice) goes back the way it came.

When the reward's voucher is voided or refunded (offers), the redemption is cancelled: points and cash
go back to the member (`reward_voucher_withdrawn`).

Locks are always taken in one order: the member's row, then the redemption's, then offers' rows.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound, field_error
from forecourt.core.events import event_record
from forecourt.core.logging import log_context
from forecourt.core.money import Money
from forecourt.loyalty.errors import LoyaltyErrorCode
from forecourt.loyalty.models import (
    Member,
    Reward,
    RewardOrder,
    RewardOrderStatus,
    Tier,
    new_reward_order_id,
)
from forecourt.loyalty.reward_selectors import reward_order_deadline, reward_payment_cutoff, tier_reaches
from forecourt.loyalty.selectors import member_is_eligible, member_tier
from forecourt.loyalty.services.ledger import member_lock, points_reverse, points_spend
from forecourt.offers import services as offer_services
from forecourt.offers.models import Campaign, Channel, ClaimTally
from forecourt.payments import selectors as payment_selectors
from forecourt.payments import services as payment_services

logger = logging.getLogger(__name__)

PURPOSE = "loyalty.reward"
CURRENCY = "CNY"
SUBJECT_TYPE = "reward_order"
MAX_KEY_LENGTH = 200
BATCH = 500

# Why a redemption was cancelled: the reason code of the reversal that gave its points back.
CANCEL_UNPAID = "reward_unpaid"
CANCEL_PAYMENT_FAILED = "reward_payment_failed"
CANCEL_UNAVAILABLE = "reward_unavailable"
CANCEL_VOUCHER_VOID = "reward_voucher_void"
CANCEL_VOUCHER_REFUNDED = "reward_voucher_refunded"
CANCEL_REASONS = frozenset(
    {CANCEL_UNPAID, CANCEL_PAYMENT_FAILED, CANCEL_UNAVAILABLE, CANCEL_VOUCHER_VOID, CANCEL_VOUCHER_REFUNDED}
)
# The reason code of the spend itself.
SPEND_REASON = "reward"


def reward_unavailable(message: str, reason: str, **details: Any) -> DomainError:
    return DomainError(
        LoyaltyErrorCode.REWARD_UNAVAILABLE, message, status=409, details={"reason": reason, **details}
    )


def tier_too_low(*, tier: str, required: str) -> DomainError:
    return DomainError(
        LoyaltyErrorCode.TIER_TOO_LOW,
        _("This reward is for %(required)s members and above.") % {"required": Tier(required).label},
        status=409,
        details={"tier": str(tier), "required": str(required)},
    )


def _key_parse(idempotency_key: Any) -> str:
    key = idempotency_key.strip() if isinstance(idempotency_key, str) else ""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise field_error(
            CoreErrorCode.INVALID,
            "Idempotency-Key",
            _("An idempotency key of 1–%(max)s printable characters is required.") % {"max": MAX_KEY_LENGTH},
        )
    return key


def _member_only(user: Any) -> None:
    if not member_is_eligible(user):
        raise DomainError(
            CoreErrorCode.FORBIDDEN,
            _("Rewards are for members; staff accounts cannot redeem them."),
            status=403,
        )


def _provider_parse(provider: Any) -> str:
    if provider not in payment_selectors.ONLINE_PROVIDERS:
        raise field_error(
            CoreErrorCode.INVALID,
            "provider",
            _("Choose how to pay the cash part: %(allowed)s.")
            % {"allowed": ", ".join(payment_selectors.ONLINE_PROVIDERS)},
        )
    return str(provider)


def _tier_check(reward: Reward, user: Any) -> None:
    if reward.min_tier == Tier.STANDARD:
        return
    tier = member_tier(user=user)
    if not tier_reaches(tier, reward.min_tier):
        raise tier_too_low(tier=tier, required=reward.min_tier)


def _units_awaiting_payment(campaign: Campaign, at: datetime, member: Member | None = None) -> int:
    """Points + cash redemptions of this campaign's rewards still within their payment window."""
    awaiting = RewardOrder.objects.filter(
        reward__campaign=campaign,
        status=RewardOrderStatus.AWAITING_PAYMENT,
        created_at__gt=reward_payment_cutoff(at),
    )
    if member is not None:
        awaiting = awaiting.filter(member=member)
    return awaiting.count()


def _availability_check(reward: Reward, member: Member, at: datetime) -> None:
    """Raise `reward_unavailable` (409) with a reason when this reward cannot be had now."""
    campaign = reward.campaign
    if not reward.is_active:
        raise reward_unavailable(_("This reward is no longer offered."), "off_sale")
    if at < campaign.starts_at:
        raise reward_unavailable(_("This reward is not available yet."), "not_started")
    if at >= campaign.ends_at or (campaign.valid_until is not None and campaign.valid_until <= at):
        raise reward_unavailable(_("This reward is no longer available."), "ended")
    # Unpaid points + cash redemptions hold a unit (and count towards the member's limit) for their
    # payment window, so a redemption paid in time is not refused for want of stock.
    held = _units_awaiting_payment(campaign, at) if reward.cash_fen else 0
    if campaign.budget_count is not None and campaign.claimed_count + held >= campaign.budget_count:
        raise reward_unavailable(_("Sorry, this reward is sold out."), "sold_out")
    if (
        campaign.budget_fen is not None
        and campaign.claimed_fen + campaign.budget_value_fen > campaign.budget_fen
    ):
        raise reward_unavailable(_("Sorry, this reward is sold out."), "sold_out")
    claimed = (
        ClaimTally.objects.filter(campaign=campaign, holder_id=member.user_id)
        .values_list("claimed", flat=True)
        .first()
    ) or 0
    if reward.cash_fen:
        claimed += _units_awaiting_payment(campaign, at, member)
    if claimed >= campaign.per_person_limit:
        raise _limit_reached(campaign.per_person_limit)


def _limit_reached(limit: int) -> DomainError:
    return reward_unavailable(
        _("You have redeemed this reward the most times allowed (%(limit)s).") % {"limit": limit},
        "limit_reached",
        limit=limit,
    )


def _voucher_issue(reward: Reward, user: Any, at: datetime) -> Any:
    """Issue the reward's voucher (inside the caller's transaction); offers' refusals read as ours."""
    try:
        return offer_services.voucher_issue(campaign=reward.campaign, holder=user, channel=Channel.APP, at=at)
    except DomainError as error:
        if error.code == "limit_reached":
            raise _limit_reached(reward.campaign.per_person_limit) from None
        if error.code == "budget_exhausted":
            raise reward_unavailable(_("Sorry, this reward is sold out."), "sold_out") from None
        raise reward_unavailable(_("This reward is no longer available."), "ended") from None


def _event(name: str, order: RewardOrder, actor: Any = None, **payload: Any) -> None:
    event_record(
        name,
        subject_type=SUBJECT_TYPE,
        subject_id=order.public_id,
        actor=actor,
        payload={
            "order": order.public_id,
            "member": order.member.user.public_id,
            "reward": order.reward.public_id,
            "points": order.points,
            "cash_fen": order.cash_fen,
            "status": order.status,
            "voucher": order.voucher_code,
            **payload,
        },
    )


def _same_request(order: RewardOrder, reward: Reward) -> RewardOrder:
    if order.reward_id != reward.pk:
        raise DomainError(
            CoreErrorCode.IDEMPOTENCY_KEY_REUSED,
            _("This idempotency key was already used for another reward."),
            status=422,
        )
    return order


def _order_key(member: Member, key: str) -> str:
    # Keys are the member's own (two members may send the same key); hashed to fit the key columns.
    return f"{member.pk}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def reward_redeem(
    *,
    member: Member,
    reward: Reward,
    idempotency_key: str,
    actor: Any,
    provider: str | None = None,
    return_url: str = "",
) -> RewardOrder:
    """Redeem a reward: points only → points spent and voucher issued at once; points + cash → points
    spent and the cash awaiting payment (`reward_payment_start`). 409 `insufficient_points`,
    `reward_unavailable` or `tier_too_low`; the same key returns the first redemption."""
    key = _order_key(member, _key_parse(idempotency_key))
    existing = RewardOrder.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _same_request(existing, reward)
    user = member.user
    _member_only(user)
    if reward.cash_fen:
        provider = _provider_parse(provider or "sandbox")
        if return_url:
            payment_services.return_url_on_site(return_url)
    _tier_check(reward, user)
    with transaction.atomic():
        locked = member_lock(member)
        # A twin request with this key waited on the lock above: it finds the first one's redemption.
        existing = RewardOrder.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return _same_request(existing, reward)
        moment = clock.now()
        # Points of the member's own lapsed unpaid redemptions come back before they are counted.
        for lapsed in _lapsed_orders(locked, moment):
            _lapse_locked(lapsed, moment)
        fresh = Reward.objects.select_related("campaign").get(pk=reward.pk)
        _availability_check(fresh, locked, moment)
        order = RewardOrder(
            public_id=new_reward_order_id(),
            member=locked,
            reward=fresh,
            points=fresh.points_cost,
            cash_fen=fresh.cash_fen,
            idempotency_key=key,
            created_at=moment,
            updated_at=moment,
        )
        order.entry = points_spend(
            member=locked,
            points=fresh.points_cost,
            reason=SPEND_REASON,
            idempotency_key=f"reward:{key}",
            note=fresh.title,
            source_ref=order.public_id,
            actor=actor,
        )
        if fresh.cash_fen:
            _cash_part_await(order, payer=user, provider=provider or "sandbox")
        else:
            _voucher_deliver(order, holder=user, at=moment)
        _event("reward.redeemed", order, actor=actor)
    return order


def _cash_part_await(order: RewardOrder, *, payer: Any, provider: str) -> None:
    """The points are spent: save the redemption awaiting its cash part, with the payment intent for it."""
    order.status = RewardOrderStatus.AWAITING_PAYMENT
    order.save()
    intent = payment_services.payment_intent_create(
        purpose=PURPOSE,
        reference=order.public_id,
        amount=Money(order.cash_fen, CURRENCY),
        payer=payer,
        provider=provider,
        description=f"{order.reward.title} · {order.public_id}"[:127],
        idempotency_key=f"loyalty-reward:{order.public_id}",
    )
    RewardOrder.objects.filter(pk=order.pk).update(payment_intent=intent.public_id)
    order.payment_intent = intent.public_id


def _voucher_deliver(order: RewardOrder, *, holder: Any, at: datetime) -> None:
    """The points are spent: issue the voucher and save the redemption issued (one transaction)."""
    voucher = _voucher_issue(order.reward, holder, at)
    order.status = RewardOrderStatus.ISSUED
    order.voucher_code = voucher.code
    order.save()


def _holder_only(order: RewardOrder, actor: Any) -> None:
    # Someone else's redemption is answered exactly like an unknown one.
    if getattr(actor, "pk", None) != order.member.user_id:
        raise NotFound(_("No such redemption."))


def reward_payment_start(*, order: RewardOrder, actor: Any, return_url: str) -> payment_services.PaymentStart:
    """Go on to pay the cash part of a redemption awaiting payment; returns the provider's PaymentStart."""
    _holder_only(order, actor)
    order = RewardOrder.objects.select_related("member").get(pk=order.pk)
    moment = clock.now()
    if order.status != RewardOrderStatus.AWAITING_PAYMENT or reward_order_deadline(order) <= moment:
        raise DomainError(
            LoyaltyErrorCode.NOT_PAYABLE,
            _("This redemption is not awaiting payment any more."),
            status=409,
            details={"status": order.status},
        )
    intent = payment_selectors.payment_intent_get(public_id=order.payment_intent)
    return payment_services.payment_start(intent=intent, return_url=return_url)


def _locked_order(order: RewardOrder) -> RewardOrder:
    member_lock(order.member)
    return (
        RewardOrder.objects.select_for_update()
        .select_related("member__user", "reward__campaign")
        .get(pk=order.pk)
    )


def _order_for_reference(reference: str) -> RewardOrder | None:
    return RewardOrder.objects.select_related("member").filter(public_id=str(reference)[:32]).first()


def _cancel_locked(order: RewardOrder, *, reason: str, moment: datetime, actor: Any = None) -> None:
    """Give the points back and mark the redemption cancelled (the caller holds the locks)."""
    points_reverse(
        entry=order.entry, reason=reason, idempotency_key=f"reward-back:{order.public_id}", actor=actor
    )
    RewardOrder.objects.filter(pk=order.pk).update(status=RewardOrderStatus.CANCELLED, updated_at=moment)
    order.status = RewardOrderStatus.CANCELLED
    order.updated_at = moment
    _event("reward.cancelled", order, actor=actor, reason=reason)


def _money_back(*, intent: str, amount_fen: int, currency: str, reason: str, key: str) -> None:
    payment_services.payment_refund(
        intent=payment_selectors.payment_intent_get(public_id=intent),
        amount=Money(amount_fen, currency),
        reason=reason,
        idempotency_key=key,
    )


def reward_payment_credit(
    *, intent: str, reference: str, amount_fen: int, currency: str = CURRENCY, paid_at: datetime | None = None
) -> RewardOrder | None:
    """The cash part was paid: issue the voucher exactly once; money nobody owes is sent back."""
    found = _order_for_reference(reference)
    if found is None:
        logger.warning(
            "payment for an unknown redemption", extra=log_context(intent=intent, reference=reference)
        )
        return None
    with transaction.atomic():
        order = _locked_order(found)
        if order.status == RewardOrderStatus.ISSUED and order.payment_intent == intent:
            return order  # this payment was credited already
        moment = clock.now()
        ours = order.status == RewardOrderStatus.AWAITING_PAYMENT and order.payment_intent == intent
        in_time = (paid_at or moment) < reward_order_deadline(order)
        if ours and in_time and amount_fen == order.cash_fen and currency == CURRENCY:
            try:
                with transaction.atomic():
                    voucher = _voucher_issue(order.reward, order.member.user, moment)
            except DomainError:
                # Sold out (or ended) while the member was paying: everything goes back.
                _cancel_locked(order, reason=CANCEL_UNAVAILABLE, moment=moment)
            else:
                RewardOrder.objects.filter(pk=order.pk).update(
                    status=RewardOrderStatus.ISSUED, voucher_code=voucher.code, updated_at=moment
                )
                order.status, order.voucher_code, order.updated_at = (
                    RewardOrderStatus.ISSUED,
                    voucher.code,
                    moment,
                )
                _event("reward.issued", order, intent=intent)
                return order
        elif ours:
            # Paid too late or the wrong amount: the redemption lapses and its points come back.
            _cancel_locked(order, reason=CANCEL_UNPAID, moment=moment)
        _money_back(
            intent=intent,
            amount_fen=amount_fen,
            currency=currency,
            reason="reward redemption not awaiting this payment",
            key=f"loyalty-reward-back:{intent}",
        )
        _event("reward.payment_returned", order, intent=intent, amount_fen=amount_fen)
    return order


def reward_payment_fail(*, intent: str, reference: str) -> RewardOrder | None:
    """The cash part's payment failed or was cancelled: the redemption is cancelled, its points come back."""
    found = _order_for_reference(reference)
    if found is None:
        return None
    with transaction.atomic():
        order = _locked_order(found)
        if order.status == RewardOrderStatus.AWAITING_PAYMENT and order.payment_intent == intent:
            _cancel_locked(order, reason=CANCEL_PAYMENT_FAILED, moment=clock.now())
    return order


def _lapsed_orders(member: Member, at: datetime) -> list[RewardOrder]:
    return list(
        RewardOrder.objects.select_for_update()
        .select_related("member__user", "reward")
        .filter(
            member=member,
            status=RewardOrderStatus.AWAITING_PAYMENT,
            created_at__lte=reward_payment_cutoff(at),
        )
        .order_by("pk")
    )


def _lapse_locked(order: RewardOrder, moment: datetime) -> bool:
    """Cancel an unpaid redemption past its deadline, unless its payment went through meanwhile."""
    if order.payment_intent:
        intent = payment_selectors.payment_intent_get(public_id=order.payment_intent)
        try:
            payment_services.payment_intent_close(intent=intent)
        except DomainError:
            # Paid after all: `payment.succeeded` is on its way and decides (in time → voucher, else refund).
            return False
    _cancel_locked(order, reason=CANCEL_UNPAID, moment=moment)
    return True


def reward_orders_sweep(*, limit: int = BATCH) -> int:
    """Sweeper: give back the points of points + cash redemptions not paid in time; returns how many."""
    moment = clock.now()
    stale = list(
        RewardOrder.objects.filter(
            status=RewardOrderStatus.AWAITING_PAYMENT, created_at__lte=reward_payment_cutoff(moment)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    count = 0
    for pk in stale:
        with transaction.atomic():
            order = RewardOrder.objects.select_related("member").get(pk=pk)
            member_lock(order.member)
            order = (
                RewardOrder.objects.select_for_update().select_related("member__user", "reward").get(pk=pk)
            )
            if order.status == RewardOrderStatus.AWAITING_PAYMENT and _lapse_locked(order, moment):
                count += 1
    return count


def reward_voucher_withdrawn(*, voucher_code: str, reason: str) -> RewardOrder | None:
    """The reward's voucher was voided or refunded by offers: the points (and any cash) go back once."""
    found = RewardOrder.objects.select_related("member").filter(voucher_code=str(voucher_code)[:20]).first()
    if found is None:
        return None
    with transaction.atomic():
        order = _locked_order(found)
        if order.status != RewardOrderStatus.ISSUED:
            return order
        _cancel_locked(order, reason=reason, moment=clock.now())
        if order.cash_fen and order.payment_intent:
            _money_back(
                intent=order.payment_intent,
                amount_fen=order.cash_fen,
                currency=CURRENCY,
                reason="reward voucher withdrawn",
                key=f"loyalty-reward-refund:{order.public_id}",
            )
    return order


__all__ = [
    "CANCEL_REASONS",
    "PURPOSE",
    "reward_orders_sweep",
    "reward_payment_credit",
    "reward_payment_fail",
    "reward_payment_start",
    "reward_redeem",
    "reward_voucher_withdrawn",
]
