"""Reacting to other apps' events: leads credit brokers, store visits qualify referrals, orders sell them.

Each handler runs once per event (core.events keeps a delivery row per event and subscriber) and is
idempotent by itself too (one referral per lead, stages only move forward under a row lock, one
commission per idempotency key). Payloads are read defensively: a malformed one does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from forecourt.accounts.models import User
from forecourt.appointments.selectors import appointments_of_person
from forecourt.core.events import subscriber
from forecourt.core.logging import log_context
from forecourt.core.models import Event
from forecourt.orders.models import OrderStatus
from forecourt.orders.selectors import orders_for_buyer
from forecourt.referrals.services.attribution import referral_attribute
from forecourt.referrals.services.stages import (
    referral_deliver,
    referral_lose,
    referral_order,
    referral_qualify,
)

logger = logging.getLogger(__name__)


def _text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    return value if isinstance(value, str) else ""


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _attribute(event: Event, *, new_lead: bool) -> None:
    payload = event.payload or {}
    code = _text(payload, "broker_code")
    if not code:
        return
    referral_attribute(
        lead_public_id=_text(payload, "lead_id") or event.subject_id,
        person_public_id=_text(payload, "person"),
        broker_code=code,
        clicked_at=_moment(payload.get("broker_clicked_at")),
        at=event.occurred_at,
        model_code=_text(payload, "model"),
        campaign=_text(payload, "campaign"),
        city_code=_text(payload, "city") or None,
        device=_text(payload, "device"),
        ip=_text(payload, "ip") or None,
        new_lead=new_lead,
    )


@subscriber("lead.created", name="referrals.attribute_new_lead")
def on_lead_created(event: Event) -> None:
    _attribute(event, new_lead=True)


@subscriber("lead.touchpoint_added", name="referrals.attribute_touchpoint")
def on_lead_touchpoint(event: Event) -> None:
    _attribute(event, new_lead=False)


def _qualify(event: Event) -> None:
    payload = event.payload or {}
    person = ""
    lead_id = _text(payload, "lead_id")
    if not lead_id:
        # A booking without a lead: the appointment's person is the one who visited.
        appointment = appointments_of_person(public_ids=[event.subject_id]).select_related("person").first()
        person = appointment.person.public_id if appointment is not None else ""
    referral_qualify(
        lead_public_id=lead_id,
        person_public_id=person,
        model_code=_text(payload, "model"),
        cause=event.name,
    )


@subscriber("visit.checked_in", name="referrals.qualify_on_check_in")
def on_visit_checked_in(event: Event) -> None:
    _qualify(event)


@subscriber("test_drive.finished", name="referrals.qualify_on_test_drive")
def on_test_drive_finished(event: Event) -> None:
    _qualify(event)


def _order_facts(event: Event) -> tuple[str, str, str, datetime] | None:
    """(order number, buyer public id, model code, ordered at) of the event's order, read through the
    buyer's own scope; None when the order or buyer is unknown."""
    payload = event.payload or {}
    number = _text(payload, "order") or event.subject_id
    buyer = (
        User.objects.filter(public_id=_text(payload, "buyer")).first() if _text(payload, "buyer") else None
    )
    if not number or buyer is None:
        return None
    order = orders_for_buyer(buyer=buyer).filter(number=number).first()
    if order is None:
        logger.warning("order event names an unknown order", extra=log_context(order=number, name=event.name))
        return None
    return order.number, buyer.public_id, order.trim.model.code, order.created_at


@subscriber("order.created", name="referrals.order_created")
def on_order_created(event: Event) -> None:
    facts = _order_facts(event)
    if facts is not None:
        number, buyer, model, ordered_at = facts
        referral_order(order_number=number, buyer_public_id=buyer, model_code=model, ordered_at=ordered_at)


@subscriber("order.delivered", name="referrals.order_delivered")
def on_order_delivered(event: Event) -> None:
    facts = _order_facts(event)
    if facts is not None:
        number, buyer, model, ordered_at = facts
        referral_deliver(order_number=number, buyer_public_id=buyer, model_code=model, ordered_at=ordered_at)


@subscriber("order.cancelled", name="referrals.order_cancelled")
def on_order_cancelled(event: Event) -> None:
    number = _text(event.payload or {}, "order") or event.subject_id
    if number:
        referral_lose(order_number=number, reason="cancelled")


@subscriber("order.refunded", name="referrals.order_refunded")
def on_order_refunded(event: Event) -> None:
    """Money given back on a delivered car is a return: the sale is undone."""
    payload = event.payload or {}
    applied = payload.get("applied_fen")
    if payload.get("status") != OrderStatus.DELIVERED or not isinstance(applied, int) or applied <= 0:
        return
    number = _text(payload, "order") or event.subject_id
    if number:
        referral_lose(order_number=number, reason="returned")
