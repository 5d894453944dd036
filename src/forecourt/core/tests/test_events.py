import threading
import time
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from forecourt.core import clock
from forecourt.core.audit import audit_record
from forecourt.core.events import (
    MAX_ATTEMPTS,
    SWEEP_GRACE,
    deliver_event,
    event_record,
    event_redeliver_pending,
    subscriber,
    subscribers_for,
)
from forecourt.core.models import AuditEntry, Event, EventDelivery

pytestmark = pytest.mark.django_db
MORNING = datetime(2026, 11, 22, 9, 30)
Status = EventDelivery.Status


def _record_committed(on_commit, name="test.happened", **fields):
    with on_commit(execute=True), transaction.atomic():
        return event_record(name, subject_type="thing", subject_id="th_1", **fields)


def test_event_is_recorded_with_the_clock_time_and_fields(isolated_subscribers):
    with clock.frozen_at(MORNING):
        event = event_record(
            "lead.created",
            subject_type="lead",
            subject_id="ld_7K3M",
            dealer_id=42,
            payload={"channel": "web"},
        )
    stored = Event.objects.get()
    assert stored.id == event.id
    assert stored.name == "lead.created"
    assert stored.occurred_at.astimezone(clock.SHANGHAI).replace(tzinfo=None) == MORNING
    assert (stored.subject_type, stored.subject_id, stored.dealer_id) == ("lead", "ld_7K3M", 42)
    assert stored.payload == {"channel": "web"}
    assert stored.actor is None
    assert EventDelivery.objects.count() == 0


def test_subscriber_runs_only_after_commit(isolated_subscribers, on_commit):
    seen = []
    subscriber("test.happened", name="test.collect")(lambda event: seen.append(event.id))
    with on_commit(execute=True), transaction.atomic():
        event = event_record("test.happened", subject_type="thing", subject_id="th_1")
        assert seen == []
    assert seen == [event.id]
    delivery = EventDelivery.objects.get(event=event)
    assert (delivery.subscriber, delivery.status, delivery.attempts) == ("test.collect", Status.DONE, 1)
    assert delivery.done_at is not None


