"""What a member (and the dealer who scans their card) sees: points in words, tier progress, benefits.

Shared by the member pages, the dealer's card lookup and the API so that all three say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.phones import decrypt_phone, mask_name, mask_phone
from forecourt.loyalty.card import card_number_display
from forecourt.loyalty.ledger import LedgerState
from forecourt.loyalty.models import EntryKind, Member, PointsEntry, TierBenefit
from forecourt.loyalty.reward_selectors import member_points_state
from forecourt.loyalty.selectors import TierProgress, member_tier_progress, tier_benefits
from forecourt.loyalty.services.earning import member_checked_in_today

# The words a member reads for each reason code; codes not listed fall back to the entry's kind.
REASON_TEXTS: dict[str, Any] = {
    "purchase": gettext_lazy("Car purchase"),
    "test_drive": gettext_lazy("Test drive"),
    "check_in": gettext_lazy("Store visit"),
    "referral": gettext_lazy("Successful referral"),
    "community": gettext_lazy("Community contribution"),
    "daily_check_in": gettext_lazy("Daily check-in"),
    "ops_task": gettext_lazy("Task completed"),
    "tier_bonus": gettext_lazy("Tier bonus"),
    "late_delivery": gettext_lazy("Late delivery compensation"),
    "order_cancelled": gettext_lazy("Order cancelled: points taken back"),
    "order_returned": gettext_lazy("Car returned: points taken back"),
    "referral_clawed_back": gettext_lazy("Referral reversed: points taken back"),
    "expiry": gettext_lazy("Points expired"),
    "ops_adjustment": gettext_lazy("Adjusted by the member club"),
    "reward": gettext_lazy("Reward redeemed"),
    # The rewards catalogue's cancellations (services/rewards.py) give the spent points back.
    "reward_unpaid": gettext_lazy("Reward not paid in time: points given back"),
    "reward_payment_failed": gettext_lazy("Reward payment failed: points given back"),
    "reward_unavailable": gettext_lazy("Reward unavailable: points given back"),
    "reward_voucher_void": gettext_lazy("Reward voucher voided: points given back"),
    "reward_voucher_refunded": gettext_lazy("Reward refunded: points given back"),
}
KIND_TEXTS: dict[str, Any] = {
    EntryKind.EARN: gettext_lazy("Points earned"),
    EntryKind.REDEEM: gettext_lazy("Points spent"),
    EntryKind.REVERSAL: gettext_lazy("Points given back"),
    EntryKind.EXPIRY: gettext_lazy("Points expired"),
    EntryKind.ADJUST: gettext_lazy("Adjusted by the member club"),
}


def entry_reason_text(entry: PointsEntry) -> str:
    """The entry's reason in words (a reversal of a spend says the points came back)."""
    if entry.reason in REASON_TEXTS:
        return str(REASON_TEXTS[entry.reason])
    if entry.kind == EntryKind.REVERSAL and entry.points > 0:
        return str(KIND_TEXTS[EntryKind.REVERSAL])
    if entry.kind == EntryKind.REVERSAL:
        return _("Points taken back")
    return str(KIND_TEXTS.get(entry.kind, entry.reason))


