"""Reads of appointments, always through a scope: the person's own, or the staff member's own dealer's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from forecourt.appointments.models import Appointment
from forecourt.core import clock
from forecourt.core.errors import NotFound

_RELATED = ("slot", "dealer", "dealer__city", "model", "checked_in_by", "test_drive", "test_drive__advisor")


def appointments_of_dealer(*, staff: Any) -> QuerySet[Appointment]:
    """The one tenant scope for the dealer workspace: the staff member's own dealer's appointments only."""
    if staff is None or not getattr(staff, "is_dealer_staff", False) or staff.dealer_id is None:
        return Appointment.objects.none()
    return Appointment.objects.filter(dealer_id=staff.dealer_id).select_related(*_RELATED)


def appointment_of_dealer(*, staff: Any, public_id: str) -> Appointment:
    """One appointment of the staff member's dealer; another dealer's (or none) raises NotFound (404)."""
    appointment = appointments_of_dealer(staff=staff).filter(public_id=str(public_id)).first()
    if appointment is None:
        raise NotFound(_("No such appointment at this store."))
    return appointment


def appointments_of_person(*, user: Any = None, public_ids: Iterable[str] = ()) -> QuerySet[Appointment]:
    """A person's appointments: those of the signed-in consumer, plus any booked in this browser session."""
    wanted = [str(value) for value in public_ids][:50]
    scope = Appointment.objects.none()
    if (
        user is not None
        and getattr(user, "is_authenticated", False)
        and not getattr(user, "is_dealer_staff", False)
    ):
        scope = Appointment.objects.filter(person=user)
    if wanted:
        scope = scope | Appointment.objects.filter(public_id__in=wanted)
    return scope.select_related(*_RELATED)


def appointment_of_person(*, public_id: str, user: Any = None, public_ids: Iterable[str] = ()) -> Appointment:
    """One of the person's appointments; anybody else's raises NotFound (404)."""
    appointment = (
        appointments_of_person(user=user, public_ids=public_ids).filter(public_id=str(public_id)).first()
    )
    if appointment is None:
        raise NotFound(_("No such appointment."))
    return appointment


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=clock.SHANGHAI)
    return start, start + timedelta(days=1)


def appointments_on_day(*, staff: Any, day: date | None = None) -> list[Appointment]:
    """The staff member's dealer's appointments starting on `day` (default today), in time order."""
    first, last = day_bounds(day or clock.local_now().date())
    return list(
        appointments_of_dealer(staff=staff)
        .filter(slot__start__gte=first, slot__start__lt=last)
        .order_by("slot__start", "created_at")
    )
