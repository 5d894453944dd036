"""Leads as the workspace API shows them: public ids only, the phone always masked here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from forecourt.core.clock import SHANGHAI
from forecourt.leads.access import is_ops, lead_may_reveal_phone
from forecourt.leads.models import DefeatReview, Lead
from forecourt.leads.selectors import defeat_review_pending_for, sla_policy_current

# Human names of the source sites leads arrive from (the codes stay as they are in the API).
SOURCE_SITE_LABELS: dict[str, Promise] = {
    "official_site": pgettext_lazy("source site", "Official website"),
    "autohome": pgettext_lazy("source site", "Autohome"),
    "dongchedi": pgettext_lazy("source site", "Dongchedi"),
    "yiche": pgettext_lazy("source site", "Yiche"),
    "douyin": pgettext_lazy("source site", "Douyin live"),
    "kuaishou": pgettext_lazy("source site", "Kuaishou"),
    "xiaohongshu": pgettext_lazy("source site", "Xiaohongshu"),
    "wechat": pgettext_lazy("source site", "WeChat"),
    "wechat_channels": pgettext_lazy("source site", "WeChat Channels"),
    "wechat_mini_program": pgettext_lazy("source site", "WeChat mini program"),
}


def source_site_label(code: str) -> str:
    """The source site's name in the active language; an unknown site shows its code."""
    label = SOURCE_SITE_LABELS.get(code)
    return str(label) if label is not None else code


def _iso(moment: datetime | None) -> str | None:
    """Times in the API are ISO 8601 in Shanghai time, the zone the people using them live in."""
    return moment.astimezone(SHANGHAI).isoformat() if moment is not None else None


def _person_ref(user: Any) -> dict[str, str] | None:
    if user is None:
        return None
    return {"id": user.public_id, "name": user.display_name or user.username}


def lead_summary_out(lead: Lead, *, now: datetime) -> dict[str, Any]:
    due_soon = sla_policy_current().due_soon_minutes
    return {
        "id": lead.public_id,
        "name": lead.name,
        "phone": lead.person.masked_phone,
        "status": lead.status,
        "model": lead.model.code,
        "city": lead.city.code if lead.city else None,
        "dealer": lead.dealer.public_id if lead.dealer else None,
        "advisor": _person_ref(lead.advisor),
        "created_at": _iso(lead.created_at),
        "sla_deadline": _iso(lead.sla_deadline),
        "sla_state": lead.sla_state(now, due_soon=timedelta(minutes=due_soon)),
        "escalated_at": _iso(lead.escalated_at),
        "reroute_count": lead.reroute_count,
        "first_contacted_at": _iso(lead.first_contacted_at),
        "next_follow_up_at": _iso(lead.next_follow_up_at),
        "first_touch": {
            "channel": lead.first_channel,
            "campaign": lead.first_campaign,
            "source_site": lead.first_source_site,
            "at": _iso(lead.first_touch_at),
        },
        "last_touch": {
            "channel": lead.last_channel,
            "campaign": lead.last_campaign,
            "source_site": lead.last_source_site,
            "at": _iso(lead.last_touch_at),
        },
        "touch_count": lead.touch_count,
    }


def defeat_review_out(review: DefeatReview, *, audit: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": review.pk,
        "reason": review.reason,
        "evidence": review.evidence,
        "decision": review.decision,
        "requested_by": _person_ref(review.requested_by),
        "requested_at": _iso(review.requested_at),
        "reviewed_by": _person_ref(review.reviewed_by),
        "reviewed_at": _iso(review.reviewed_at),
        "review_note": review.review_note,
    }
    if audit:
        lead = review.lead
        body["lead"] = {"id": lead.public_id, "status": lead.status, "name": lead.name}
        body["dealer"] = {"id": review.dealer.public_id, "name": review.dealer.name}
        body["contact_attempts"] = lead.contact_attempts.filter(dealer_id=review.dealer_id).count()
    return body


def lead_detail_out(lead: Lead, *, user: Any, now: datetime) -> dict[str, Any]:
    pending = defeat_review_pending_for(lead=lead)
    return {
        **lead_summary_out(lead, now=now),
        "can_reveal_phone": lead_may_reveal_phone(lead=lead, user=user),
        "touchpoints": [
            {
                "channel": touch.channel,
                "campaign": touch.campaign,
                "source_site": touch.source_site,
                "broker_code": touch.broker_code,
                "utm": touch.utm,
                "landing_page": touch.landing_page,
                "at": _iso(touch.occurred_at),
            }
            for touch in lead.touchpoints.order_by("occurred_at", "id")
        ],
        # Only this dealer's calls: a previous dealer's notes stay with that dealer.
        "contact_attempts": [
            {
                "id": attempt.pk,
                "outcome": attempt.outcome,
                "note": attempt.note,
                "staff": _person_ref(attempt.staff),
                "at": _iso(attempt.at),
            }
            for attempt in lead.contact_attempts.filter(dealer=lead.dealer).select_related("staff")
        ],
        # Dealer staff see why the lead came to them; where else it has been is the OEM's business.
        "routing": [
            {
                "kind": decision.kind,
                "reason_code": decision.reason_code,
                "reason": decision.reason,
                "at": _iso(decision.decided_at),
            }
            for decision in lead.routing_decisions.order_by("decided_at", "id")
            if is_ops(user) or (decision.dealer_id is not None and decision.dealer_id == lead.dealer_id)
        ],
        "pending_defeat": defeat_review_out(pending) if pending is not None else None,
    }
