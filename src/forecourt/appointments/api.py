"""Appointments API: slots of a dealer, booking, the consumer's own appointments, the dealer workspace.

Routers (mounted in config/api.py):
- `slots_router` at /dealers: `GET /dealers/{id}/slots?date=YYYY-MM-DD&kind=test_drive|visit`.
  A past date (or one beyond the 30-day booking window, or a closed day) answers 200 with `[]`;
  today lists only the slots that have not started. Times are ISO 8601 in Shanghai time (+08:00).
- `router` at /appointments: `POST /appointments` (public) → 201 `{"id","code","qr","qr_svg_url",...}`.
  `qr` is the signed payload the QR code encodes (an app may render it itself); `qr_svg_url` is the
  QR image for the signed-in owner. A full slot → 409 `slot_full`. The signed-in consumer's own
  appointments: `GET /appointments/mine`, `GET /appointments/{id}`, `POST .../reschedule`, `POST .../cancel`.
- `workspace_router` at /workspace: dealer staff only, scoped to their own dealer (another dealer's
  ids → 404, nothing changes): the day's appointments, check-in by code or QR payload, test-drive
  start and finish, reschedule and cancel.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Header, Router, Schema
from pydantic import Field, StrictBool

from forecourt.accounts.auth import api_auth, api_auth_optional
from forecourt.accounts.selectors import user_get_by_public_id
from forecourt.appointments.models import Appointment, AppointmentKind
from forecourt.appointments.qr import qr_payload
from forecourt.appointments.selectors import (
    appointment_of_dealer,
    appointment_of_person,
    appointments_of_person,
    appointments_on_day,
)
from forecourt.appointments.services import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_kind_parse,
    appointment_reschedule,
    booking_rate_limit_hit,
    dealer_for_kind,
    slots_for_day,
    test_drive_finish,
    test_drive_start,
)
from forecourt.core import clock
from forecourt.core.errors import CoreErrorCode, DomainError
from forecourt.core.idempotency import idempotent_call
from forecourt.core.middleware import client_ip
from forecourt.dealers.selectors import invalid_input

slots_router = Router(tags=["appointments"])
router = Router(tags=["appointments"])
workspace_router = Router(tags=["dealer workspace"])

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- schemas -------------------------------------------------------------------------------------


class SlotOut(Schema):
    start: str = Field(description="ISO 8601, Shanghai time, e.g. 2026-05-01T10:00:00+08:00")
    end: str
    remaining: int


class ConsentIn(Schema):
    share_with_dealer: StrictBool


class BookingIn(Schema):
    dealer: str = Field(max_length=40)
    kind: str = Field(max_length=20)
    start: datetime
    name: str = Field(max_length=120)
    phone: str = Field(max_length=32)
    model: str | None = Field(default=None, max_length=40)
    consent: ConsentIn


class DealerRefOut(Schema):
    id: str
    name: str
    address: str


class BookingOut(Schema):
    id: str
    code: str
    qr: str = Field(description="The signed payload encoded in the QR code.")
    qr_svg_url: str
    status: str
    kind: str
    start: str
    end: str
    dealer: DealerRefOut
    model: str | None
    lead_id: str


class AppointmentOut(BookingOut):
    status_label: str
    checked_in_at: str | None


class RescheduleIn(Schema):
    start: datetime


class CancelIn(Schema):
    reason: str = Field(default="", max_length=200)


class TestDriveOut(Schema):
    car: str
    advisor: str
    started_at: str
    finished_at: str | None
    duration_seconds: int | None


class StaffAppointmentOut(Schema):
    id: str
    kind: str
    status: str
    status_label: str
    start: str
    end: str
    name: str
    phone: str = Field(description="Masked, e.g. 138****8000.")
    model: str | None
    lead_id: str
    checked_in_at: str | None
    checked_in_by: str | None
    test_drive: TestDriveOut | None


class CheckInIn(Schema):
    code: str | None = Field(default=None, max_length=20)
    payload: str | None = Field(default=None, max_length=300)


class TestDriveStartIn(Schema):
    car: str = Field(max_length=60)
    advisor: str | None = Field(default=None, max_length=40, description="A staff member's user id.")


# --- shapes ------------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(clock.SHANGHAI).isoformat() if moment else None


def _booking_out(appointment: Appointment) -> dict[str, Any]:
    return {
        "id": appointment.public_id,
        "code": appointment.code,
        "qr": qr_payload(public_id=appointment.public_id, code=appointment.code),
        "qr_svg_url": reverse("appointments:qr", args=[appointment.public_id]),
        "status": appointment.status,
        "kind": appointment.kind,
        "start": _iso(appointment.slot.start),
        "end": _iso(appointment.slot.end),
        "dealer": {
            "id": appointment.dealer.public_id,
            "name": appointment.dealer.name,
            "address": appointment.dealer.address,
        },
        "model": appointment.model.code if appointment.model is not None else None,
        "lead_id": appointment.lead_id,
    }


def _appointment_out(appointment: Appointment) -> dict[str, Any]:
    return {
        **_booking_out(appointment),
        "status_label": str(appointment.get_status_display()),
        "checked_in_at": _iso(appointment.checked_in_at),
    }


def staff_appointment_out(appointment: Appointment) -> dict[str, Any]:
    log = getattr(appointment, "test_drive", None)
    return {
        "id": appointment.public_id,
        "kind": appointment.kind,
        "status": appointment.status,
        "status_label": str(appointment.get_status_display()),
        "start": _iso(appointment.slot.start),
        "end": _iso(appointment.slot.end),
        "name": appointment.name,
        "phone": appointment.person.masked_phone,
        "model": appointment.model.code if appointment.model is not None else None,
        "lead_id": appointment.lead_id,
        "checked_in_at": _iso(appointment.checked_in_at),
        "checked_in_by": str(appointment.checked_in_by) if appointment.checked_in_by_id else None,
        "test_drive": None
        if log is None
        else {
            "car": log.car,
            "advisor": str(log.advisor),
            "started_at": _iso(log.started_at),
            "finished_at": _iso(log.finished_at),
            "duration_seconds": log.duration_seconds,
        },
    }


def _auth(request: HttpRequest) -> Any:
    """The user Ninja's auth put on the request (`request.auth`)."""
    return request.auth  # type: ignore[attr-defined]


