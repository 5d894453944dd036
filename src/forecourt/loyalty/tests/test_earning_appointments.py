"""Points for showing up: a store check-in and a finished test drive (the appointments app's own services)
each earn their rule's points for the person who booked, once per appointment."""

from __future__ import annotations

from datetime import datetime

import pytest

from forecourt.appointments.services import appointment_check_in, test_drive_finish, test_drive_start
from forecourt.appointments.tests.conftest import *  # noqa: F403 (the appointments cast: fixtures by name)
from forecourt.appointments.tests.conftest import _fresh_cache  # noqa: F401 (autouse)
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.loyalty.models import PointsEntry
from forecourt.loyalty.selectors import member_of
from forecourt.loyalty.services import points_state

from .members_cast import club_rules, committed

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(db):
    return club_rules()


def test_a_check_in_and_a_finished_test_drive_each_earn_once(book, advisor, rules):
    appointment = book()
    with committed():
        appointment_check_in(code_or_payload=appointment.code, staff=advisor)
    with clock.frozen_at(datetime(2026, 11, 24, 10, 2, tzinfo=SHANGHAI)), committed():
        test_drive_start(appointment_public_id=appointment.public_id, staff=advisor, car="LFV2A21K8M3000001")
    with clock.frozen_at(datetime(2026, 11, 24, 10, 40, tzinfo=SHANGHAI)), committed():
        test_drive_finish(appointment_public_id=appointment.public_id, staff=advisor)
    member = member_of(appointment.person)
    assert member is not None
    earned = list(PointsEntry.objects.filter(member=member).values_list("reason", "points", "source_ref"))
    assert earned == [("check_in", 100, appointment.public_id), ("test_drive", 200, appointment.public_id)]
    assert points_state(member, datetime(2026, 11, 24, 11, 0, tzinfo=SHANGHAI)).spendable == 300


def test_the_staff_member_checking_in_earns_nothing(book, advisor, rules):
    appointment = book()
    with committed():
        appointment_check_in(code_or_payload=appointment.code, staff=advisor)
    assert member_of(advisor) is None
    assert PointsEntry.objects.count() == 1
