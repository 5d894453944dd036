"""Writes at the store: check a visitor in by short code or QR, start and finish a test drive.

Every function takes the acting staff member and only ever finds appointments of that member's own
dealer: another dealer's appointment is "not found" (404), nothing changes and no event is recorded.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from forecourt.appointments.errors import AppointmentErrorCode
from forecourt.appointments.models import (
    LIVE_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    TestDriveLog,
)
from forecourt.appointments.qr import looks_like_qr_payload, qr_payload_read
from forecourt.appointments.services.booking import event_payload
from forecourt.core import clock
from forecourt.core.errors import DomainError, NotFound
from forecourt.core.events import event_record
from forecourt.core.identifiers import normalise_code
from forecourt.dealers.selectors import invalid_input

CAR_MAX_LENGTH = 40


def _require_staff(staff: Any) -> None:
    if staff is None or not getattr(staff, "is_dealer_staff", False) or staff.dealer_id is None:
        raise DomainError(
            AppointmentErrorCode.NOT_DEALER_STAFF, _("Only dealer staff can do this."), status=403
        )


def _not_found() -> NotFound:
    return NotFound(_("No such appointment at this store."))


def _find_for_check_in(*, text: str, staff: Any) -> Appointment:
    scope = Appointment.objects.filter(dealer_id=staff.dealer_id).select_related("slot", "dealer", "model")
    if looks_like_qr_payload(text):
        appointment_public_id, code = qr_payload_read(text)
        appointment = scope.filter(public_id=appointment_public_id, code=code).first()
    else:
        code = normalise_code(text)
        # A short code is unique only among live appointments, so only those are looked up by it.
        appointment = scope.filter(code=code, status__in=LIVE_STATUSES).first()
    if appointment is None:
        raise _not_found()
    return appointment


def appointment_check_in(*, code_or_payload: str, staff: Any) -> Appointment:
    """Check the visitor in, exactly once, by the short code they show or the QR payload scanned."""
    _require_staff(staff)
    text = str(code_or_payload or "").strip()
    if not text:
        raise invalid_input("code", _("Enter the appointment's code or scan its QR code."))
    appointment = _find_for_check_in(text=text, staff=staff)
    moment = clock.now()
    with transaction.atomic():
        # The conditional UPDATE is the guard: of two simultaneous scans exactly one moves the row.
        moved = Appointment.objects.filter(pk=appointment.pk, status=AppointmentStatus.BOOKED).update(
            status=AppointmentStatus.CHECKED_IN, checked_in_at=moment, checked_in_by=staff
        )
        appointment.refresh_from_db()
        if not moved:
            if appointment.checked_in_at is not None:
                raise DomainError(
                    AppointmentErrorCode.ALREADY_CHECKED_IN,
                    _("Already checked in at %(when)s by %(who)s.")
                    % {
                        "when": appointment.checked_in_at.astimezone(clock.SHANGHAI).strftime("%H:%M"),
                        "who": appointment.checked_in_by,
                    },
                    status=409,
                    details={
                        "checked_in_at": appointment.checked_in_at.astimezone(clock.SHANGHAI).isoformat(),
                        "checked_in_by": str(appointment.checked_in_by),
                    },
                )
            raise DomainError(
                AppointmentErrorCode.NOT_ALLOWED_IN_STATUS,
                _("This appointment is %(status)s and cannot be checked in.")
                % {"status": appointment.get_status_display()},
                status=409,
                details={"status": appointment.status},
            )
        minutes_early = int((appointment.slot.start - moment).total_seconds() // 60)
        event_record(
            "visit.checked_in",
            subject_type="appointment",
            subject_id=appointment.public_id,
            actor=staff,
            dealer_id=appointment.dealer_id,
            payload=event_payload(
                appointment,
                method="qr" if looks_like_qr_payload(text) else "code",
                minutes_before_start=minutes_early,
            ),
        )
    return appointment


def _advisor(*, advisor: Any, staff: Any) -> Any:
    if advisor is None:
        return staff
    if not getattr(advisor, "is_dealer_staff", False) or advisor.dealer_id != staff.dealer_id:
        raise invalid_input("advisor", _("Choose an advisor of this store."))
    return advisor


def _locked_for_staff(*, appointment_public_id: str, staff: Any) -> Appointment:
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .filter(public_id=appointment_public_id, dealer_id=staff.dealer_id)
        .select_related("slot", "dealer", "model")
        .first()
    )
    if appointment is None:
        raise _not_found()
    return appointment


def test_drive_start(
    *, appointment_public_id: str, staff: Any, car: str, advisor: Any = None
) -> TestDriveLog:
    """Log the start of a checked-in visitor's test drive: which car, which advisor, when."""
    _require_staff(staff)
    car = " ".join(str(car or "").split())
    if not car:
        raise invalid_input("car", _("Enter the car's VIN or demo-car label."))
    if len(car) > CAR_MAX_LENGTH:
        raise invalid_input("car", _("At most %(count)s characters.") % {"count": CAR_MAX_LENGTH})
    advisor = _advisor(advisor=advisor, staff=staff)
    with transaction.atomic():
        appointment = _locked_for_staff(appointment_public_id=appointment_public_id, staff=staff)
        if appointment.kind != AppointmentKind.TEST_DRIVE:
            raise DomainError(
                AppointmentErrorCode.NOT_A_TEST_DRIVE, _("This appointment is a store visit."), status=409
            )
        if TestDriveLog.objects.filter(appointment=appointment).exists():
            raise DomainError(
                AppointmentErrorCode.TEST_DRIVE_ALREADY_STARTED,
                _("This test drive has already started."),
                status=409,
            )
        if appointment.status != AppointmentStatus.CHECKED_IN:
            raise DomainError(
                AppointmentErrorCode.NOT_CHECKED_IN,
                _("Check the visitor in before the test drive starts."),
                status=409,
                details={"status": appointment.status},
            )
        try:
            # One test drive per appointment (OneToOne): the row lock above already serialises us.
            with transaction.atomic():
                log = TestDriveLog.objects.create(
                    appointment=appointment, car=car, advisor=advisor, started_at=clock.now()
                )
        except IntegrityError:
            raise DomainError(
                AppointmentErrorCode.TEST_DRIVE_ALREADY_STARTED,
                _("This test drive has already started."),
                status=409,
            ) from None
        event_record(
            "test_drive.started",
            subject_type="appointment",
            subject_id=appointment.public_id,
            actor=staff,
            dealer_id=appointment.dealer_id,
            payload=event_payload(appointment, car=car, advisor=_user_ref(advisor)),
        )
    return log


