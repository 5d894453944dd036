"""The appointment app's error codes; services raise core's DomainError with one of these."""

from enum import StrEnum


class AppointmentErrorCode(StrEnum):
    SLOT_FULL = "slot_full"
    SLOT_IN_PAST = "slot_in_past"
    NOT_A_SLOT = "not_a_slot"
    OUTSIDE_BOOKING_WINDOW = "outside_booking_window"
    KIND_NOT_OFFERED = "kind_not_offered"
    SAME_SLOT = "same_slot"
    NOT_ALLOWED_IN_STATUS = "not_allowed_in_status"
    ALREADY_CHECKED_IN = "already_checked_in"
    INVALID_QR = "invalid_qr"
    NOT_CHECKED_IN = "not_checked_in"
    NOT_A_TEST_DRIVE = "not_a_test_drive"
    TEST_DRIVE_ALREADY_STARTED = "test_drive_already_started"
    TEST_DRIVE_NOT_STARTED = "test_drive_not_started"
    TEST_DRIVE_ALREADY_FINISHED = "test_drive_already_finished"
    NOT_DEALER_STAFF = "not_dealer_staff"
