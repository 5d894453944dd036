"""Earning points from what members do, and taking them back when what earned them is undone.

Each source (car purchase, test drive, store check-in, successful referral, community contribution, daily
check-in, ops task) earns by its one active `EarnRule`: fixed points, plus for a purchase one point per
`fen_per_point` of the order's total, pending for the rule's holding days, at most `daily_limit` times a
day. Every earning is keyed by its cause (`earn:<source>:<ref>`), so a replayed event earns nothing more.

A member whose tier carries the `points_bonus` benefit (value: extra percent) gets a second entry beside
the earning, "tier bonus", that does not count towards the tier (so a tier cannot lift itself) and is
reversed with the earning. Late-delivery compensation is credited as orders report it (its own points,
spendable at once, not counting towards the tier).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import CoreErrorCode, DomainError
from forecourt.core.logging import log_context
from forecourt.core.models import Event
from forecourt.loyalty.errors import LoyaltyErrorCode
from forecourt.loyalty.models import EarnRule, EarnSource, EntryKind, Member, PointsEntry, TierBenefit
from forecourt.loyalty.selectors import (
    earn_rule_active,
    member_is_eligible,
    member_tier,
)
from forecourt.loyalty.services.ledger import member_for, member_lock, points_earn, points_reverse
from forecourt.offers.access import is_ops

logger = logging.getLogger(__name__)

# The tier benefit that adds a bonus to every rule-based earning; its `value` is the extra percent.
BENEFIT_POINTS_BONUS = "points_bonus"
# Reason codes of entries that are not an earn source's own (the sources' codes are `EarnSource` values).
REASON_TIER_BONUS = "tier_bonus"
REASON_LATE_DELIVERY = "late_delivery"
REASON_ORDER_CANCELLED = "order_cancelled"
REASON_ORDER_RETURNED = "order_returned"
REASON_REFERRAL_CLAWED_BACK = "referral_clawed_back"
# Ops tasks are named by a short slug (e.g. `profile-completed`); each is granted once per member.
TASK_CODE_MAX = 40


def earn_key(source: str, ref: str) -> str:
    """The idempotency key of the earning of `source` caused by `ref` (an order number, an appointment…)."""
    return f"earn:{source}:{ref}"


def _bonus_key(key: str) -> str:
    return f"{key}:bonus"


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=clock.SHANGHAI)
    return start, start + timedelta(days=1)


def earnings_on_day(member: Member, source: str, day: date) -> int:
    """How many times `source` earned the member points on a Shanghai calendar day (bonuses not counted)."""
    start, end = _day_bounds(day)
    return PointsEntry.objects.filter(
        member=member, kind=EntryKind.EARN, reason=source, occurred_at__gte=start, occurred_at__lt=end
    ).count()


def rule_points(rule: EarnRule, *, amount_fen: int = 0) -> int:
    """What one occurrence earns under `rule`: its fixed points plus one per `fen_per_point` of the amount."""
    per_amount = max(amount_fen, 0) // rule.fen_per_point if rule.fen_per_point else 0
    return rule.points + per_amount


def _bonus_percent(member: Member, at: datetime) -> int:
    tier = member_tier(user=member.user, at=at)
    values = TierBenefit.objects.filter(tier=tier, code=BENEFIT_POINTS_BONUS).values_list("value", flat=True)
    return max(values, default=0)


def _earn(
    *,
    member: Member,
    rule: EarnRule,
    points: int,
    ref: str,
    key: str,
    source_event: str,
    note: str,
    at: datetime,
    actor: Any,
) -> PointsEntry | None:
    """Inside a transaction: the earning and its tier bonus, under the member's row lock so that two
    earnings at once cannot both pass the daily limit. None when the day's limit is reached."""
    locked = member_lock(member)
    standing = PointsEntry.objects.filter(idempotency_key=key).first()
    if standing is not None:
        return standing
    day = at.astimezone(clock.SHANGHAI).date()
    if rule.daily_limit and earnings_on_day(locked, rule.source, day) >= rule.daily_limit:
        return None
    # The tier the member held when earning (before this earning lifts it) sets the bonus.
    percent = _bonus_percent(locked, at)
    entry = points_earn(
        member=locked,
        points=points,
        reason=rule.source,
        idempotency_key=key,
        note=note,
        source_event=source_event,
        source_ref=ref,
        rule=rule,
        holding_days=rule.holding_days,
        qualifying=rule.qualifying,
        at=at,
        actor=actor,
    )
    bonus = points * percent // 100
    if bonus > 0:
        points_earn(
            member=locked,
            points=bonus,
            reason=REASON_TIER_BONUS,
            idempotency_key=_bonus_key(key),
            note=note,
            source_event=source_event,
            source_ref=ref,
            rule=rule,
            holding_days=rule.holding_days,
            qualifying=False,
            at=at,
            actor=actor,
        )
    return entry