def test_nothing_is_recorded_or_delivered_when_the_transaction_rolls_back(isolated_subscribers, on_commit):
    seen = []
    subscriber("test.happened", name="test.collect")(lambda event: seen.append(event.id))
    with (
        on_commit(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        event_record("test.happened", subject_type="thing", subject_id="th_1")
        raise RuntimeError("the service failed after recording")
    assert callbacks == []
    assert seen == []
    assert Event.objects.count() == 0
    assert EventDelivery.objects.count() == 0


def test_event_without_subscribers_queues_no_delivery(isolated_subscribers, on_commit):
    with on_commit(execute=True) as callbacks, transaction.atomic():
        event_record("test.unheard", subject_type="thing", subject_id="th_1")
    assert callbacks == []
    assert Event.objects.count() == 1
    assert EventDelivery.objects.count() == 0


def test_registering_the_same_subscriber_twice_keeps_one(isolated_subscribers):
    def handler(event):
        return None

    subscriber("test.happened", name="test.once")(handler)
    subscriber("test.happened", name="test.once")(handler)
    assert [entry.name for entry in subscribers_for("test.happened")] == ["test.once"]


def test_subscriber_runs_once_when_delivery_is_repeated(isolated_subscribers, on_commit):
    calls = []
    subscriber("test.happened", name="test.count")(lambda event: calls.append(event.id))
    event = _record_committed(on_commit)
    assert deliver_event.call(str(event.id)) == {"test.count": Status.DONE}
    deliver_event.call(str(event.id))
    assert calls == [event.id]
    assert EventDelivery.objects.get(event=event).attempts == 1


def test_delivering_an_unknown_event_does_nothing(isolated_subscribers):
    assert deliver_event.call("00000000-0000-0000-0000-000000000000") == {}
    assert EventDelivery.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_subscriber_runs_once_when_deliveries_race(isolated_subscribers):
    calls = []
    calls_lock = threading.Lock()
    # Recorded before the subscriber exists, so no delivery is queued: the racers below are the only ones.
    event = event_record("test.raced", subject_type="thing", subject_id="th_1")

    def slow_handler(event):
        with calls_lock:
            calls.append(event.id)
        time.sleep(0.05)

    subscriber("test.raced", name="test.slow")(slow_handler)
    racers = 4
    barrier = threading.Barrier(racers)
    errors = []

    def deliver():
        try:
            barrier.wait(timeout=10)
            deliver_event.call(str(event.id))
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert calls == [event.id]
    delivery = EventDelivery.objects.get(event=event)
    assert (delivery.status, delivery.attempts) == (Status.DONE, 1)


def test_handler_writes_and_done_mark_commit_together(isolated_subscribers, on_commit):
    def writes_then_fails(event):
        audit_record(actor=None, action="test.side_effect", object_id=event.subject_id)
        raise RuntimeError("partner API down")

    subscriber("test.happened", name="test.writes_then_fails")(writes_then_fails)
    with clock.frozen_at(MORNING):
        event = _record_committed(on_commit)
    assert AuditEntry.objects.filter(action="test.side_effect").count() == 0
    assert EventDelivery.objects.get(event=event).status == Status.FAILED


def test_failed_subscriber_is_retried_after_its_backoff(isolated_subscribers, on_commit):
    calls = []

    def flaky(event):
        calls.append(clock.now())
        if len(calls) == 1:
            raise RuntimeError("partner API down")

    subscriber("test.happened", name="test.flaky")(flaky)
    with clock.frozen_at(MORNING):
        event = _record_committed(on_commit)
        delivery = EventDelivery.objects.get(event=event)
        assert (delivery.status, delivery.attempts) == (Status.FAILED, 1)
        assert delivery.next_attempt_at == clock.now() + timedelta(seconds=30)
        assert "partner API down" in delivery.last_error

        clock.advance(timedelta(seconds=29))
        assert event_redeliver_pending() == 0
        assert len(calls) == 1

        clock.advance(timedelta(seconds=1))
        assert event_redeliver_pending() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_error) == (Status.DONE, 2, "")
        assert delivery.next_attempt_at is None
        assert event_redeliver_pending() == 0
        assert len(calls) == 2


def test_failed_subscriber_gives_up_after_max_attempts(isolated_subscribers, on_commit):
    calls = []

    def always_fails(event):
        calls.append(1)
        raise RuntimeError("still down")

    subscriber("test.happened", name="test.broken")(always_fails)
    with clock.frozen_at(MORNING):
        event = _record_committed(on_commit)
        delivery = EventDelivery.objects.get(event=event)
        for attempt in range(2, MAX_ATTEMPTS + 1):
            # Exponential backoff from 30 s: 30, 60, 120, ... seconds after each failure.
            assert delivery.next_attempt_at is not None
            assert delivery.next_attempt_at - clock.now() == timedelta(seconds=30 * 2 ** (attempt - 2))
            clock.advance(delivery.next_attempt_at - clock.now())
            assert event_redeliver_pending() == 1
            delivery.refresh_from_db()
            assert delivery.attempts == attempt
        assert delivery.status == Status.DEAD
        assert delivery.next_attempt_at is None
        clock.advance(timedelta(days=1))
        assert event_redeliver_pending() == 0
    assert len(calls) == MAX_ATTEMPTS


def test_one_failing_subscriber_does_not_rerun_the_others(isolated_subscribers, on_commit):
    good_calls, bad_calls = [], []
    subscriber("test.happened", name="test.good")(lambda event: good_calls.append(1))

    def bad(event):
        bad_calls.append(1)
        if len(bad_calls) == 1:
            raise RuntimeError("once")

    subscriber("test.happened", name="test.bad")(bad)
    with clock.frozen_at(MORNING):
        event = _record_committed(on_commit)
        clock.advance(timedelta(seconds=30))
        assert event_redeliver_pending() == 1
    statuses = dict(EventDelivery.objects.filter(event=event).values_list("subscriber", "status"))
    assert statuses == {"test.good": Status.DONE, "test.bad": Status.DONE}
    assert (len(good_calls), len(bad_calls)) == (1, 2)


def test_sweeper_delivers_an_event_whose_delivery_was_never_queued(isolated_subscribers):
    calls = []
    with clock.frozen_at(MORNING):
        # No subscriber yet, so nothing is queued: as if the process died between commit and enqueue.
        event = event_record("test.lost", subject_type="thing", subject_id="th_1")
        subscriber("test.lost", name="test.late")(lambda event: calls.append(event.id))
        # A fresh event is left to the delivery task queued at commit.
        assert event_redeliver_pending() == 0
        clock.advance(SWEEP_GRACE)
        assert event_redeliver_pending() == 1
        assert event_redeliver_pending() == 0
    assert calls == [event.id]


def test_sweeper_redelivers_a_delivery_left_pending_by_a_crash(isolated_subscribers):
    calls = []
    with clock.frozen_at(MORNING):
        event = event_record("test.crashed", subject_type="thing", subject_id="th_1")
        subscriber("test.crashed", name="test.crash")(lambda event: calls.append(event.id))
        # The row a worker creates before running the handler; the worker died before finishing.
        EventDelivery.objects.create(event=event, subscriber="test.crash", status=Status.PENDING)
        clock.advance(SWEEP_GRACE)
        assert event_redeliver_pending() == 1
    assert calls == [event.id]
    assert EventDelivery.objects.get(event=event).status == Status.DONE


def test_sweeper_ignores_events_older_than_a_week(isolated_subscribers):
    with clock.frozen_at(MORNING):
        event_record("test.ancient", subject_type="thing", subject_id="th_1")
        subscriber("test.ancient", name="test.ancient")(lambda event: None)
        clock.advance(timedelta(days=8))
        assert event_redeliver_pending() == 0
    assert EventDelivery.objects.count() == 0


def test_sweep_command_reports_what_it_did(isolated_subscribers, capsys):
    with clock.frozen_at(MORNING):
        event_record("test.lost", subject_type="thing", subject_id="th_1")
        subscriber("test.lost", name="test.late")(lambda event: None)
        clock.advance(SWEEP_GRACE)
        call_command("sweep")
    assert capsys.readouterr().out == "Redelivered 1 event(s); purged 0 idempotency record(s).\n"
    assert EventDelivery.objects.get().status == Status.DONE
