"""Capturing interest from every channel: find the person, join their open lead or open and route one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from forecourt.accounts.models import ConsentPurpose, User
from forecourt.accounts.services import consent_grant, consent_is_active, consumer_get_or_create_by_phone
from forecourt.catalog.models import VehicleModel
from forecourt.core import clock
from forecourt.core.errors import CoreErrorCode
from forecourt.core.middleware import current_device, current_ip
from forecourt.core.phones import normalise_mainland_mobile
from forecourt.dealers.models import City, Dealer
from forecourt.leads.errors import LeadErrorCode, field_error
from forecourt.leads.models import (
    OPEN_STATUSES,
    Channel,
    Lead,
    LeadStatus,
    RoutingKind,
    SlaPolicy,
    Touchpoint,
)
from forecourt.leads.selectors import sla_policy_current
from forecourt.leads.services.routing import (
    ReasonCode,
    RoutingChoice,
    decision_record,
    route_locked,
    routing_choose,
    sla_deadlines,
)
from forecourt.leads.services.transitions import lead_event

UTM_KEYS = frozenset(
    {
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "source",
        "medium",
        "campaign",
        "term",
        "content",
    }
)
_UTM_VALUE_MAX = 200


@dataclass(frozen=True)
class _Inquiry:
    """One inquiry's checked inputs."""

    name: str
    e164: str
    city: City | None
    model: VehicleModel
    dealer: Dealer | None
    channel: str
    campaign: str
    source_site: str
    broker_code: str
    utm: dict[str, str]
    landing_page: str
    message: str


def _clean_utm(utm: Any) -> dict[str, str]:
    if utm is None:
        return {}
    if not isinstance(utm, dict) or len(utm) > 10:
        raise field_error(
            CoreErrorCode.INVALID, "utm", _("UTM parameters must be an object of up to 10 strings.")
        )
    cleaned: dict[str, str] = {}
    for key, value in utm.items():
        if not isinstance(key, str) or not isinstance(value, str | int | float) or isinstance(value, bool):
            raise field_error(
                CoreErrorCode.INVALID, "utm", _("UTM parameters must be an object of up to 10 strings.")
            )
        normalised = key.strip().lower()
        if normalised not in UTM_KEYS:
            raise field_error(
                CoreErrorCode.INVALID,
                f"utm.{key}"[:60],
                _(
                    "Unknown UTM parameter: use utm_source, utm_medium, "
                    "utm_campaign, utm_term or utm_content."
                ),
            )
        if not normalised.startswith("utm_"):
            normalised = f"utm_{normalised}"
        cleaned[normalised] = str(value).strip()[:_UTM_VALUE_MAX]
    return cleaned


