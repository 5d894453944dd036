"""The fraud rules a referral is judged by when it arrives, each answering with its evidence.

Refused outright (the referral is recorded as `rejected`, so the broker sees why):
- `self_referral`: the broker referring themselves — the same person, the same phone, or a lead sent
  from a device the broker uses while signed in;
- `existing_customer`: the person already has an order (a customer is nobody's referral);
- `existing_lead`: the person was already an open lead before the broker's link was opened;
- `velocity`: the broker has already had REFERRALS_DAILY_LIMIT referrals today (Shanghai).

Flagged (accepted, but its commissions are held until ops decide, with the evidence shown):
- `device_cluster` / `ip_cluster`: REFERRALS_CLUSTER_SIZE or more referrals from one device or one
  address within REFERRALS_CLUSTER_DAYS — one phone's many "friends".

Evidence never holds a phone number: a match is named, not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings

from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.leads.models import OPEN_STATUSES, Lead
from forecourt.orders.models import OrderStatus
from forecourt.orders.selectors import orders_for_buyer
from forecourt.referrals.models import Broker, BrokerDevice, Referral, Stage


class FraudRule(StrEnum):
    SELF_REFERRAL = "self_referral"
    EXISTING_CUSTOMER = "existing_customer"
    EXISTING_LEAD = "existing_lead"
    VELOCITY = "velocity"
    DEVICE_CLUSTER = "device_cluster"
    IP_CLUSTER = "ip_cluster"


@dataclass(frozen=True)
class Flag:
    rule: str
    evidence: dict[str, Any]
    # The other referrals a cluster flag also marks.
    others: tuple[int, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "evidence": self.evidence}


@dataclass(frozen=True)
class Verdict:
    rejection: Flag | None
    flags: list[Flag] = field(default_factory=list)


def self_referral(*, broker: Broker, person: User, device: str) -> Flag | None:
    """The broker themself: the same account, the same phone, or one of the broker's own devices."""
    if person.pk == broker.user_id:
        return Flag(FraudRule.SELF_REFERRAL, {"match": "person"})
    broker_phone = broker.user.phone_hash
    if broker_phone and person.phone_hash == broker_phone:
        return Flag(FraudRule.SELF_REFERRAL, {"match": "phone"})
    if device and BrokerDevice.objects.filter(broker=broker, device=device).exists():
        return Flag(FraudRule.SELF_REFERRAL, {"match": "device", "device": device})
    return None


def existing_customer(*, person: User) -> Flag | None:
    """A person who already has an order (of any model, not cancelled) is a customer already."""
    order = (
        orders_for_buyer(buyer=person)
        .exclude(status=OrderStatus.CANCELLED)
        .order_by("created_at", "id")
        .values("number", "status", "created_at")
        .first()
    )
    if order is None:
        return None
    return Flag(
        FraudRule.EXISTING_CUSTOMER,
        {"order": order["number"], "status": order["status"], "ordered_at": order["created_at"].isoformat()},
    )


def existing_lead(*, person: User, before: datetime, new_lead: str = "") -> Flag | None:
    """The person was an open lead before the broker's link was opened: the broker did not bring them.

    `new_lead` is the lead the referral is for when that lead is new (it is not "existing" then)."""
    leads = Lead.objects.filter(person=person, status__in=sorted(OPEN_STATUSES), created_at__lt=before)
    if new_lead:
        leads = leads.exclude(public_id=new_lead)
    lead = leads.order_by("created_at", "id").values("public_id", "model__code", "created_at").first()
    if lead is None:
        return None
    return Flag(
        FraudRule.EXISTING_LEAD,
        {
            "lead": lead["public_id"],
            "model": lead["model__code"],
            "created_at": lead["created_at"].isoformat(),
        },
    )


def day_start(moment: datetime) -> datetime:
    """Midnight in Shanghai of the day `moment` falls on."""
    return datetime.combine(moment.astimezone(clock.SHANGHAI).date(), time.min, tzinfo=clock.SHANGHAI)


def velocity(*, broker: Broker, at: datetime) -> Flag | None:
    """The broker's accepted referrals today have reached the daily limit: the next one is refused."""
    limit = settings.REFERRALS_DAILY_LIMIT
    since = day_start(at)
    count = (
        Referral.objects.filter(broker=broker, referred_at__gte=since, referred_at__lte=at)
        .exclude(stage=Stage.REJECTED)
        .count()
    )
    if count < limit:
        return None
    return Flag(
        FraudRule.VELOCITY,
        {"count": count, "limit": limit, "day": since.date().isoformat()},
    )


def _cluster(rule: FraudRule, *, key: str, value: str, at: datetime) -> Flag | None:
    """This referral would be the CLUSTER_SIZE-th (or later) from one device or address in the window."""
    window = timedelta(days=settings.REFERRALS_CLUSTER_DAYS)
    since = at - window
    rows = list(
        Referral.objects.filter(**{key: value}, referred_at__gte=since, referred_at__lte=at)
        .order_by("referred_at", "id")
        .values_list("pk", "public_id")
    )
    if len(rows) + 1 < settings.REFERRALS_CLUSTER_SIZE:
        return None
    return Flag(
        rule,
        {
            key: value,
            "count": len(rows) + 1,
            "window_days": settings.REFERRALS_CLUSTER_DAYS,
            "since": since.isoformat(),
            "referrals": [public_id for _pk, public_id in rows],
        },
        others=tuple(pk for pk, _public_id in rows),
    )


def device_cluster(*, device: str, at: datetime) -> Flag | None:
    return _cluster(FraudRule.DEVICE_CLUSTER, key="device", value=device, at=at) if device else None


def ip_cluster(*, ip: str | None, at: datetime) -> Flag | None:
    return _cluster(FraudRule.IP_CLUSTER, key="ip", value=ip, at=at) if ip else None


def referral_verdict(
    *,
    broker: Broker,
    person: User,
    device: str,
    ip: str | None,
    clicked_at: datetime,
    at: datetime,
    new_lead: str = "",
) -> Verdict:
    """Judge a new referral: the first rejecting rule that fires (in the order above), and any flags."""
    rejection = (
        self_referral(broker=broker, person=person, device=device)
        or existing_customer(person=person)
        or existing_lead(person=person, before=clicked_at, new_lead=new_lead)
        or velocity(broker=broker, at=at)
    )
    flags = [flag for flag in (device_cluster(device=device, at=at), ip_cluster(ip=ip, at=at)) if flag]
    return Verdict(rejection=rejection, flags=flags)
