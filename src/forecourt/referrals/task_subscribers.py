"""The programme's subscribers (imported by the app's `ready()`): task results and honours from events.

- `test_drive.finished` → a test-drive result; `visit.checked_in` → a store-visit result (any check-in,
  a test drive's too); `referral.delivered` → a delivery result. Each is counted on the tasks the
  referral's broker accepted (services/tasks.py); the referral is found by the event's lead, else by the
  appointment's person.
- `commission.decided` (rejected) on a task's result → the task's money is given back.
- a referral moving, or a task result counted → the broker's badges are brought up to date.

Every handler is idempotent: results have an idempotency key per task and referral, badges are unique.
"""

from __future__ import annotations

from typing import Any

from forecourt.appointments.models import Appointment
from forecourt.core.events import subscriber
from forecourt.core.models import Event
from forecourt.dealers.models import Dealer
from forecourt.orders.models import Order
from forecourt.referrals.models import Broker, Referral, Stage, Task, TaskGoal
from forecourt.referrals.selectors import referral_for_lead
from forecourt.referrals.services.honours import badges_award
from forecourt.referrals.services.tasks import TaskResult, task_budget_settle, task_results_record


def _text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    return value if isinstance(value, str) else ""


def _referral_for_appointment(event: Event) -> Referral | None:
    payload = event.payload or {}
    referral = referral_for_lead(_text(payload, "lead_id"))
    if referral is not None:
        return referral
    # A booking that named no lead: the appointment's person's latest referral that still counts.
    person_id = (
        Appointment.objects.filter(public_id=event.subject_id).values_list("person_id", flat=True).first()
    )
    if person_id is None:
        return None
    referrals = Referral.objects.filter(person_id=person_id).exclude(stage=Stage.REJECTED)
    model_code = _text(payload, "model")
    if model_code and referrals.filter(model_code=model_code).exists():
        referrals = referrals.filter(model_code=model_code)
    return referrals.select_related("broker").order_by("-referred_at", "-id").first()


def _dealer_city_id(dealer_public_id: str) -> int | None:
    if not dealer_public_id:
        return None
    return Dealer.objects.filter(public_id=dealer_public_id).values_list("city_id", flat=True).first()


def _count_appointment(event: Event, goal: str) -> None:
    referral = _referral_for_appointment(event)
    if referral is None:
        return
    payload = event.payload or {}
    task_results_record(
        result=TaskResult(
            referral=referral,
            goal=goal,
            at=event.occurred_at,
            model_code=_text(payload, "model"),
            city_id=_dealer_city_id(_text(payload, "dealer")),
        )
    )


@subscriber("test_drive.finished", name="referrals.task_test_drive")
def on_test_drive_finished(event: Event) -> None:
    _count_appointment(event, TaskGoal.TEST_DRIVE)


@subscriber("visit.checked_in", name="referrals.task_store_visit")
def on_visit_checked_in(event: Event) -> None:
    _count_appointment(event, TaskGoal.STORE_VISIT)


@subscriber("referral.delivered", name="referrals.task_delivery")
def on_referral_delivered(event: Event) -> None:
    referral = Referral.objects.filter(public_id=event.subject_id).first()
    if referral is None:
        return
    # Where and what was delivered: the order's dealer and model (the referral's as a fallback).
    row = (
        Order.objects.filter(number=_text(event.payload or {}, "order"))
        .values("dealer__city_id", "trim__model__code")
        .first()
    )
    order: dict[str, Any] = dict(row) if row else {}
    task_results_record(
        result=TaskResult(
            referral=referral,
            goal=TaskGoal.DELIVERY,
            at=event.occurred_at,
            model_code=order.get("trim__model__code") or "",
            city_id=order.get("dealer__city_id"),
        )
    )


@subscriber("commission.decided", name="referrals.task_budget_on_decision")
def on_commission_decided(event: Event) -> None:
    payload = event.payload or {}
    task_id = _text(payload, "task")
    if not task_id or payload.get("approved"):
        return
    task = Task.objects.filter(public_id=task_id).first()
    if task is not None:
        task_budget_settle(task=task)


def _award_for(event: Event) -> None:
    code = _text(event.payload or {}, "broker_code")
    broker = Broker.objects.select_related("user").filter(code=code).first() if code else None
    if broker is not None:
        badges_award(broker=broker)


@subscriber("referral.created", name="referrals.honours_referred")
def on_referral_created(event: Event) -> None:
    _award_for(event)


@subscriber("referral.qualified", name="referrals.honours_qualified")
def on_referral_qualified(event: Event) -> None:
    _award_for(event)


@subscriber("referral.converted", name="referrals.honours_converted")
def on_referral_converted(event: Event) -> None:
    _award_for(event)


@subscriber("commission.created", name="referrals.honours_task_result")
def on_commission_created(event: Event) -> None:
    if _text(event.payload or {}, "task"):
        _award_for(event)
