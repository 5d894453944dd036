"""Real concurrency on PostgreSQL: many connections racing for the last place of a slot."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection, connections

from forecourt.appointments.models import Appointment, AppointmentStatus, Slot
from forecourt.appointments.services import (
    appointment_book,
    appointment_check_in,
    appointment_reschedule,
)
from forecourt.core.errors import DomainError
from forecourt.core.models import Event

from .conftest import TUESDAY_10, TUESDAY_11

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: row locks and concurrent transactions (set DATABASE_URL=postgres://...)"
        )


def _race(count: int, work: Any) -> Counter[str]:
    """Run `work(index)` in `count` threads released together; count the outcomes by error code."""
    barrier = threading.Barrier(count)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(index)
            outcome = "ok"
        except DomainError as error:
            outcome = error.code
        except Exception as error:
            outcome = f"crash: {type(error).__name__}: {error}"
        finally:
            # Each thread has its own connection; close it so the test database can be dropped.
            connections.close_all()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_fifty_simultaneous_bookings_for_the_last_place_let_exactly_one_in(book, dealer, model):
    book(phone="13700000000")  # capacity 2: one place is left
    events_before = Event.objects.filter(name="appointment.booked").count()

    outcomes = _race(
        50,
        lambda index: appointment_book(
            dealer_public_id=dealer.public_id,
            kind="test_drive",
            start=TUESDAY_10,
            name=f"客户{index}",
            phone=f"1380000{index:04d}",
            model_code=model.code,
            share_with_dealer=True,
        ),
    )

    assert outcomes == Counter({"ok": 1, "slot_full": 49})
    slot = Slot.objects.get(dealer=dealer, kind="test_drive", start=TUESDAY_10)
    assert (slot.booked, slot.capacity) == (2, 2)
    assert Appointment.objects.filter(slot=slot, status=AppointmentStatus.BOOKED).count() == 2
    assert Event.objects.filter(name="appointment.booked").count() == events_before + 1


def test_simultaneous_reschedules_into_one_place_let_exactly_one_in(book, dealer):
    book(phone="13700000000", start=TUESDAY_11)  # TUESDAY_11 has one place left
    movers = [
        book(phone=f"1370000{index:04d}", start=TUESDAY_10.replace(hour=hour))
        for index, hour in enumerate([9, 12, 13, 14, 15, 16], start=1)
    ]

    outcomes = _race(6, lambda index: appointment_reschedule(appointment=movers[index], start=TUESDAY_11))

    assert outcomes == Counter({"ok": 1, "slot_full": 5})
    for slot in Slot.objects.filter(dealer=dealer):
        held = Appointment.objects.filter(slot=slot, status=AppointmentStatus.BOOKED).count()
        assert slot.booked == held


def test_crossing_reschedules_do_not_deadlock(book, dealer):
    """A→B and B→A at once: slots are locked in primary-key order, so both complete."""
    at_ten = book(phone="13700000001", start=TUESDAY_10)
    at_eleven = book(phone="13700000002", start=TUESDAY_11)
    pairs = [(at_ten, TUESDAY_11), (at_eleven, TUESDAY_10)]

    outcomes = _race(
        2, lambda index: appointment_reschedule(appointment=pairs[index][0], start=pairs[index][1])
    )

    assert outcomes == Counter({"ok": 2})
    ten = Slot.objects.get(dealer=dealer, kind="test_drive", start=TUESDAY_10)
    eleven = Slot.objects.get(dealer=dealer, kind="test_drive", start=TUESDAY_11)
    assert (ten.booked, eleven.booked) == (1, 1)
    assert Appointment.objects.get(pk=at_ten.pk).slot == eleven
    assert Appointment.objects.get(pk=at_eleven.pk).slot == ten


def test_two_simultaneous_scans_check_in_once(book, advisor, dealer):
    appointment = book()
    colleague = dealer.staff.exclude(pk=advisor.pk).filter(role="sales_advisor").first()
    staff = [advisor, colleague] * 5

    outcomes = _race(
        10, lambda index: appointment_check_in(code_or_payload=appointment.code, staff=staff[index])
    )

    assert outcomes == Counter({"ok": 1, "already_checked_in": 9})
    assert Event.objects.filter(name="visit.checked_in").count() == 1
