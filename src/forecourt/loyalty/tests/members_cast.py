"""The cast of the members tests: consumers with a phone, dealer staff, ops, the club's earn rules and tier
benefits, and helpers to record other apps' events and deliver them as a commit would."""

from __future__ import annotations

from datetime import datetime
from itertools import count
from typing import Any

from django.test import TestCase

from forecourt.accounts.models import Role, User
from forecourt.accounts.tests.factories import make_dealer, make_user
from forecourt.core.clock import SHANGHAI
from forecourt.core.events import event_record
from forecourt.core.models import Event
from forecourt.core.phones import protect_phone
from forecourt.loyalty.models import EarnRule, EarnSource, Member, PointsEntry, TierBenefit, TierRule
from forecourt.loyalty.services import member_for, points_earn

# Monday 23 November 2026, 10:00 in Shanghai.
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
_serial = count(1)


def committed() -> Any:
    """Run the on-commit callbacks (event delivery to subscribers) the block registers when it ends."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def make_person(name: str = "张三丰", *, phone: str | None = None, role: str = Role.CONSUMER) -> User:
    serial = next(_serial)
    fields: dict[str, Any] = {"username": f"member-{serial}", "display_name": name, "role": role}
    if phone is not None:
        _e164, hashed, encrypted = protect_phone(phone)
        fields.update({"phone_hash": hashed, "phone_encrypted": encrypted})
    return make_user(**fields)


def make_member(name: str = "张三丰", **fields: Any) -> Member:
    return member_for(make_person(name, **fields))


def make_staff(role: str = Role.SALES_ADVISOR, name: str = "王芳") -> User:
    return make_user(username=f"staff-{next(_serial)}", display_name=name, role=role, dealer=make_dealer())


def make_ops() -> User:
    return make_user(username=f"ops-{next(_serial)}", display_name="运营", role=Role.OPS)


def give(member: Member, points: int, **fields: Any) -> PointsEntry:
    """Points earned now (spendable at once unless `holding_days` says otherwise)."""
    return points_earn(
        member=member,
        points=points,
        reason=fields.pop("reason", "test"),
        idempotency_key=f"test-earn:{member.pk}:{next(_serial)}",
        **fields,
    )


# The club's rules as ops would set them: a purchase earns 1 point per ¥100 plus 500, pending 7 days.
RULES: dict[str, dict[str, Any]] = {
    EarnSource.PURCHASE: {"points": 500, "fen_per_point": 100_00, "holding_days": 7},
    EarnSource.TEST_DRIVE: {"points": 200, "daily_limit": 2},
    EarnSource.CHECK_IN: {"points": 100, "daily_limit": 1},
    EarnSource.REFERRAL: {"points": 1_000, "holding_days": 7},
    EarnSource.COMMUNITY: {"points": 20, "daily_limit": 5},
    EarnSource.DAILY_CHECK_IN: {"points": 10, "qualifying": False},
    EarnSource.OPS_TASK: {"points": 50},
}


def club_rules(**overrides: dict[str, Any]) -> dict[str, EarnRule]:
    """One active rule per source (overrides per source merge into the defaults)."""
    rules: dict[str, EarnRule] = {}
    for source, values in RULES.items():
        fields = {**values, **overrides.get(str(source), {})}
        rules[str(source)] = EarnRule.objects.create(
            source=source, title=f"{EarnSource(source).label}", **fields
        )
    return rules


def tier_rules(silver: int = 1_000, gold: int = 5_000, black: int = 20_000) -> None:
    TierRule.objects.create(tier="standard", min_points=0)
    TierRule.objects.create(tier="silver", min_points=silver)
    TierRule.objects.create(tier="gold", min_points=gold)
    TierRule.objects.create(tier="black", min_points=black)


def benefit(tier: str, code: str, title: str, value: int = 0) -> TierBenefit:
    return TierBenefit.objects.create(tier=tier, code=code, title=title, value=value)


def record(name: str, *, subject_type: str = "", subject_id: str = "", **payload: Any) -> Event:
    """Record another app's event as its service would, and deliver it to the subscribers."""
    with committed():
        return event_record(name, subject_type=subject_type, subject_id=subject_id, payload=payload)


def entries_of(member: Member) -> list[tuple[str, int, str]]:
    """(kind, points, reason) of every entry, oldest first."""
    return list(PointsEntry.objects.filter(member=member).values_list("kind", "points", "reason"))
