"""Sweepers run by `manage.py appointments_sweep`: day-before reminders and marking no-shows.

Both are safe to run as often as wanted and from several processes at once: each appointment is
claimed by a conditional UPDATE, so a reminder goes out once and a no-show is recorded once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from forecourt.appointments.models import Appointment, AppointmentStatus
from forecourt.appointments.notifications import sms_after_commit
from forecourt.appointments.services.booking import event_payload
from forecourt.core import clock
from forecourt.core.events import event_record

# "The day before": the reminder goes out within the 24 hours before the start...
REMINDER_LEAD = timedelta(hours=24)
# ...but only if the slot was taken more than a day ahead; otherwise the confirmation is reminder enough.
# An appointment not checked in this long after its slot ended is a no-show.
NO_SHOW_GRACE = timedelta(hours=2)
BATCH = 500


def appointment_reminders_send(*, now: datetime | None = None) -> int:
    """Send each booked appointment's day-before reminder once; returns how many were sent."""
    moment = now or clock.now()
    due = (
        Appointment.objects.filter(
            status=AppointmentStatus.BOOKED,
            reminder_sent_at__isnull=True,
            slot__start__gt=moment,
            slot__start__lte=moment + REMINDER_LEAD,
            slot_taken_at__lte=F("slot__start") - REMINDER_LEAD,
        )
        .select_related("slot", "dealer", "person", "model")
        .order_by("slot__start")[:BATCH]
    )
    sent = 0
    for appointment in due:
        with transaction.atomic():
            # The claim: of two sweepers only one sees a row count of 1 and sends.
            claimed = Appointment.objects.filter(
                pk=appointment.pk, status=AppointmentStatus.BOOKED, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=moment)
            if claimed:
                sms_after_commit(appointment=appointment, purpose="appointment_reminder")
                sent += 1
    return sent


def appointment_no_shows_mark(*, now: datetime | None = None) -> int:
    """Mark booked appointments whose slot ended over NO_SHOW_GRACE ago as no-shows; returns how many."""
    moment = now or clock.now()
    overdue = (
        Appointment.objects.filter(status=AppointmentStatus.BOOKED, slot__end__lt=moment - NO_SHOW_GRACE)
        .select_related("slot", "dealer", "model")
        .order_by("slot__start")[:BATCH]
    )
    marked = 0
    for appointment in overdue:
        with transaction.atomic():
            moved = Appointment.objects.filter(pk=appointment.pk, status=AppointmentStatus.BOOKED).update(
                status=AppointmentStatus.NO_SHOW
            )
            if moved:
                event_record(
                    "appointment.no_show",
                    subject_type="appointment",
                    subject_id=appointment.public_id,
                    dealer_id=appointment.dealer_id,
                    payload=event_payload(appointment),
                )
                marked += 1
    return marked
