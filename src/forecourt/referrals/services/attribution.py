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
    # Locked in primary-key order, as every multi-row lock here: two clusters flagged at once cannot
    # deadlock on each other's rows.
    others = Referral.objects.select_for_update().filter(pk__in=flag.others).exclude(pk=exclude_pk)
    for other in others.order_by("pk"):
        if other.stage == Stage.REJECTED or any(item.get("rule") == flag.rule for item in other.flags or []):
            continue
        other.flags = [*(other.flags or []), flag.as_json()]
        other.updated_at = clock.now()
        other.save(update_fields=["flags", "updated_at"])
        commissions_hold_for_referral(referral=other, reason=flag.rule)


def _broker_and_person(
    *, lead_public_id: str, broker_code: str, person_public_id: str, clicked_at: datetime | None, at: datetime
) -> tuple[Broker, User] | None:
    """The active broker and the person to credit; None for an unknown one or a click outside the window
    (a code that came without a click time counts as clicked at the lead's time)."""
    broker = broker_by_code(broker_code)
    person = User.objects.filter(public_id=person_public_id).first() if person_public_id else None
    if broker is None or person is None:
        return None
    if not within_window(clicked_at=clicked_at or at, at=at):
        logger.info(
            "broker link outside the attribution window",
            extra=log_context(lead=lead_public_id, broker=broker.code),
        )
        return None
    return broker, person


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
    found = _broker_and_person(
        lead_public_id=lead_public_id,
        broker_code=broker_code,
        person_public_id=person_public_id,
        clicked_at=clicked_at,
        at=at,
    )
    if found is None:
        return None
    broker, person = found
    referral = Referral(
        broker=broker,
        person=person,
        lead_public_id=lead_public_id,
        model_code=str(model_code or "")[:40],
        campaign=str(campaign or "")[:80],
        city=City.objects.filter(code=city_code).first() if city_code else None,
        device=clean_device(device),
        ip=clean_ip(ip),
        clicked_at=clicked_at,
        referred_at=at,
        updated_at=at,
    )
    with transaction.atomic():
        # The broker's row lock serialises the broker's referrals: the velocity count cannot be raced.
        referral.broker = Broker.objects.select_for_update().select_related("user").get(pk=broker.pk)
        existing = referral_for_lead(lead_public_id)
        if existing is not None:
            return existing
        # A click time a little ahead of the lead (clock skew) is read as the lead's own time.
        return _referral_create(referral, clicked_at=min(clicked_at or at, at), new_lead=new_lead)


def _referral_create(referral: Referral, *, clicked_at: datetime, new_lead: bool) -> Referral:
    """Judge the new referral by the fraud rules, save it as the verdict says (`rejected` with its
    reason, or `referred` with any flags) and record its event; the lead's existing referral if another
    event credited it meanwhile. In the caller's transaction, under the broker's row lock."""
    verdict = referral_verdict(
        broker=referral.broker,
        person=referral.person,
        device=referral.device,
        ip=referral.ip,
        clicked_at=clicked_at,
        at=referral.referred_at,
        new_lead=referral.lead_public_id if new_lead else "",
    )
    rejection = verdict.rejection
    referral.stage = Stage.REJECTED if rejection else Stage.REFERRED
    referral.rejection = rejection.rule if rejection else ""
    referral.flags = [flag.as_json() for flag in ([rejection] if rejection else []) + verdict.flags]
    try:
        with transaction.atomic():
            referral.save(force_insert=True)
    except IntegrityError:
        # Another event for the same lead credited it a moment ago: the first broker wins.
        existing = referral_for_lead(referral.lead_public_id)
        if existing is None:
            raise
        return existing
    if rejection is not None:
        referral_event("referral.rejected", referral, reason=rejection.rule, evidence=rejection.evidence)
        return referral
    for flag in verdict.flags:
        _flag_others(flag, exclude_pk=referral.pk)
    referral_event("referral.created", referral)
    return referral
