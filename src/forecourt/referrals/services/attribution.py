"""Attribution: which broker a lead is credited to, if any.

A broker's link, opened, leaves a signed mark in the browser (leads.referral_mark) and a click row here.
The lead that browser then becomes carries the broker's code and the click time on its `lead.created` or
`lead.touchpoint_added` event; `referral_attribute` credits it when:

- the click is within REFERRALS_ATTRIBUTION_DAYS of the lead's event (a code that came directly, e.g.
  through the API, counts as clicked at the lead's time);
- no broker has been credited for the lead yet — the first valid broker wins (one referral per lead,
  a unique constraint), and a later link never replaces a valid mark in the browser;
- one level only: the credit goes to the broker whose code the lead carries and to nobody above them.

The fraud rules then accept, flag or reject it (fraud.py); a rejected referral is kept with its reason
so the broker can see why it does not count.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.core.logging import log_context
from forecourt.dealers.models import City
from forecourt.referrals.fraud import Flag, referral_verdict
from forecourt.referrals.models import Broker, Referral, ReferralClick, Stage
from forecourt.referrals.selectors import broker_by_code, referral_for_lead
from forecourt.referrals.services.commissions import commissions_hold_for_referral
from forecourt.referrals.services.events import referral_event

logger = logging.getLogger(__name__)

# A click time a few minutes after the lead (clocks of two servers) is read as the lead's own time.
CLOCK_SKEW = timedelta(minutes=5)


def attribution_window() -> timedelta:
    return timedelta(days=settings.REFERRALS_ATTRIBUTION_DAYS)


def within_window(*, clicked_at: datetime, at: datetime) -> bool:
    """Whether a click at `clicked_at` may be credited for a lead at `at` (the window's end included)."""
    return clicked_at <= at + CLOCK_SKEW and at - clicked_at <= attribution_window()


def clean_ip(value: Any) -> str | None:
    """An IP address as the database stores it, or None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def clean_device(value: Any) -> str:
    return value[:40] if isinstance(value, str) else ""


def referral_click_record(
    *,
    broker: Broker,
    device: str | None = "",
    ip: str | None = None,
    landing: str = "",
    at: datetime | None = None,
) -> ReferralClick:
    """Record one opening of the broker's link (or a scan of the poster): when, from which device and IP."""
    return ReferralClick.objects.create(
        broker=broker,
        device=clean_device(device or ""),
        ip=clean_ip(ip),
        landing=str(landing or "")[:200],
        at=at or clock.now(),
    )


def _flag_others(flag: Flag, *, exclude_pk: int) -> None:
    """A cluster marks every referral in it, and holds the pending commissions of the earlier ones."""
    for other in Referral.objects.select_for_update().filter(pk__in=flag.others).exclude(pk=exclude_pk):
        if other.stage == Stage.REJECTED or any(item.get("rule") == flag.rule for item in other.flags or []):
            continue
        other.flags = [*(other.flags or []), flag.as_json()]
        other.updated_at = clock.now()
        other.save(update_fields=["flags", "updated_at"])
        commissions_hold_for_referral(referral=other, reason=flag.rule)


def referral_attribute(
    *,
    lead_public_id: str,
    person_public_id: str,
    broker_code: str,
    clicked_at: datetime | None,
    at: datetime,
    model_code: str = "",
    campaign: str = "",
    city_code: str | None = None,
    device: str = "",
    ip: str | None = None,
    new_lead: bool = True,
) -> Referral | None:
    """Credit the lead to the broker whose code it carries, if the window and the rules allow.

    Returns the lead's referral (the one already credited, if any: the first valid broker wins), a new
    one (`referred`, possibly flagged, or `rejected` with its reason), or None when nothing is credited
    (no or unknown broker code, unknown person, click outside the window).
    """
    existing = referral_for_lead(lead_public_id)
    if existing is not None:
        return existing
    broker = broker_by_code(broker_code)
    person = User.objects.filter(public_id=person_public_id).first() if person_public_id else None
    if broker is None or person is None:
        return None
    click_time = clicked_at or at
    if click_time > at:
        click_time = at
    if not within_window(clicked_at=clicked_at or at, at=at):
        logger.info(
            "broker link outside the attribution window",
            extra=log_context(lead=lead_public_id, broker=broker.code),
        )
        return None
    device = clean_device(device)
    address = clean_ip(ip)
    city = City.objects.filter(code=city_code).first() if city_code else None
    with transaction.atomic():
        # The broker's row lock serialises the broker's referrals: the velocity count cannot be raced.
        broker = Broker.objects.select_for_update().select_related("user").get(pk=broker.pk)
        existing = referral_for_lead(lead_public_id)
        if existing is not None:
            return existing
        verdict = referral_verdict(
            broker=broker,
            person=person,
            device=device,
            ip=address,
            clicked_at=click_time,
            at=at,
            new_lead=lead_public_id if new_lead else "",
        )
        flags = ([verdict.rejection] if verdict.rejection else []) + verdict.flags
        try:
            with transaction.atomic():
                referral = Referral.objects.create(
                    broker=broker,
                    person=person,
                    lead_public_id=lead_public_id,
                    model_code=str(model_code or "")[:40],
                    campaign=str(campaign or "")[:80],
                    city=city,
                    stage=Stage.REJECTED if verdict.rejection else Stage.REFERRED,
                    rejection=verdict.rejection.rule if verdict.rejection else "",
                    flags=[flag.as_json() for flag in flags],
                    device=device,
                    ip=address,
                    clicked_at=clicked_at,
                    referred_at=at,
                    updated_at=at,
                )
        except IntegrityError:
            # Another event for the same lead credited it a moment ago: the first broker wins.
            existing = referral_for_lead(lead_public_id)
            if existing is None:
                raise
            return existing
        if verdict.rejection is not None:
            referral_event(
                "referral.rejected",
                referral,
                reason=verdict.rejection.rule,
                evidence=verdict.rejection.evidence,
            )
            return referral
        for flag in verdict.flags:
            _flag_others(flag, exclude_pk=referral.pk)
        referral_event("referral.created", referral)
    return referral