def points_earn_for(
    *,
    member: Member,
    source: str,
    ref: str,
    source_event: str = "",
    amount_fen: int = 0,
    note: str = "",
    at: datetime | None = None,
    actor: Any = None,
) -> PointsEntry | None:
    """Apply the active earn rule of `source` to one occurrence, once per `ref`.

    Returns the earning (the standing one on a replay), or None when no rule is active or the member has
    reached the rule's daily limit."""
    key = earn_key(source, ref)
    standing = PointsEntry.objects.filter(idempotency_key=key).first()
    if standing is not None:
        return standing
    rule = earn_rule_active(source)
    if rule is None:
        return None
    points = rule_points(rule, amount_fen=amount_fen)
    if points <= 0:
        return None
    with transaction.atomic():
        return _earn(
            member=member,
            rule=rule,
            points=points,
            ref=ref,
            key=key,
            source_event=source_event,
            note=note,
            at=at or clock.now(),
            actor=actor,
        )


def daily_check_in(*, member: Member) -> PointsEntry:
    """The member's daily check-in: once per Shanghai calendar day; 409 `already_checked_in` after that."""
    if not member_is_eligible(member.user):
        raise DomainError(
            LoyaltyErrorCode.NOT_A_MEMBER, _("Only members of the club can check in."), status=403
        )
    moment = clock.now()
    day = moment.astimezone(clock.SHANGHAI).date()
    ref = f"{member.number}:{day.isoformat()}"
    key = earn_key(EarnSource.DAILY_CHECK_IN, ref)
    rule = earn_rule_active(EarnSource.DAILY_CHECK_IN)
    with transaction.atomic():
        locked = member_lock(member)
        # Under the lock: the second of two taps at once sees the first one's entry.
        if PointsEntry.objects.filter(idempotency_key=key).exists():
            raise DomainError(
                LoyaltyErrorCode.ALREADY_CHECKED_IN,
                _("You have already checked in today. Come back tomorrow."),
                status=409,
                details={"day": day.isoformat()},
            )
        if rule is None or rule_points(rule) <= 0:
            raise DomainError(
                LoyaltyErrorCode.EARN_RULE_INACTIVE,
                _("The daily check-in earns no points at the moment."),
                status=409,
            )
        entry = _earn(
            member=locked,
            rule=rule,
            points=rule_points(rule),
            ref=ref,
            key=key,
            source_event="",
            note="",
            at=moment,
            actor=member.user,
        )
    if entry is None:
        # A daily limit below one a day cannot be met; say so rather than pretend.
        raise DomainError(
            LoyaltyErrorCode.DAILY_LIMIT_REACHED, _("The daily limit of check-ins is reached."), status=409
        )
    return entry


def member_checked_in_today(member: Member) -> bool:
    day = clock.local_now().date()
    key = earn_key(EarnSource.DAILY_CHECK_IN, f"{member.number}:{day.isoformat()}")
    return PointsEntry.objects.filter(idempotency_key=key).exists()


def ops_task_grant(
    *, member: Member, task: str, actor: Any, note: str = "", points: int | None = None
) -> PointsEntry:
    """Ops credit a member for an ops task (`task` a short code, granted once per member).

    The points are the ops-task rule's unless ops give their own; the rule must be active and its daily
    limit holds. A repeat for the same member and task returns the first entry."""
    if not is_ops(actor):
        raise DomainError(
            CoreErrorCode.FORBIDDEN, _("Only OEM operations may grant task points."), status=403
        )
    code = (task or "").strip()
    if not code or len(code) > TASK_CODE_MAX or not all(ch.isalnum() or ch in "-_" for ch in code):
        raise DomainError(
            LoyaltyErrorCode.INVALID,
            _("Name the task with a short code (letters, digits, - and _)."),
            status=422,
            details={"field": "task"},
        )
    if points is not None and not 0 < points <= 1_000_000:
        raise DomainError(
            LoyaltyErrorCode.INVALID,
            _("Points must be between 1 and 1,000,000."),
            status=422,
            details={"field": "points"},
        )
    if not member_is_eligible(member.user):
        raise DomainError(LoyaltyErrorCode.NOT_A_MEMBER, _("This person is not a club member."), status=409)
    ref = f"{member.number}:{code}"
    key = earn_key(EarnSource.OPS_TASK, ref)
    standing = PointsEntry.objects.filter(idempotency_key=key).first()
    if standing is not None:
        return standing
    rule = earn_rule_active(EarnSource.OPS_TASK)
    if rule is None:
        raise DomainError(
            LoyaltyErrorCode.EARN_RULE_INACTIVE, _("Ops tasks earn no points at the moment."), status=409
        )
    with transaction.atomic():
        entry = _earn(
            member=member,
            rule=rule,
            points=points if points is not None else rule_points(rule),
            ref=ref[:64],
            key=key,
            source_event="",
            note=(note.strip() or code)[:200],
            at=clock.now(),
            actor=actor,
        )
    if entry is None:
        raise DomainError(
            LoyaltyErrorCode.DAILY_LIMIT_REACHED,
            _("This member has reached today's limit of task points."),
            status=409,
        )
    return entry


