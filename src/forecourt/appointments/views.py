"""Consumer pages: book a test drive or a visit, the confirmation with its QR code, my appointments.

A person may book without signing in. The appointments booked in a browser session are remembered
in that session, so its confirmation page, QR code and cancel/reschedule stay reachable there; a
signed-in consumer also sees every appointment booked with their number.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from forecourt.accounts.consent_texts import consent_current_version, consent_text
from forecourt.accounts.models import ConsentPurpose
from forecourt.appointments.models import Appointment, AppointmentKind, AppointmentStatus
from forecourt.appointments.qr import qr_payload
from forecourt.appointments.selectors import appointment_of_person, appointments_of_person
from forecourt.appointments.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    booking_rate_limit_hit,
    slots_for_day,
)
from forecourt.appointments.slot_rules import booking_dates
from forecourt.catalog.models import VehicleModel
from forecourt.core import clock
from forecourt.core.errors import DomainError, NotFound
from forecourt.core.middleware import client_ip
from forecourt.core.qrcodes import qr_svg
from forecourt.dealers.models import City, Dealer
from forecourt.dealers.selectors import dealer_get
from forecourt.leads.selectors import referral_mark_read

SESSION_KEY = "appointments.booked"
SESSION_LIMIT = 20


# --- helpers -----------------------------------------------------------------------------------


def session_appointment_ids(request: HttpRequest) -> list[str]:
    value = request.session.get(SESSION_KEY, [])
    return [str(item) for item in value] if isinstance(value, list) else []


def _remember(request: HttpRequest, appointment: Appointment) -> None:
    ids = [item for item in session_appointment_ids(request) if item != appointment.public_id]
    request.session[SESSION_KEY] = [appointment.public_id, *ids][:SESSION_LIMIT]


def _owned(request: HttpRequest, public_id: str) -> Appointment:
    try:
        return appointment_of_person(
            public_id=public_id, user=request.user, public_ids=session_appointment_ids(request)
        )
    except NotFound:
        raise Http404 from None


def error_message(error: DomainError) -> str:
    """What to tell the person: a generic "invalid" says more in its field's message."""
    details = error.details
    if error.code == "invalid" and isinstance(details, list) and details and isinstance(details[0], dict):
        return str(details[0].get("message") or error.message)
    return error.message


def error_field(error: DomainError) -> str:
    """The form field an error is about, to mark it invalid."""
    details = error.details
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return str(details[0].get("field") or "")
    if isinstance(details, dict):
        return str(details.get("field") or "")
    return ""


def _kind_service(kind: str) -> dict[str, Any]:
    return {"offers_test_drive": True} if kind == AppointmentKind.TEST_DRIVE else {}


def _cities(kind: str) -> list[City]:
    dealers = Dealer.objects.filter(is_active=True, **_kind_service(kind))
    return list(
        City.objects.filter(dealers__in=dealers).distinct().order_by("province_en", "name_en", "code")
    )


def _dealers(kind: str, city_code: str) -> list[Dealer]:
    if not city_code:
        return []
    return list(
        Dealer.objects.filter(is_active=True, city__code=city_code, **_kind_service(kind))
        .select_related("city")
        .order_by("name")
    )


def parse_date(raw: str | None) -> date:
    today = clock.local_now().date()
    try:
        return date.fromisoformat(raw) if raw else today
    except ValueError:
        return today


def _slots(kind: str, dealer_public_id: str, day: date) -> list[Any]:
    if not dealer_public_id:
        return []
    try:
        dealer = dealer_get(public_id=dealer_public_id)
    except NotFound:
        return []
    if kind == AppointmentKind.TEST_DRIVE and not dealer.offers_test_drive:
        return []
    return slots_for_day(dealer=dealer, kind=kind, day=day)


def kind_urls(kind: str) -> dict[str, str]:
    prefix = "test-drive" if kind == AppointmentKind.TEST_DRIVE else "visit"
    return {
        "book_url": reverse(f"appointments:book-{prefix}"),
        "dealers_url": reverse(f"appointments:{prefix}-dealers"),
        "slots_url": reverse(f"appointments:{prefix}-slots"),
    }


def reschedule_form_context(appointment: Appointment, data: Any, error: str) -> dict[str, Any]:
    """The reschedule form, for the consumer and the dealer alike: the day shown and its free slots."""
    day = parse_date(data.get("date") or appointment.slot.start.astimezone(clock.SHANGHAI).date().isoformat())
    first, last = booking_dates()
    return {
        "appointment": appointment,
        "error": error,
        "date_min": first.isoformat(),
        "date_max": last.isoformat(),
        "kind": appointment.kind,
        **slot_context(appointment.kind, appointment.dealer.public_id, day),
    }


def slot_context(kind: str, dealer_id: str, day: date, chosen: str = "") -> dict[str, Any]:
    return {
        **kind_urls(kind),
        "slots": _slots(kind, dealer_id, day),
        "dealer_chosen": bool(dealer_id),
        "chosen_start": chosen,
        "day": day,
    }


