"""The events the referrals app records, in one shape: subject "referral" (its public id), and a payload
that always names the referral, the broker (user public id and code), the person and the lead.

Programme (tasks, honours) and loyalty (points for a successful referral) react to these.
"""

from __future__ import annotations

from typing import Any

from forecourt.core.events import event_record
from forecourt.core.models import Event
from forecourt.referrals.models import Commission, Referral


def referral_is_flagged(referral: Referral) -> bool:
    """A fraud flag ops have not cleared: the referral's new commissions are held."""
    return any(not flag.get("cleared") for flag in referral.flags or [])


def referral_payload(referral: Referral) -> dict[str, Any]:
    broker = referral.broker
    return {
        "referral": referral.public_id,
        "broker": broker.user.public_id,
        "broker_code": broker.code,
        "person": referral.person.public_id,
        "lead_id": referral.lead_public_id,
        "model": referral.model_code,
        "city": referral.city.code if referral.city_id and referral.city else None,
        "campaign": referral.campaign,
        "stage": referral.stage,
        "flagged": referral_is_flagged(referral),
    }


def referral_event(name: str, referral: Referral, *, actor: Any = None, **extra: Any) -> Event:
    """Record `referral.<something>` in the caller's transaction."""
    return event_record(
        name,
        subject_type="referral",
        subject_id=referral.public_id,
        actor=actor,
        payload={**referral_payload(referral), **extra},
    )


def commission_event(name: str, commission: Commission, *, actor: Any = None, **extra: Any) -> Event:
    """Record `commission.<something>` under the commission's referral, in the caller's transaction."""
    referral = commission.referral
    return event_record(
        name,
        subject_type="referral",
        subject_id=referral.public_id,
        actor=actor,
        payload={
            **referral_payload(referral),
            "commission": commission.public_id,
            "kind": commission.kind,
            "task": commission.task.public_id if commission.task_id and commission.task else None,
            "amount_fen": commission.amount_fen,
            "status": commission.status,
            **extra,
        },
    )
