"""The appointments app's writes; import them from here (`forecourt.appointments.services`)."""

from forecourt.appointments.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_kind_parse,
    appointment_reschedule,
    booking_rate_limit_hit,
    dealer_for_kind,
    slot_get_or_create,
    slots_for_day,
)
from forecourt.appointments.services.store import appointment_check_in, test_drive_finish, test_drive_start
from forecourt.appointments.services.sweeps import appointment_no_shows_mark, appointment_reminders_send

__all__ = [
    "appointment_book",
    "appointment_cancel",
    "appointment_check_in",
    "appointment_kind_parse",
    "appointment_no_shows_mark",
    "appointment_reminders_send",
    "appointment_reschedule",
    "booking_rate_limit_hit",
    "dealer_for_kind",
    "slot_get_or_create",
    "slots_for_day",
    "test_drive_finish",
    "test_drive_start",
]