def parse_day(raw: str | None, *, field: str = "date") -> date:
    """A YYYY-MM-DD date, or a 422 naming the field."""
    if not raw:
        raise invalid_input(field, _("Give a date as YYYY-MM-DD."))
    try:
        if not _DATE.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise invalid_input(field, _("Give a date as YYYY-MM-DD.")) from None


def _staff(request: HttpRequest) -> Any:
    user = _auth(request)
    if not getattr(user, "is_dealer_staff", False) or user.dealer_id is None:
        raise DomainError(CoreErrorCode.FORBIDDEN, _("Only dealer staff can use the workspace."), status=403)
    return user


# --- slots -------------------------------------------------------------------------------------


@slots_router.get("/{dealer_id}/slots", response=list[SlotOut], summary="Bookable slots of a dealer on a day")
def list_slots(request: HttpRequest, dealer_id: str, date: str | None = None, kind: str | None = None) -> Any:
    """Slots with places left on one day. Past days, closed days and days beyond the booking window → `[]`."""
    day = parse_day(date)
    if kind is None:
        raise invalid_input("kind", _("Choose test_drive or visit."), allowed=list(AppointmentKind.values))
    kind = appointment_kind_parse(kind)
    dealer = dealer_for_kind(dealer_public_id=dealer_id, kind=kind)
    return [
        {"start": _iso(slot.start), "end": _iso(slot.end), "remaining": slot.remaining}
        for slot in slots_for_day(dealer=dealer, kind=kind, day=day)
    ]


# --- booking and the consumer's own appointments -------------------------------------------------


