"""The event log: record inside the service's transaction, deliver to subscribers after commit.

Subscribers are registered by event name and run as background tasks (django.tasks). Each
(event, subscriber) pair has one EventDelivery row under a unique constraint, so a subscriber's
work is done once per event even when delivery is retried or raced.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.tasks import default_task_backend, task
from django.utils import timezone

from forecourt.core.clock import now
from forecourt.core.logging import log_context
from forecourt.core.models import Event, EventDelivery

logger = logging.getLogger(__name__)

Handler = Callable[[Event], None]
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Subscriber:
    name: str
    event_name: str
    handler: Handler


_subscribers: dict[str, list[Subscriber]] = {}


def subscriber(event_name: str, *, name: str) -> Callable[[Handler], Handler]:
    """Register `handler` for `event_name` under a stable `name` (the idempotency key with the event id)."""

    def register(handler: Handler) -> Handler:
        entries = _subscribers.setdefault(event_name, [])
        if not any(entry.name == name for entry in entries):
            entries.append(Subscriber(name=name, event_name=event_name, handler=handler))
        return handler

    return register


def subscribers_for(event_name: str) -> list[Subscriber]:
    return list(_subscribers.get(event_name, []))


def event_record(
    name: str,
    *,
    subject_type: str = "",
    subject_id: str = "",
    actor: Any = None,
    dealer_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Append an event in the caller's transaction; delivery to subscribers is queued for after commit."""
    event = Event.objects.create(
        name=name,
        occurred_at=now(),
        subject_type=subject_type,
        subject_id=subject_id,
        actor=actor if getattr(actor, "pk", None) else None,
        dealer_id=dealer_id,
        payload=payload or {},
    )
    if _subscribers.get(name):
        event_id = str(event.id)
        transaction.on_commit(lambda: _enqueue_delivery(event_id))
    return event


def _enqueue_delivery(event_id: str, delay: timedelta | None = None) -> None:
    try:
        if delay and default_task_backend.supports_defer:
            deliver_event.using(run_after=timezone.now() + delay).enqueue(event_id)
        elif delay is None:
            deliver_event.enqueue(event_id)
        # A retry with a backend that cannot defer (tests' immediate backend) waits for the sweeper.
    except Exception:
        # The event is committed; the sweeper (event_redeliver_pending) will deliver it later.
        logger.exception("could not enqueue event delivery", extra=log_context(event=event_id))


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


@task()
def deliver_event(event_id: str) -> dict[str, str]:
    """Run every subscriber of one event that has not yet handled it."""
    event = Event.objects.filter(id=event_id).first()
    if event is None:
        return {}
    outcome: dict[str, str] = {}
    retry = False
    for entry in subscribers_for(event.name):
        status = _deliver_one(event, entry)
        outcome[entry.name] = status
        retry = retry or status == EventDelivery.Status.FAILED
    if retry:
        attempts = (
            EventDelivery.objects.filter(event=event, status=EventDelivery.Status.FAILED)
            .order_by("-attempts")
            .values_list("attempts", flat=True)
            .first()
            or 1
        )
        _enqueue_delivery(event_id, delay=_backoff(attempts))
    return outcome


def _deliver_one(event: Event, entry: Subscriber) -> str:
    # Created concurrently by another worker: fine, the row lock below serialises us.
    with contextlib.suppress(IntegrityError):
        EventDelivery.objects.get_or_create(event=event, subscriber=entry.name)
    try:
        with transaction.atomic():
            delivery = EventDelivery.objects.select_for_update().get(event=event, subscriber=entry.name)
            if delivery.status in (EventDelivery.Status.DONE, EventDelivery.Status.DEAD):
                return delivery.status
            delivery.attempts += 1
            # The handler's writes and the "done" mark commit together: handled exactly once.
            with transaction.atomic():
                entry.handler(event)
            delivery.status = EventDelivery.Status.DONE
            delivery.done_at = now()
            delivery.last_error = ""
            delivery.next_attempt_at = None
            delivery.save(update_fields=["status", "done_at", "attempts", "last_error", "next_attempt_at"])
            return delivery.status
    except Exception:
        error = traceback.format_exc(limit=5)
        logger.warning(
            "subscriber failed",
            extra=log_context(event=str(event.id), subscriber=entry.name, name=event.name),
        )
        with transaction.atomic():
            delivery = EventDelivery.objects.select_for_update().get(event=event, subscriber=entry.name)
            delivery.attempts += 1
            gave_up = delivery.attempts >= MAX_ATTEMPTS
            delivery.status = EventDelivery.Status.DEAD if gave_up else EventDelivery.Status.FAILED
            delivery.last_error = error[-4000:]
            delivery.next_attempt_at = None if gave_up else now() + _backoff(delivery.attempts)
            delivery.save(update_fields=["status", "attempts", "last_error", "next_attempt_at"])
            return delivery.status


# The sweeper leaves a fresh event to the delivery task queued at commit, so the two do not race for it.
SWEEP_GRACE = timedelta(minutes=2)


def event_redeliver_pending(*, limit: int = 500) -> int:
    """Sweeper: deliver events whose subscribers have not all succeeded and whose retry time has come."""
    moment = now()
    due_ids = list(
        EventDelivery.objects.filter(status=EventDelivery.Status.FAILED, next_attempt_at__lte=moment)
        .values_list("event_id", flat=True)
        .distinct()[:limit]
    )
    # Events some subscriber never finished with: the process died between commit and enqueue, or in the
    # middle of a handler (its delivery row stays "pending"). Failed rows wait for their retry time above.
    settled = [EventDelivery.Status.DONE, EventDelivery.Status.DEAD, EventDelivery.Status.FAILED]
    for event_name in list(_subscribers):
        if len(due_ids) >= limit:
            break
        names = [entry.name for entry in subscribers_for(event_name)]
        unsettled = (
            Event.objects.filter(
                name=event_name,
                occurred_at__gte=moment - timedelta(days=7),
                occurred_at__lte=moment - SWEEP_GRACE,
            )
            .exclude(id__in=due_ids)
            .annotate(
                settled_count=Count(
                    "deliveries",
                    filter=Q(deliveries__subscriber__in=names, deliveries__status__in=settled),
                )
            )
            .filter(settled_count__lt=len(names))
            .order_by("occurred_at")
            .values_list("id", flat=True)[: limit - len(due_ids)]
        )
        due_ids.extend(unsettled)
    for event_id in due_ids:
        deliver_event.call(str(event_id))
    return len(due_ids)


def events_deliver_now(*, delivered: set[Any] | None = None) -> None:
    """Run at once the subscribers of the events recorded at this moment (the clock's now), and of the
    events those record, as the worker would after the commit: for demo data written with the clock set
    back, where no worker runs. `delivered` (events already run, kept by the caller) spares a second run
    when the same moment comes again."""
    done: set[Any] = set() if delivered is None else delivered
    moment = now()
    while pending := list(Event.objects.filter(occurred_at=moment).exclude(id__in=done).only("id", "name")):
        for event in pending:
            done.add(event.id)
            if subscribers_for(event.name):
                deliver_event.call(str(event.id))
