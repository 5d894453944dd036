"""The referrals app's reads. Other apps (and the programme's pages) ask these.

- `referral_for_lead(lead_public_id) -> Referral | None`: the referral credited for a lead, if any.
- `broker_for_user(user) -> Broker | None`, `broker_by_code(code) -> Broker | None` (active brokers only).
- `broker_referrals(*, broker, stage=None)`: one broker's referrals, newest first (a broker sees only theirs).
- `referral_effective_stage(referral, at=None)` and `commission_effective_status(commission, at=None)`:
  what a row means now (a pending commission whose hold has ended is available even before the sweeper
  writes it; a delivery whose return window has passed is a confirmed sale).
- `commissions_available_q(at)`: the filter for commission that is available at `at` (written or not).
- `broker_commission_totals(*, broker, at=None) -> dict[str, Money]`: sums by effective status.
- `commission_rule_amount(*, kind, model_code, campaign) -> int | None`: what the most specific rule pays.
- `broker_can_enrol(user) -> bool`: an owner (a consumer with a delivered car) may become a broker.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet, Sum

from forecourt.accounts.models import DEALER_ROLES, Role
from forecourt.core import clock
from forecourt.core.identifiers import normalise_code
from forecourt.core.money import Money
from forecourt.orders.models import OrderStatus
from forecourt.orders.selectors import orders_for_buyer
from forecourt.referrals.models import (
    Broker,
    BrokerStatus,
    Commission,
    CommissionRule,
    CommissionStatus,
    Referral,
    Stage,
)

CURRENCY = "CNY"
# The statuses a broker's page totals, in the order it shows them.
TOTAL_STATUSES: tuple[str, ...] = (
    CommissionStatus.PENDING,
    CommissionStatus.HELD,
    CommissionStatus.AVAILABLE,
    CommissionStatus.PAID,
    CommissionStatus.CLAWED_BACK,
)


def referral_for_lead(lead_public_id: str) -> Referral | None:
    """The referral credited for the lead with this public id (rejected ones included), or None."""
    if not isinstance(lead_public_id, str) or not lead_public_id:
        return None
    return (
        Referral.objects.select_related("broker", "broker__user")
        .filter(lead_public_id=lead_public_id)
        .first()
    )


def broker_for_user(user: Any) -> Broker | None:
    """The user's broker record (whatever its status), or None."""
    if user is None or not getattr(user, "pk", None):
        return None
    return Broker.objects.select_related("user", "city").filter(user_id=user.pk).first()


def broker_by_code(code: Any) -> Broker | None:
    """The active broker whose links carry `code` (typed any case), or None."""
    if not isinstance(code, str) or not code or len(code) > 40:
        return None
    cleaned = normalise_code(code)
    if not cleaned.isalnum():
        return None
    return Broker.objects.select_related("user").filter(code=cleaned, status=BrokerStatus.ACTIVE).first()


def broker_referrals(*, broker: Broker, stage: str | None = None) -> QuerySet[Referral]:
    """The broker's own referrals, newest first; optionally of one stage as stored."""
    referrals = Referral.objects.filter(broker=broker).select_related("person", "city")
    if stage:
        referrals = referrals.filter(stage=stage)
    return referrals.order_by("-referred_at", "-id")


def return_window() -> timedelta:
    return timedelta(days=settings.REFERRALS_RETURN_WINDOW_DAYS)


def referral_effective_stage(referral: Referral, at: datetime | None = None) -> str:
    """The referral's stage now: a delivery whose return window has passed is a confirmed sale."""
    moment = at or clock.now()
    if (
        referral.stage == Stage.DELIVERED
        and referral.delivered_at is not None
        and referral.delivered_at + return_window() <= moment
    ):
        return Stage.CONVERTED
    return referral.stage


def commission_effective_status(commission: Commission, at: datetime | None = None) -> str:
    """The commission's status now: pending whose hold has ended reads available (timers need no job)."""
    moment = at or clock.now()
    if commission.status == CommissionStatus.PENDING and commission.available_at <= moment:
        return CommissionStatus.AVAILABLE
    return commission.status


def commissions_available_q(at: datetime | None = None) -> Q:
    """Commission available at `at`: written available, or pending whose `available_at` has come."""
    moment = at or clock.now()
    return Q(status=CommissionStatus.AVAILABLE) | Q(status=CommissionStatus.PENDING, available_at__lte=moment)


def broker_commissions(*, broker: Broker) -> QuerySet[Commission]:
    """The broker's commissions, newest first, with their referral and task."""
    return (
        Commission.objects.filter(broker=broker)
        .select_related("referral", "task", "statement")
        .order_by("-created_at", "-id")
    )


def broker_commission_totals(*, broker: Broker, at: datetime | None = None) -> dict[str, Money]:
    """The broker's commission summed by effective status (every status in TOTAL_STATUSES is present)."""
    moment = at or clock.now()
    totals = {status: 0 for status in TOTAL_STATUSES}
    rows = (
        Commission.objects.filter(broker=broker)
        .values("status", "available_at")
        .annotate(total=Sum("amount_fen"))
    )
    for row in rows:
        status = row["status"]
        if status == CommissionStatus.PENDING and row["available_at"] <= moment:
            status = CommissionStatus.AVAILABLE
        if status in totals:
            totals[status] += int(row["total"] or 0)
    return {status: Money(amount, CURRENCY) for status, amount in totals.items()}


def commissions_held() -> QuerySet[Commission]:
    """Commissions held for review (a fraud flag), oldest first, with the referral and its evidence."""
    return (
        Commission.objects.filter(status=CommissionStatus.HELD)
        .select_related("broker", "broker__user", "referral", "referral__person", "task")
        .order_by("created_at", "id")
    )


def commission_rule_amount(*, kind: str, model_code: str, campaign: str) -> int | None:
    """What the most specific active rule pays (model and campaign > model > campaign > any), or None."""
    rules = {
        (rule.model_code, rule.campaign): rule.amount_fen
        for rule in CommissionRule.objects.filter(
            kind=kind,
            is_active=True,
            model_code__in={model_code, ""},
            campaign__in={campaign, ""},
        )
    }
    for scope in ((model_code, campaign), (model_code, ""), ("", campaign), ("", "")):
        if scope in rules:
            return rules[scope]
    return None


def broker_can_enrol(user: Any) -> bool:
    """Any owner may become a broker: a consumer (or broker-role user) with a delivered car."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role in DEALER_ROLES or user.role in (Role.OPS, Role.PARTNER):
        return False
    return orders_for_buyer(buyer=user).filter(status=OrderStatus.DELIVERED).exists()