@router.post("", response={201: BookingOut}, auth=api_auth_optional, summary="Book a test drive or a visit")
def book(
    request: HttpRequest,
    payload: BookingIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Any:
    """Public. Optional `Idempotency-Key` header: a retry with the same key and body gets the first answer."""
    booking_rate_limit_hit(ip=client_ip(request), phone=payload.phone)
    user = _auth(request)
    actor = user if getattr(user, "is_authenticated", False) else None

    def perform() -> tuple[int, Any]:
        appointment = appointment_book(
            dealer_public_id=payload.dealer,
            kind=payload.kind,
            start=payload.start,
            name=payload.name,
            phone=payload.phone,
            model_code=payload.model,
            share_with_dealer=payload.consent.share_with_dealer,
            channel="api",
            actor=actor,
        )
        return 201, _booking_out(appointment)

    if idempotency_key is None:
        return perform()
    return idempotent_call(
        scope="appointment_book", key=idempotency_key, body=payload.model_dump(mode="json"), perform=perform
    )


@router.get("/mine", response=list[AppointmentOut], auth=api_auth, summary="My appointments")
def my_appointments(request: HttpRequest) -> Any:
    appointments = appointments_of_person(user=_auth(request)).order_by("-slot__start")[:100]
    return [_appointment_out(appointment) for appointment in appointments]


@router.get("/{appointment_id}", response=AppointmentOut, auth=api_auth, summary="One of my appointments")
def my_appointment(request: HttpRequest, appointment_id: str) -> Any:
    return _appointment_out(appointment_of_person(user=_auth(request), public_id=appointment_id))


@router.post(
    "/{appointment_id}/reschedule", response=AppointmentOut, auth=api_auth, summary="Move my appointment"
)
def my_reschedule(request: HttpRequest, appointment_id: str, payload: RescheduleIn) -> Any:
    appointment = appointment_of_person(user=_auth(request), public_id=appointment_id)
    moved = appointment_reschedule(appointment=appointment, start=payload.start, actor=_auth(request))
    return _appointment_out(moved)


@router.post(
    "/{appointment_id}/cancel", response=AppointmentOut, auth=api_auth, summary="Cancel my appointment"
)
def my_cancel(request: HttpRequest, appointment_id: str, payload: CancelIn | None = None) -> Any:
    appointment = appointment_of_person(user=_auth(request), public_id=appointment_id)
    cancelled = appointment_cancel(
        appointment=appointment,
        actor=_auth(request),
        reason=payload.reason if payload else "",
    )
    return _appointment_out(cancelled)


# --- the dealer workspace ----------------------------------------------------------------------


@workspace_router.get(
    "/appointments", response=list[StaffAppointmentOut], auth=api_auth, summary="The day's appointments"
)
def workspace_appointments(request: HttpRequest, date: str | None = None) -> Any:
    """`date` (YYYY-MM-DD) defaults to today (Shanghai)."""
    staff = _staff(request)
    return [
        staff_appointment_out(item)
        for item in appointments_on_day(staff=staff, day=parse_day(date) if date else None)
    ]


@workspace_router.get("/appointments/{appointment_id}", response=StaffAppointmentOut, auth=api_auth)
def workspace_appointment(request: HttpRequest, appointment_id: str) -> Any:
    return staff_appointment_out(appointment_of_dealer(staff=_staff(request), public_id=appointment_id))


@workspace_router.post("/check-in", response=StaffAppointmentOut, auth=api_auth, summary="Check a visitor in")
def workspace_check_in(request: HttpRequest, payload: CheckInIn) -> Any:
    """Give exactly one of `code` (typed short code) or `payload` (the scanned QR string)."""
    staff = _staff(request)
    if bool(payload.code) == bool(payload.payload):
        raise invalid_input("code", _("Give either the short code or the scanned QR payload."))
    appointment = appointment_check_in(code_or_payload=payload.code or payload.payload or "", staff=staff)
    return staff_appointment_out(appointment_of_dealer(staff=staff, public_id=appointment.public_id))


@workspace_router.post(
    "/appointments/{appointment_id}/test-drive/start", response=StaffAppointmentOut, auth=api_auth
)
def workspace_test_drive_start(request: HttpRequest, appointment_id: str, payload: TestDriveStartIn) -> Any:
    staff = _staff(request)
    advisor = None
    if payload.advisor:
        advisor = user_get_by_public_id(public_id=payload.advisor)
        if advisor is None:
            raise invalid_input("advisor", _("Choose an advisor of this store."))
    test_drive_start(appointment_public_id=appointment_id, staff=staff, car=payload.car, advisor=advisor)
    return staff_appointment_out(appointment_of_dealer(staff=staff, public_id=appointment_id))


@workspace_router.post(
    "/appointments/{appointment_id}/test-drive/finish", response=StaffAppointmentOut, auth=api_auth
)
def workspace_test_drive_finish(request: HttpRequest, appointment_id: str) -> Any:
    staff = _staff(request)
    test_drive_finish(appointment_public_id=appointment_id, staff=staff)
    return staff_appointment_out(appointment_of_dealer(staff=staff, public_id=appointment_id))


@workspace_router.post(
    "/appointments/{appointment_id}/reschedule", response=StaffAppointmentOut, auth=api_auth
)
def workspace_reschedule(request: HttpRequest, appointment_id: str, payload: RescheduleIn) -> Any:
    staff = _staff(request)
    appointment = appointment_of_dealer(staff=staff, public_id=appointment_id)
    appointment_reschedule(appointment=appointment, start=payload.start, actor=staff)
    return staff_appointment_out(appointment_of_dealer(staff=staff, public_id=appointment_id))


@workspace_router.post("/appointments/{appointment_id}/cancel", response=StaffAppointmentOut, auth=api_auth)
def workspace_cancel(request: HttpRequest, appointment_id: str, payload: CancelIn | None = None) -> Any:
    staff = _staff(request)
    appointment = appointment_of_dealer(staff=staff, public_id=appointment_id)
    appointment_cancel(appointment=appointment, actor=staff, reason=payload.reason if payload else "")
    return staff_appointment_out(appointment_of_dealer(staff=staff, public_id=appointment_id))
