"""Points from domain events: each handler reads one event and calls one earning service.

Handlers run once per (event, subscriber) after the recording transaction commits (core.events), and each
service is keyed by its cause as well, so a redelivered event changes nothing. An event about someone who
is not a member (staff, an unknown id) earns nothing.
"""

from __future__ import annotations

from typing import Any

from forecourt.accounts.selectors import user_get_by_public_id
from forecourt.appointments.models import Appointment
from forecourt.core.events import subscriber
from forecourt.core.models import Event
from forecourt.loyalty.models import EarnSource
from forecourt.loyalty.services.earning import (
    activity_points_earn,
    late_delivery_credit,
    purchase_points_earn,
    purchase_points_reverse,
    referral_points_earn,
    referral_points_reverse,
)


def _payload(event: Event) -> dict[str, Any]:
    return event.payload if isinstance(event.payload, dict) else {}


def _text(value: Any, limit: int = 64) -> str:
    return str(value)[:limit] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _user(public_id: Any) -> Any:
    text = _text(public_id)
    return user_get_by_public_id(public_id=text) if text else None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _order_number(event: Event) -> str:
    return _text(_payload(event).get("order")) or (event.subject_id if event.subject_type == "order" else "")


@subscriber("order.delivered", name="loyalty.purchase_earn")
def on_order_delivered(event: Event) -> None:
    payload = _payload(event)
    purchase_points_earn(
        buyer=_user(payload.get("buyer")),
        order_number=_order_number(event),
        total_fen=_int(payload.get("total_fen")),
        source_event=str(event.id),
    )


@subscriber("order.cancelled", name="loyalty.purchase_reverse_on_cancel")
def on_order_cancelled(event: Event) -> None:
    purchase_points_reverse(order_number=_order_number(event), returned=False, source_event=str(event.id))


@subscriber("order.refunded", name="loyalty.purchase_reverse_on_return")
def on_order_refunded(event: Event) -> None:
    payload = _payload(event)
    # Money given back on a delivered order is a return; a refund before delivery (an overpayment, a
    # cancellation's refund) leaves the points alone — there are none yet, or the cancellation took them.
    if payload.get("status") != "delivered" or _int(payload.get("applied_fen")) <= 0:
        return
    purchase_points_reverse(order_number=_order_number(event), returned=True, source_event=str(event.id))


@subscriber("order.delivery_late", name="loyalty.late_delivery_credit")
def on_order_delivery_late(event: Event) -> None:
    payload = _payload(event)
    late_delivery_credit(
        user=_user(payload.get("buyer")),
        order_number=_order_number(event),
        day=_text(payload.get("day"), 10),
        points=_int(payload.get("points")),
        source_event=str(event.id),
    )


def _appointment_person(event: Event) -> tuple[Any, str]:
    appointment_id = _text(_payload(event).get("appointment_id")) or event.subject_id
    appointment = Appointment.objects.filter(public_id=appointment_id).select_related("person").first()
    return (appointment.person if appointment is not None else None), appointment_id


@subscriber("test_drive.finished", name="loyalty.test_drive_earn")
def on_test_drive_finished(event: Event) -> None:
    person, appointment_id = _appointment_person(event)
    activity_points_earn(
        person=person, source=EarnSource.TEST_DRIVE, ref=appointment_id, source_event=str(event.id)
    )


@subscriber("visit.checked_in", name="loyalty.check_in_earn")
def on_visit_checked_in(event: Event) -> None:
    person, appointment_id = _appointment_person(event)
    activity_points_earn(
        person=person, source=EarnSource.CHECK_IN, ref=appointment_id, source_event=str(event.id)
    )


@subscriber("community.contribution", name="loyalty.community_earn")
def on_community_contribution(event: Event) -> None:
    payload = _payload(event)
    ref = _text(payload.get("contribution")) or event.subject_id or str(event.id)
    activity_points_earn(
        person=_user(payload.get("member")),
        source=EarnSource.COMMUNITY,
        ref=ref[:64],
        source_event=str(event.id),
        note=_text(payload.get("title"), 200),
    )


def _referral_id(event: Event) -> str:
    return _text(_payload(event).get("referral")) or (
        event.subject_id if event.subject_type == "referral" else ""
    )


@subscriber("referral.converted", name="loyalty.referral_earn")
def on_referral_converted(event: Event) -> None:
    referral_points_earn(
        broker=_user(_payload(event).get("broker")),
        referral_public_id=_referral_id(event),
        source_event=str(event.id),
    )


@subscriber("commission.clawed_back", name="loyalty.referral_reverse_on_clawback")
def on_commission_clawed_back(event: Event) -> None:
    # Only the sale's clawback undoes the "successful referral": a lead commission's does not.
    kind = _payload(event).get("kind")
    if kind not in (None, "cps"):
        return
    referral = _referral_id(event)
    if referral:
        referral_points_reverse(referral_public_id=referral, source_event=str(event.id))


@subscriber("referral.rejected", name="loyalty.referral_reverse_on_rejection")
def on_referral_rejected(event: Event) -> None:
    referral = _referral_id(event)
    if referral:
        referral_points_reverse(referral_public_id=referral, source_event=str(event.id))