def _booking_context(request: HttpRequest, kind: str, data: Any) -> dict[str, Any]:
    dealer_id = data.get("dealer", "")
    city_code = data.get("city", "")
    if dealer_id and not city_code:
        dealer = Dealer.objects.filter(public_id=dealer_id, is_active=True).select_related("city").first()
        city_code = dealer.city.code if dealer else ""
    day = parse_date(data.get("date"))
    first, last = booking_dates()
    version = consent_current_version(ConsentPurpose.SHARE_WITH_DEALER)
    return {
        "kind": kind,
        "kind_label": AppointmentKind(kind).label,
        "cities": _cities(kind),
        "city_code": city_code,
        "dealers": _dealers(kind, city_code),
        "dealer_id": dealer_id,
        "date_min": first.isoformat(),
        "date_max": last.isoformat(),
        "models": list(VehicleModel.objects.filter(is_active=True)),
        "form": data,
        "consent_text": consent_text(ConsentPurpose.SHARE_WITH_DEALER, version),
        **slot_context(kind, dealer_id, day, data.get("start", "")),
    }


# --- booking -----------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, kind: str = AppointmentKind.TEST_DRIVE) -> HttpResponse:
    """The booking page; a POST books, then redirects to the confirmation page."""
    if request.method == "GET":
        return render(request, "appointments/book.html", _booking_context(request, kind, request.GET))
    data = request.POST
    try:
        booking_rate_limit_hit(ip=client_ip(request), phone=data.get("phone", ""))
        start = parse_start(data.get("start", ""))
        mark = referral_mark_read(request)
        appointment = appointment_book(
            dealer_public_id=data.get("dealer", ""),
            kind=kind,
            start=start,
            name=data.get("name", ""),
            phone=data.get("phone", ""),
            model_code=data.get("model") or None,
            share_with_dealer=data.get("share_with_dealer") == "on",
            channel="web",
            actor=request.user if request.user.is_authenticated else None,
            broker_code=mark.broker_code if mark else "",
            broker_clicked_at=mark.clicked_at if mark else None,
        )
    except DomainError as error:
        context = _booking_context(request, kind, data)
        context.update(error=error_message(error), error_field=error_field(error), error_code=error.code)
        return render(request, "appointments/book.html", context, status=error.status)
    _remember(request, appointment)
    return redirect("appointments:detail", public_id=appointment.public_id)


def parse_start(raw: str) -> datetime:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise DomainError(
            "invalid",
            _("Choose a time."),
            status=422,
            details=[{"field": "start", "message": _("Choose one of the listed times.")}],
        ) from None


@require_GET
def dealer_options(request: HttpRequest, kind: str = AppointmentKind.TEST_DRIVE) -> HttpResponse:
    """HTMX: the dealer <option>s of a city (and an emptied slot list, out of band)."""
    context = {
        "dealers": _dealers(kind, request.GET.get("city", "")),
        "dealer_id": "",
        **slot_context(kind, "", parse_date(request.GET.get("date"))),
    }
    return render(request, "appointments/_dealer_options.html", context)


@require_GET
def slot_options(request: HttpRequest, kind: str = AppointmentKind.TEST_DRIVE) -> HttpResponse:
    """HTMX: the slots of the chosen dealer and day, with the places left in each."""
    context = slot_context(kind, request.GET.get("dealer", ""), parse_date(request.GET.get("date")))
    return render(request, "appointments/_slot_list.html", context)


# --- the person's appointments -------------------------------------------------------------------


@never_cache
@require_GET
def detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """The confirmation: the short code, the QR code, where and when; reschedule and cancel."""
    appointment = _owned(request, public_id)
    payload = qr_payload(public_id=appointment.public_id, code=appointment.code)
    return render(
        request,
        "appointments/detail.html",
        {
            "appointment": appointment,
            "qr_svg": qr_svg(payload) if appointment.is_live else "",
            "can_change": appointment.status == AppointmentStatus.BOOKED,
        },
    )


@never_cache
@require_GET
def qr_image(request: HttpRequest, public_id: str) -> HttpResponse:
    """The QR code as an SVG image, for the appointment's owner only."""
    appointment = _owned(request, public_id)
    if not appointment.is_live:
        raise Http404
    payload = qr_payload(public_id=appointment.public_id, code=appointment.code)
    response = HttpResponse(qr_svg(payload), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    appointments = appointments_of_person(user=request.user, public_ids=session_appointment_ids(request))
    return render(
        request,
        "appointments/mine.html",
        {"appointments": list(appointments.order_by("-slot__start")[:50])},
    )


@require_POST
def cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    appointment = _owned(request, public_id)
    try:
        appointment_cancel(
            appointment=appointment, actor=request.user if request.user.is_authenticated else None
        )
        messages.success(request, _("Your appointment has been cancelled."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("appointments:detail", public_id=public_id)


@never_cache
@require_http_methods(["GET", "POST"])
def reschedule(request: HttpRequest, public_id: str) -> HttpResponse:
    appointment = _owned(request, public_id)
    data = request.POST if request.method == "POST" else request.GET
    error = ""
    status = 200
    if request.method == "POST":
        try:
            appointment_reschedule(
                appointment=appointment,
                start=parse_start(data.get("start", "")),
                actor=request.user if request.user.is_authenticated else None,
            )
            messages.success(request, _("Your appointment has been moved."))
            return redirect("appointments:detail", public_id=public_id)
        except DomainError as failure:
            error, status = error_message(failure), failure.status
    context = reschedule_form_context(appointment, data, error)
    return render(request, "appointments/reschedule.html", context, status=status)