def _text(value: Any, *, field: str, max_length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise field_error(CoreErrorCode.INVALID, field, _("Must be text."))
    value = value.strip()
    if len(value) > max_length:
        raise field_error(CoreErrorCode.INVALID, field, _("At most %(n)d characters.") % {"n": max_length})
    return value


def _check_inquiry(
    *,
    name: Any,
    phone: Any,
    city_code: Any,
    model_code: Any,
    channel: Any,
    dealer_public_id: Any,
    campaign: Any,
    source_site: Any,
    broker_code: Any,
    utm: Any,
    landing_page: Any,
    message: Any,
) -> _Inquiry:
    clean_name = _text(name, field="name", max_length=60)
    if not clean_name:
        raise field_error(CoreErrorCode.INVALID, "name", _("Tell us your name."))
    e164 = normalise_mainland_mobile(phone)
    if channel not in Channel.values:
        raise field_error(LeadErrorCode.INVALID_CHANNEL, "channel", _("Unknown channel."))
    city = None
    if city_code not in (None, ""):
        city = City.objects.filter(code=city_code).first() if isinstance(city_code, str) else None
        if city is None:
            raise field_error(LeadErrorCode.UNKNOWN_CITY, "city", _("Unknown city."))
    model = (
        VehicleModel.objects.filter(code=model_code, is_active=True).first()
        if isinstance(model_code, str)
        else None
    )
    if model is None:
        raise field_error(LeadErrorCode.UNKNOWN_MODEL, "model", _("Unknown model."))
    dealer = None
    if dealer_public_id not in (None, ""):
        dealer = (
            Dealer.objects.select_related("city").filter(public_id=dealer_public_id, is_active=True).first()
            if isinstance(dealer_public_id, str)
            else None
        )
        if dealer is None:
            raise field_error(LeadErrorCode.UNKNOWN_DEALER, "dealer", _("Unknown dealer."))
    return _Inquiry(
        name=clean_name,
        e164=e164,
        city=city,
        model=model,
        dealer=dealer,
        channel=channel,
        campaign=_text(campaign, field="campaign", max_length=80),
        source_site=_text(source_site, field="source_site", max_length=80),
        broker_code=_text(broker_code, field="broker_code", max_length=40),
        utm=_clean_utm(utm),
        landing_page=_text(landing_page, field="landing_page", max_length=500),
        message=_text(message, field="message", max_length=500),
    )


def _open_lead_locked(person: User, model: VehicleModel) -> Lead | None:
    return (
        Lead.objects.select_for_update()
        .filter(person=person, model=model, status__in=sorted(OPEN_STATUSES))
        .first()
    )


def _touch(lead: Lead, inquiry: _Inquiry, moment: datetime, actor: Any) -> Touchpoint:
    return Touchpoint.objects.create(
        lead=lead,
        channel=inquiry.channel,
        campaign=inquiry.campaign,
        source_site=inquiry.source_site,
        broker_code=inquiry.broker_code,
        utm=inquiry.utm,
        landing_page=inquiry.landing_page,
        message=inquiry.message,
        occurred_at=moment,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )


def _routing_for_new(inquiry: _Inquiry, *, may_share: bool, policy: SlaPolicy) -> RoutingChoice:
    if not may_share:
        return RoutingChoice(
            dealer=None,
            reason_code=ReasonCode.NO_CONSENT,
            reason=_("The person has not agreed to share their details with a dealer."),
        )
    return routing_choose(city=_lead_city(inquiry), chosen_dealer=inquiry.dealer, policy=policy)


def _lead_city(inquiry: _Inquiry) -> City | None:
    return inquiry.city or (inquiry.dealer.city if inquiry.dealer else None)


def _new_lead(
    person: User, inquiry: _Inquiry, choice: RoutingChoice, moment: datetime, policy: SlaPolicy
) -> Lead:
    # The lead is inserted already routed, so its dealer, status and clock are written in one INSERT.
    if choice.dealer is not None:
        deadline, reroute_at = sla_deadlines(moment, policy)
        routing: dict[str, Any] = {
            "status": LeadStatus.NEW,
            "dealer": choice.dealer,
            "routed_at": moment,
            "sla_deadline": deadline,
            "reroute_at": reroute_at,
        }
    else:
        routing = {"status": LeadStatus.OEM_QUEUE, "oem_queue_reason": choice.reason_code}
    return Lead.objects.create(
        person=person,
        name=inquiry.name,
        city=_lead_city(inquiry),
        model=inquiry.model,
        **routing,
        first_channel=inquiry.channel,
        first_campaign=inquiry.campaign,
        first_source_site=inquiry.source_site,
        first_broker_code=inquiry.broker_code,
        first_touch_at=moment,
        last_channel=inquiry.channel,
        last_campaign=inquiry.campaign,
        last_source_site=inquiry.source_site,
        last_touch_at=moment,
        touch_count=1,
        created_at=moment,
        updated_at=moment,
    )


def _person_for(e164: str, name: str) -> User:
    try:
        return consumer_get_or_create_by_phone(phone=e164, display_name=name)
    except IntegrityError:
        # The accounts service re-reads after a lost race; one more try covers a driver that reports late.
        return consumer_get_or_create_by_phone(phone=e164, display_name=name)


def lead_capture(
    *,
    name: str,
    phone: str,
    city_code: str | None,
    model_code: str,
    channel: str,
    dealer_public_id: str | None = None,
    campaign: str = "",
    source_site: str = "",
    broker_code: str = "",
    broker_clicked_at: datetime | None = None,
    utm: dict[str, Any] | None = None,
    landing_page: str = "",
    message: str = "",
    share_with_dealer: bool,
    consent_method: str = "web",
    actor: Any = None,
) -> tuple[Lead, bool]:
    """Record an inquiry: join the person's open lead for the model, or open and route a new lead.

    Returns (lead, created). `broker_code` (and, from a broker's link, when it was opened) rides on the
    touchpoint and on the `lead.created` / `lead.touchpoint_added` event with the request's device and
    address, so the referrals app can credit the broker and check its fraud rules.

    Without an active consent to share with a dealer the lead stays in the OEM's queue. Two inquiries
    at the same moment cannot both open a lead: the partial unique constraint (one open lead per person
    and model) makes the loser re-read and join.
    """
    inquiry = _check_inquiry(
        name=name,
        phone=phone,
        city_code=city_code,
        model_code=model_code,
        channel=channel,
        dealer_public_id=dealer_public_id,
        campaign=campaign,
        source_site=source_site,
        broker_code=broker_code,
        utm=utm,
        landing_page=landing_page,
        message=message,
    )
    person = _person_for(inquiry.e164, inquiry.name)
    if share_with_dealer is True:
        # The grant returns the standing record (a repeat under the same text version changes nothing).
        consent_grant(
            user=person,
            purpose=ConsentPurpose.SHARE_WITH_DEALER,
            method=consent_method,
            ip=current_ip(),
            actor=actor if getattr(actor, "pk", None) else None,
        )
        may_share = True
    else:
        may_share = consent_is_active(user=person, purpose=ConsentPurpose.SHARE_WITH_DEALER)
    policy = sla_policy_current()

    with transaction.atomic():
        moment = clock.now()
        lead = _open_lead_locked(person, inquiry.model)
        created = False
        if lead is None:
            choice = _routing_for_new(inquiry, may_share=may_share, policy=policy)
            try:
                with transaction.atomic():
                    lead = _new_lead(person, inquiry, choice, moment, policy)
                created = True
            except IntegrityError:
                # A twin inquiry opened the lead between our read and our insert: join it.
                lead = _open_lead_locked(person, inquiry.model)
                if lead is None:
                    raise
        touchpoint = _touch(lead, inquiry, moment, actor)
        referral = _referral_payload(inquiry, broker_clicked_at)
        if created:
            lead_event(
                "lead.created",
                lead,
                actor=actor,
                channel=inquiry.channel,
                model=inquiry.model.code,
                city=lead.city.code if lead.city else None,
                person=person.public_id,
                campaign=inquiry.campaign,
                **referral,
            )
            decision_record(lead, choice, kind=RoutingKind.INITIAL, moment=moment, actor=actor)
        else:
            _join(
                lead,
                inquiry,
                touchpoint,
                may_share=may_share,
                moment=moment,
                policy=policy,
                actor=actor,
                referral=referral,
            )
    return lead, created


def _referral_payload(inquiry: _Inquiry, clicked_at: datetime | None) -> dict[str, Any]:
    """What the referrals app needs to credit a broker: the code, when the link was opened, from where."""
    if not inquiry.broker_code:
        return {}
    return {
        "broker_code": inquiry.broker_code,
        "broker_clicked_at": clicked_at.isoformat() if clicked_at else None,
        "device": current_device() or "",
        "ip": current_ip() or "",
    }


def _join(
    lead: Lead,
    inquiry: _Inquiry,
    touchpoint: Touchpoint,
    *,
    may_share: bool,
    moment: datetime,
    policy: SlaPolicy,
    actor: Any,
    referral: dict[str, Any],
) -> None:
    lead.last_channel = inquiry.channel
    lead.last_campaign = inquiry.campaign
    lead.last_source_site = inquiry.source_site
    lead.last_touch_at = moment
    lead.touch_count += 1
    lead.updated_at = moment
    fields = [
        "last_channel",
        "last_campaign",
        "last_source_site",
        "last_touch_at",
        "touch_count",
        "updated_at",
    ]
    if lead.city_id is None and inquiry.city is not None:
        lead.city = inquiry.city
        fields.append("city")
    lead.save(update_fields=fields)
    lead_event(
        "lead.touchpoint_added",
        lead,
        actor=actor,
        channel=inquiry.channel,
        touch_count=lead.touch_count,
        touchpoint=touchpoint.pk,
        model=lead.model.code,
        person=lead.person.public_id,
        campaign=inquiry.campaign,
        **referral,
    )
    # A queued lead goes to a dealer once the person has agreed to sharing (the reason it was queued),
    # or when they pick a dealer themselves, e.g. by booking a test drive there.
    queued_for_consent = lead.oem_queue_reason in (ReasonCode.NO_CONSENT, ReasonCode.NO_CITY)
    if (
        lead.status == LeadStatus.OEM_QUEUE
        and may_share
        and (queued_for_consent or inquiry.dealer is not None)
    ):
        rerouting = routing_choose(city=lead.city, chosen_dealer=inquiry.dealer, policy=policy)
        if rerouting.dealer is not None:
            route_locked(lead, rerouting, kind=RoutingKind.INITIAL, moment=moment, policy=policy, actor=actor)