test_drive_start.__test__ = False  # type: ignore[attr-defined]  # a service, not a pytest test


def test_drive_finish(*, appointment_public_id: str, staff: Any) -> TestDriveLog:
    """Log the end of a test drive, derive its duration and complete the appointment."""
    _require_staff(staff)
    with transaction.atomic():
        appointment = _locked_for_staff(appointment_public_id=appointment_public_id, staff=staff)
        log = TestDriveLog.objects.select_for_update().filter(appointment=appointment).first()
        if log is None:
            raise DomainError(
                AppointmentErrorCode.TEST_DRIVE_NOT_STARTED, _("This test drive has not started."), status=409
            )
        if log.finished_at is not None:
            raise DomainError(
                AppointmentErrorCode.TEST_DRIVE_ALREADY_FINISHED,
                _("This test drive has already finished."),
                status=409,
            )
        moment = max(clock.now(), log.started_at)
        log.finished_at = moment
        log.duration_seconds = int((moment - log.started_at).total_seconds())
        log.save(update_fields=["finished_at", "duration_seconds"])
        if appointment.can_move_to(AppointmentStatus.COMPLETED):
            appointment.status = AppointmentStatus.COMPLETED
            appointment.save(update_fields=["status"])
        event_record(
            "test_drive.finished",
            subject_type="appointment",
            subject_id=appointment.public_id,
            actor=staff,
            dealer_id=appointment.dealer_id,
            payload=event_payload(
                appointment,
                car=log.car,
                advisor=_user_ref(log.advisor),
                duration_seconds=log.duration_seconds,
            ),
        )
    return log


test_drive_finish.__test__ = False  # type: ignore[attr-defined]


def _user_ref(user: Any) -> str:
    return str(getattr(user, "public_id", "") or user.pk)
