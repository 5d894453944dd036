"""The demo data: every status, many dealers, a busy today at the first dealer, exact slot counters.

One test, because seeding the network takes a few seconds."""

import random

import pytest

from forecourt.accounts import demo_data as accounts_demo
from forecourt.appointments import demo_data
from forecourt.appointments.models import (
    PLACE_HOLDING_STATUSES,
    Appointment,
    AppointmentStatus,
    Slot,
    TestDriveLog,
)
from forecourt.appointments.selectors import appointments_on_day
from forecourt.catalog import demo_data as catalog_demo
from forecourt.core import clock
from forecourt.dealers import demo_data as dealers_demo
from forecourt.dealers.models import Dealer

from .conftest import MONDAY_8

pytestmark = pytest.mark.django_db


def test_demo_appointments_look_alive_and_keep_the_invariants():
    rng = random.Random(7)
    with clock.frozen_at(MONDAY_8.replace(hour=15)):
        for module in (dealers_demo, catalog_demo, accounts_demo, demo_data):
            module.seed(rng=rng)
        first = Dealer.objects.order_by("id").first()
        assert first is not None
        today = appointments_on_day(staff=first.staff.get(username="demo-sales"))

    assert set(Appointment.objects.values_list("status", flat=True)) == set(AppointmentStatus.values)
    assert Appointment.objects.values("dealer").distinct().count() >= 30
    assert TestDriveLog.objects.filter(finished_at__isnull=False).count() >= 10
    assert max(Dealer.objects.all(), key=lambda dealer: dealer.appointments.count()) == first
    assert len(today) >= 5
    for slot in Slot.objects.all():
        held = Appointment.objects.filter(slot=slot, status__in=PLACE_HOLDING_STATUSES).count()
        assert slot.booked == held <= slot.capacity
    for appointment in Appointment.objects.filter(status__in=["checked_in", "completed"]):
        assert appointment.checked_in_by is not None
        assert appointment.checked_in_by.dealer_id == appointment.dealer_id

    count = Appointment.objects.count()
    demo_data.seed(rng=random.Random(1))
    assert Appointment.objects.count() == count