def entry_detail(entry: PointsEntry) -> str:
    """A second line: what it was about (order number, task, note) and, for a pending earning, when it
    becomes spendable."""
    parts: list[str] = []
    if entry.note:
        parts.append(entry.note)
    elif entry.source_ref and entry.kind != EntryKind.EXPIRY:
        parts.append(entry.source_ref)
    if entry.kind == EntryKind.REVERSAL and entry.reverses is not None:
        parts.append(
            _("undoes the entry of %(when)s")
            % {"when": entry.reverses.occurred_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d")}
        )
    return " · ".join(parts)


def _local(moment: datetime | None) -> str | None:
    return moment.astimezone(clock.SHANGHAI).isoformat() if moment is not None else None


def entry_out(entry: PointsEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "points": entry.points,
        "reason": entry.reason,
        "reason_text": entry_reason_text(entry),
        "detail": entry_detail(entry),
        "occurred_at": _local(entry.occurred_at),
        "available_at": _local(entry.available_at) if entry.points > 0 else None,
        "expires_at": _local(entry.expires_at) if entry.points > 0 else None,
        "reverses": entry.reverses_id,
    }


def masked_phone_of(user: Any) -> str:
    if not getattr(user, "phone_encrypted", ""):
        return ""
    try:
        return mask_phone(decrypt_phone(user.phone_encrypted))
    except DomainError:
        return ""


@dataclass(frozen=True)
class DatedPoints:
    at: datetime
    points: int

    @property
    def local(self) -> datetime:
        return self.at.astimezone(clock.SHANGHAI)

    @property
    def last_day(self) -> date:
        """The last Shanghai day the points can be used (they lapse at midnight after it)."""
        return (self.at - timedelta(microseconds=1)).astimezone(clock.SHANGHAI).date()


@dataclass(frozen=True)
class MemberSummary:
    """A member's points and tier at one moment, as the pages and the API show them."""

    member: Member
    at: datetime
    state: LedgerState
    progress: TierProgress
    benefits: list[TierBenefit]
    checked_in_today: bool

    @property
    def balance(self) -> int:
        return self.state.balance

    @property
    def spendable(self) -> int:
        return self.state.spendable

    @property
    def pending(self) -> int:
        return self.state.pending

    @property
    def debt(self) -> int:
        return self.state.debt

    @property
    def pending_lots(self) -> list[DatedPoints]:
        """Pending points by the day they become spendable, soonest first."""
        return [DatedPoints(lot.available_at, lot.remaining) for lot in self.state.pending_lots()]

    @property
    def expiring(self) -> list[DatedPoints]:
        """Spendable points by the moment they lapse, soonest first."""
        return [DatedPoints(moment, points) for moment, points in self.state.expiring()]

    @property
    def card_number(self) -> str:
        return card_number_display(self.member.number)


def member_summary(member: Member, at: datetime | None = None) -> MemberSummary:
    moment = at or clock.now()
    progress = member_tier_progress(member, moment)
    return MemberSummary(
        member=member,
        at=moment,
        state=member_points_state(member, moment),
        progress=progress,
        benefits=tier_benefits(progress.tier),
        checked_in_today=member_checked_in_today(member),
    )


def benefit_out(benefit: TierBenefit) -> dict[str, Any]:
    return {
        "code": benefit.code,
        "title": benefit.title,
        "description": benefit.description,
        "value": benefit.value,
    }


def tier_out(progress: TierProgress) -> dict[str, Any]:
    return {
        "code": progress.tier,
        "label": progress.label,
        "qualifying_points": progress.points,
        "window_days": progress.window_days,
        "next": {
            "code": progress.next_tier,
            "label": progress.next_label,
            "min_points": progress.next_min_points,
            "points_to_go": progress.points_to_next,
        }
        if progress.next_tier
        else None,
    }


def summary_out(summary: MemberSummary) -> dict[str, Any]:
    return {
        "member": {
            "number": summary.member.number,
            "joined_at": _local(summary.member.joined_at),
        },
        "points": {
            "balance": summary.balance,
            "spendable": summary.spendable,
            "pending": summary.pending,
            "debt": summary.debt,
            "pending_lots": [
                {"points": lot.points, "available_at": _local(lot.at)} for lot in summary.pending_lots
            ],
            "expiring": [{"points": item.points, "expires_at": _local(item.at)} for item in summary.expiring],
        },
        "tier": tier_out(summary.progress),
        "benefits": [benefit_out(benefit) for benefit in summary.benefits],
        "checked_in_today": summary.checked_in_today,
    }


def staff_card_out(member: Member, at: datetime | None = None) -> dict[str, Any]:
    """What dealer staff see when they scan a member card: masked name and phone, tier and benefits."""
    progress = member_tier_progress(member, at)
    return {
        "number": member.number,
        "name": mask_name(member.user.display_name),
        "phone": masked_phone_of(member.user),
        "member_since": _local(member.joined_at),
        "tier": {"code": progress.tier, "label": progress.label},
        "benefits": [benefit_out(benefit) for benefit in tier_benefits(progress.tier)],
    }