def late_delivery_credit(
    *, user: Any, order_number: str, day: str, points: int, source_event: str = ""
) -> PointsEntry | None:
    """Credit the buyer the late-delivery compensation orders recorded for one day, once per (order, day)."""
    if points <= 0 or not member_is_eligible(user):
        return None
    return points_earn(
        member=member_for(user),
        points=points,
        reason=REASON_LATE_DELIVERY,
        idempotency_key=f"late:{order_number}:{day}",
        note=day,
        source_event=source_event,
        source_ref=order_number,
        qualifying=False,
    )


def earning_reverse(*, source: str, ref: str, reason: str, source_event: str = "") -> list[PointsEntry]:
    """Take back the earning of `source` caused by `ref` and its tier bonus (each exactly once)."""
    key = earn_key(source, ref)
    reversals: list[PointsEntry] = []
    earnings = PointsEntry.objects.filter(
        idempotency_key__in=[key, _bonus_key(key)], kind=EntryKind.EARN
    ).select_related("member", "member__user")
    for entry in earnings:
        reversal = points_reverse(
            entry=entry,
            reason=reason,
            idempotency_key=f"reverse:{entry.pk}",
            source_event=source_event,
        )
        if reversal is not None:
            reversals.append(reversal)
    return reversals


# ---- What the subscribers call, one per domain event ---------------------------------------------------


def order_returned_after_delivery(order_number: str) -> bool:
    """Whether orders recorded money given back on this order after it was delivered (a return)."""
    return Event.objects.filter(
        name="order.refunded",
        subject_type="order",
        subject_id=order_number,
        payload__status="delivered",
        payload__applied_fen__gt=0,
    ).exists()


def purchase_points_earn(
    *, buyer: Any, order_number: str, total_fen: int, source_event: str = ""
) -> PointsEntry | None:
    """The car purchase's points when the order is delivered (pending for the rule's holding days)."""
    if not member_is_eligible(buyer) or not order_number:
        return None
    # Deliveries are retried after failures: a car already returned by then earns nothing.
    if order_returned_after_delivery(order_number):
        return None
    return points_earn_for(
        member=member_for(buyer),
        source=EarnSource.PURCHASE,
        ref=order_number,
        source_event=source_event,
        amount_fen=total_fen,
        note=order_number,
    )


def purchase_points_reverse(
    *, order_number: str, returned: bool, source_event: str = ""
) -> list[PointsEntry]:
    """Take back a purchase's points when the order is cancelled or the car returned (refunded)."""
    reason = REASON_ORDER_RETURNED if returned else REASON_ORDER_CANCELLED
    return earning_reverse(
        source=EarnSource.PURCHASE, ref=order_number, reason=reason, source_event=source_event
    )


def activity_points_earn(
    *, person: Any, source: str, ref: str, source_event: str = "", note: str = ""
) -> PointsEntry | None:
    """A test drive, store visit or community contribution: the rule's points for the person, once each."""
    if source not in (EarnSource.TEST_DRIVE, EarnSource.CHECK_IN, EarnSource.COMMUNITY):
        raise ValueError(f"not an activity source: {source}")
    if not member_is_eligible(person) or not ref:
        return None
    entry = points_earn_for(
        member=member_for(person), source=source, ref=ref, source_event=source_event, note=note
    )
    if entry is None:
        logger.info("no points earned", extra=log_context(source=source, ref=ref))
    return entry


def referral_clawed_back(referral_public_id: str) -> bool:
    """Whether the referral was rejected or its sale commission clawed back (a lead commission's is not)."""
    rejected = Q(name="referral.rejected", subject_type="referral", subject_id=referral_public_id)
    clawed_back = Q(name="commission.clawed_back", payload__referral=referral_public_id) & (
        Q(payload__kind="cps") | Q(payload__kind__isnull=True)
    )
    return Event.objects.filter(rejected | clawed_back).exists()


def referral_points_earn(
    *, broker: Any, referral_public_id: str, source_event: str = ""
) -> PointsEntry | None:
    """The broker's points for a successful referral (the referred buyer's car delivered: CPS earned)."""
    if not member_is_eligible(broker) or not referral_public_id:
        return None
    if referral_clawed_back(referral_public_id):
        return None
    return points_earn_for(
        member=member_for(broker),
        source=EarnSource.REFERRAL,
        ref=referral_public_id,
        source_event=source_event,
        note=referral_public_id,
    )


def referral_points_reverse(*, referral_public_id: str, source_event: str = "") -> list[PointsEntry]:
    """Take back a referral's points when its sale is clawed back or the referral rejected."""
    return earning_reverse(
        source=EarnSource.REFERRAL,
        ref=referral_public_id,
        reason=REASON_REFERRAL_CLAWED_BACK,
        source_event=source_event,
    )


__all__ = [
    "BENEFIT_POINTS_BONUS",
    "activity_points_earn",
    "daily_check_in",
    "earn_key",
    "earning_reverse",
    "late_delivery_credit",
    "member_checked_in_today",
    "ops_task_grant",
    "points_earn_for",
    "purchase_points_earn",
    "purchase_points_reverse",
    "referral_points_earn",
    "referral_points_reverse",
    "rule_points",
]
