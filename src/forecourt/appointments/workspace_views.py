"""Dealer workspace pages: the day's appointments, the check-in scanner, test-drive start and finish.

Every page is for dealer staff only and shows only their own dealer's appointments (the selectors'
tenant scope); another dealer's appointment id is a 404.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from forecourt.accounts.auth import dealer_staff_required
from forecourt.appointments.models import AppointmentKind, AppointmentStatus
from forecourt.appointments.qr import PAYLOAD_PATTERN
from forecourt.appointments.selectors import appointment_of_dealer, appointments_on_day
from forecourt.appointments.services import (
    appointment_cancel,
    appointment_check_in,
    appointment_reschedule,
    test_drive_finish,
    test_drive_start,
)
from forecourt.appointments.views import error_message, parse_date, parse_start, reschedule_form_context
from forecourt.core import clock
from forecourt.core.errors import DomainError, NotFound


def _scoped(request: HttpRequest, public_id: str) -> Any:
    try:
        return appointment_of_dealer(staff=request.user, public_id=public_id)
    except NotFound:
        raise Http404 from None


def _day_url(day: date) -> str:
    return f"{reverse('appointments:workspace-day')}?date={day.isoformat()}"


@never_cache
@require_GET
@dealer_staff_required
def day(request: HttpRequest) -> HttpResponse:
    """The day's appointments at the staff member's store (today unless `date` is given)."""
    shown = parse_date(request.GET.get("date"))
    appointments = appointments_on_day(staff=request.user, day=shown)
    counts = {status: 0 for status in AppointmentStatus.values}
    for appointment in appointments:
        counts[appointment.status] += 1
    return render(
        request,
        "appointments/workspace_day.html",
        {
            "appointments": appointments,
            "day": shown,
            "is_today": shown == clock.local_now().date(),
            "previous_url": _day_url(shown - timedelta(days=1)),
            "next_url": _day_url(shown + timedelta(days=1)),
            "today_url": reverse("appointments:workspace-day"),
            "counts": counts,
            "dealer": getattr(request.user, "dealer", None),
            "kinds": AppointmentKind,
            "statuses": AppointmentStatus,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@dealer_staff_required
def check_in(request: HttpRequest) -> HttpResponse:
    """Check a visitor in by the short code they show, or by the QR code scanned with the camera.

    The server judges every code: the page only checks that a scanned QR code looks like ours.
    """
    context: dict[str, Any] = {
        "payload_pattern": PAYLOAD_PATTERN.pattern,
        "dealer": getattr(request.user, "dealer", None),
    }
    status = 200
    if request.method == "POST":
        text = request.POST.get("payload") or request.POST.get("code") or ""
        try:
            appointment = appointment_check_in(code_or_payload=text, staff=request.user)
            context["checked_in"] = appointment_of_dealer(staff=request.user, public_id=appointment.public_id)
        except DomainError as error:
            status = error.status
            context["error"] = error_message(error)
            context["error_code"] = error.code
            if error.code == "already_checked_in" and isinstance(error.details, dict):
                context["already"] = error.details
    template = (
        "appointments/_check_in_result.html"
        if request.headers.get("HX-Request")
        else "appointments/workspace_check_in.html"
    )
    # htmx swaps only 2xx answers by default: a refused code is still a page to show, so say 200 to it.
    return render(request, template, context, status=200 if request.headers.get("HX-Request") else status)


@require_POST
@dealer_staff_required
def start_test_drive(request: HttpRequest, public_id: str) -> HttpResponse:
    appointment = _scoped(request, public_id)
    try:
        test_drive_start(
            appointment_public_id=appointment.public_id, staff=request.user, car=request.POST.get("car", "")
        )
        messages.success(request, _("Test drive started for %(name)s.") % {"name": appointment.name})
    except DomainError as error:
        messages.error(request, error_message(error))
    return redirect(_day_url(appointment.slot.start.astimezone(clock.SHANGHAI).date()))


@require_POST
@dealer_staff_required
def finish_test_drive(request: HttpRequest, public_id: str) -> HttpResponse:
    appointment = _scoped(request, public_id)
    try:
        log = test_drive_finish(appointment_public_id=appointment.public_id, staff=request.user)
        minutes = (log.duration_seconds or 0) // 60
        messages.success(request, _("Test drive finished after %(minutes)s minutes.") % {"minutes": minutes})
    except DomainError as error:
        messages.error(request, error_message(error))
    return redirect(_day_url(appointment.slot.start.astimezone(clock.SHANGHAI).date()))


@require_POST
@dealer_staff_required
def cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    appointment = _scoped(request, public_id)
    try:
        appointment_cancel(appointment=appointment, actor=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, _("The appointment of %(name)s is cancelled.") % {"name": appointment.name})
    except DomainError as error:
        messages.error(request, error_message(error))
    return redirect(_day_url(appointment.slot.start.astimezone(clock.SHANGHAI).date()))


@never_cache
@require_http_methods(["GET", "POST"])
@dealer_staff_required
def reschedule(request: HttpRequest, public_id: str) -> HttpResponse:
    appointment = _scoped(request, public_id)
    data = request.POST if request.method == "POST" else request.GET
    error, status = "", 200
    if request.method == "POST":
        try:
            moved = appointment_reschedule(
                appointment=appointment, start=parse_start(data.get("start", "")), actor=request.user
            )
            messages.success(
                request, _("The appointment of %(name)s has been moved.") % {"name": appointment.name}
            )
            return redirect(_day_url(moved.slot.start.astimezone(clock.SHANGHAI).date()))
        except DomainError as failure:
            error, status = error_message(failure), failure.status
    context = {
        **reschedule_form_context(appointment, data, error),
        "form_action": reverse("appointments:workspace-reschedule", args=[appointment.public_id]),
        "back_url": _day_url(appointment.slot.start.astimezone(clock.SHANGHAI).date()),
    }
    return render(request, "appointments/reschedule.html", context, status=status)
