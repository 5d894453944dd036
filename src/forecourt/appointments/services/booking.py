"""Writes for consumers and dealers: materialise slots, book, reschedule and cancel appointments."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _

from forecourt.accounts.models import ConsentPurpose
from forecourt.accounts.services import consent_grant, consumer_get_or_create_by_phone
from forecourt.appointments import slot_rules
from forecourt.appointments.errors import AppointmentErrorCode
from forecourt.appointments.models import Appointment, AppointmentKind, AppointmentStatus, Slot
from forecourt.appointments.notifications import sms_after_commit
from forecourt.catalog.models import VehicleModel
from forecourt.core import clock
from forecourt.core.errors import DomainError, NotFound
from forecourt.core.events import event_record
from forecourt.core.identifiers import public_id, short_code
from forecourt.core.middleware import current_ip
from forecourt.core.phones import normalise_mainland_mobile, phone_hash
from forecourt.core.ratelimit import rate_limit_hit
from forecourt.dealers.selectors import dealer_get, invalid_input
from forecourt.leads.services import lead_capture

NAME_MAX_LENGTH = 60
_CODE_ATTEMPTS = 8
# Bookings per client address and per phone number (count, seconds): generous for a family behind one
# router, tight enough that a script cannot fill a store's calendar.
BOOKINGS_PER_IP = (30, 600)
BOOKINGS_PER_PHONE = (10, 3600)


def booking_rate_limit_hit(*, ip: str, phone: str) -> None:
    """Count one booking attempt for the address and the number; raises RateLimited (429) past the limits."""
    rate_limit_hit("appointment_book_ip", ip, limit=BOOKINGS_PER_IP[0], window_seconds=BOOKINGS_PER_IP[1])
    rate_limit_hit(
        "appointment_book_phone",
        phone_hash(normalise_mainland_mobile(phone)),
        limit=BOOKINGS_PER_PHONE[0],
        window_seconds=BOOKINGS_PER_PHONE[1],
    )


# --- input checks shared by the booking paths -------------------------------------------------


def appointment_kind_parse(kind: Any) -> str:
    """The kind as stored, or a 422 naming `kind`."""
    if kind not in AppointmentKind.values:
        raise invalid_input(
            "kind",
            _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(AppointmentKind.values)},
            allowed=list(AppointmentKind.values),
        )
    return str(kind)


def _name_parse(name: Any) -> str:
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise invalid_input("name", _("Enter your name."))
    if len(cleaned) > NAME_MAX_LENGTH:
        raise invalid_input("name", _("At most %(count)s characters.") % {"count": NAME_MAX_LENGTH})
    return cleaned


def _aware(moment: datetime) -> datetime:
    # A time given without an offset is a Shanghai wall-clock time (the stores' own time).
    if moment.tzinfo is None:
        return moment.replace(tzinfo=clock.SHANGHAI)
    return moment


def dealer_for_kind(*, dealer_public_id: str, kind: str) -> Any:
    """The active dealer, checked to offer `kind`: unknown → 404, test drives not offered → 409."""
    try:
        dealer = dealer_get(public_id=dealer_public_id)
    except NotFound:
        raise NotFound(_("No such dealer."), details={"field": "dealer"}) from None
    if kind == AppointmentKind.TEST_DRIVE and not dealer.offers_test_drive:
        raise DomainError(
            AppointmentErrorCode.KIND_NOT_OFFERED,
            _("This store does not offer test drives. Book a store visit, or choose another store."),
            status=409,
            details={"field": "kind"},
        )
    return dealer


def _vehicle_model(model_code: str | None) -> Any:
    if not model_code:
        return None
    model = VehicleModel.objects.filter(code=model_code, is_active=True).first()
    if model is None:
        raise NotFound(_("No such model."), details={"field": "model"})
    return model


# --- slots ---------------------------------------------------------------------------------------


def slots_for_day(*, dealer: Any, kind: str, day: date) -> list[Slot]:
    """Every slot of one day at one dealer that has not started yet, created on first sight.

    Days outside the booking window (past days, or beyond BOOKING_HORIZON_DAYS) have no slots.
    """
    if not slot_rules.is_bookable_day(day):
        return []
    minutes = slot_rules.slot_minutes(dealer, kind)
    moment = clock.now()
    starts = [start for start in slot_rules.slot_starts(dealer, day, minutes) if start > moment]
    if not starts:
        return []
    existing = Slot.objects.filter(dealer=dealer, kind=kind, start__in=starts)
    if existing.count() < len(starts):
        rule = slot_rules.slot_rule(dealer, kind)
        length = timedelta(minutes=rule.minutes)
        # A concurrent lister may insert the same slots: the unique (dealer, kind, start) decides.
        Slot.objects.bulk_create(
            [
                Slot(dealer=dealer, kind=kind, start=start, end=start + length, capacity=rule.capacity)
                for start in starts
            ],
            ignore_conflicts=True,
        )
    return list(Slot.objects.filter(dealer=dealer, kind=kind, start__in=starts).order_by("start"))


def slot_get_or_create(*, dealer: Any, kind: str, start: datetime) -> Slot:
    """The slot starting at `start`, created on demand; 422 naming `start` if no slot starts then."""
    start = _aware(start)
    if start <= clock.now():
        raise DomainError(
            AppointmentErrorCode.SLOT_IN_PAST,
            _("This time has already passed. Choose a later time."),
            status=422,
            details=[{"field": "start", "message": _("This time has already passed.")}],
        )
    day = start.astimezone(clock.SHANGHAI).date()
    if not slot_rules.is_bookable_day(day):
        raise DomainError(
            AppointmentErrorCode.OUTSIDE_BOOKING_WINDOW,
            _("Bookings open %(days)s days ahead.") % {"days": slot_rules.BOOKING_HORIZON_DAYS},
            status=422,
            details=[{"field": "start", "message": _("Too far ahead.")}],
        )
    minutes = slot_rules.slot_minutes(dealer, kind)
    if start not in slot_rules.slot_starts(dealer, day, minutes):
        raise DomainError(
            AppointmentErrorCode.NOT_A_SLOT,
            _("No slot starts at this time: the store is closed or the time is not on the slot grid."),
            status=422,
            details=[{"field": "start", "message": _("Choose one of the listed slot times.")}],
        )
    slot = Slot.objects.filter(dealer=dealer, kind=kind, start=start).first()
    if slot is not None:
        return slot
    rule = slot_rules.slot_rule(dealer, kind)
    try:
        # Its own savepoint: losing the race to a concurrent creator is fine, we then read theirs.
        with transaction.atomic():
            return Slot.objects.create(
                dealer=dealer,
                kind=kind,
                start=start,
                end=start + timedelta(minutes=rule.minutes),
                capacity=rule.capacity,
            )
    except IntegrityError:
        return Slot.objects.get(dealer=dealer, kind=kind, start=start)


def _slot_full(slot: Slot) -> DomainError:
    return DomainError(
        AppointmentErrorCode.SLOT_FULL,
        _("This slot has just been fully booked. Choose another time."),
        status=409,
        details={"start": slot.start.astimezone(clock.SHANGHAI).isoformat()},
    )


# --- booking ---------------------------------------------------------------------------------------


def _lead_for_booking(
    *,
    dealer: Any,
    kind: str,
    name: str,
    person: Any,
    phone: str,
    model: Any,
    share_with_dealer: bool,
    channel: str,
    actor: Any,
    broker_code: str = "",
    broker_clicked_at: datetime | None = None,
) -> str:
    """Capture (or join) the person's lead for this booking; returns the lead's public id, or "".

    A lead is one person's interest in one model: a booking without a model opens none (the leads app
    has no "any model" interest), but the person's consent to sharing is still recorded.
    """
    consent_method = "api" if channel == "api" else "web"
    if model is None:
        if share_with_dealer:
            consent_grant(
                user=person,
                purpose=ConsentPurpose.SHARE_WITH_DEALER,
                method=consent_method,
                ip=current_ip(),
                actor=actor,
            )
        return ""
    lead, _created = lead_capture(
        name=name,
        phone=phone,
        city_code=dealer.city.code,
        model_code=model.code,
        channel="test_drive_booking" if kind == AppointmentKind.TEST_DRIVE else "visit_booking",
        dealer_public_id=dealer.public_id,
        landing_page="/test-drive/" if kind == AppointmentKind.TEST_DRIVE else "/visit/",
        broker_code=broker_code,
        broker_clicked_at=broker_clicked_at,
        share_with_dealer=share_with_dealer,
        consent_method=consent_method,
        actor=actor,
    )
    return str(lead.public_id)


def _appointment_create(**fields: Any) -> Appointment:
    # Short codes are unique among live appointments only; a clash (about one in a billion per
    # live code) is retried with a fresh code inside its own savepoint.
    for attempt in range(_CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                return Appointment.objects.create(public_id=public_id("ap"), code=short_code(6), **fields)
        except IntegrityError:
            if attempt == _CODE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def event_payload(appointment: Appointment, **extra: Any) -> dict[str, Any]:
    """What every appointment event carries: the lead to move, the dealer, the kind and the time."""
    return {
        "appointment_id": appointment.public_id,
        "lead_id": appointment.lead_id,
        "dealer": appointment.dealer.public_id,
        "kind": appointment.kind,
        "start": appointment.slot.start.astimezone(clock.SHANGHAI).isoformat(),
        "model": appointment.model.code if appointment.model is not None else "",
        **extra,
    }


def appointment_book(
    *,
    dealer_public_id: str,
    kind: str,
    start: datetime,
    name: str,
    phone: str,
    model_code: str | None = None,
    share_with_dealer: bool,
    channel: str = "web",
    actor: Any = None,
    broker_code: str = "",
    broker_clicked_at: datetime | None = None,
) -> Appointment:
    """Take a place in a slot and book it for the person with this phone; 409 `slot_full` if none is left.

    A broker's code (from the link the person arrived by) is carried to the lead the booking captures."""
    kind = appointment_kind_parse(kind)
    name = _name_parse(name)
    phone_e164 = normalise_mainland_mobile(phone)
    dealer = dealer_for_kind(dealer_public_id=dealer_public_id, kind=kind)
    model = _vehicle_model(model_code)
    # Materialised outside the booking transaction: the slot row is shared by everyone booking it.
    slot = slot_get_or_create(dealer=dealer, kind=kind, start=start)
    # A cheap early answer for a slot already full when read; only the conditional UPDATE below decides.
    if slot.booked >= slot.capacity:
        raise _slot_full(slot)
    moment = clock.now()
    with transaction.atomic():
        person = consumer_get_or_create_by_phone(phone=phone_e164, display_name=name)
        lead_id = _lead_for_booking(
            dealer=dealer,
            kind=kind,
            name=name,
            person=person,
            phone=phone_e164,
            model=model,
            share_with_dealer=share_with_dealer,
            channel=channel,
            actor=actor,
            broker_code=broker_code[:40] if isinstance(broker_code, str) else "",
            broker_clicked_at=broker_clicked_at,
        )
        # The place is taken last, so the hot slot row stays locked only for the few writes after it.
        # The row count says who won: no check-then-act, and the CheckConstraint backs it up.
        taken = Slot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(booked=F("booked") + 1)
        if not taken:
            raise _slot_full(slot)
        appointment = _appointment_create(
            dealer=dealer,
            kind=kind,
            slot=slot,
            person=person,
            name=name,
            model=model,
            lead_id=lead_id,
            channel=channel[:40],
            language=translation.get_language() or "zh-hans",
            status=AppointmentStatus.BOOKED,
            created_at=moment,
            slot_taken_at=moment,
        )
        event_record(
            "appointment.booked",
            subject_type="appointment",
            subject_id=appointment.public_id,
            actor=actor or person,
            dealer_id=dealer.pk,
            payload=event_payload(appointment, channel=appointment.channel),
        )
        sms_after_commit(appointment=appointment, purpose="appointment_confirmation", phone_e164=phone_e164)
    return appointment


# --- changes by the consumer or the dealer ---------------------------------------------------------


def _by_dealer(appointment: Appointment, actor: Any) -> bool:
    """True when dealer staff act; staff of another dealer get a 404, as if the appointment did not exist."""
    if actor is not None and getattr(actor, "is_dealer_staff", False):
        if actor.dealer_id != appointment.dealer_id:
            raise NotFound(_("No such appointment."))
        return True
    return False


def _locked(appointment: Appointment) -> Appointment:
    # Only the appointment row is locked (`of`): the model is a nullable join PostgreSQL cannot lock.
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("slot", "dealer", "person", "model")
        .get(pk=appointment.pk)
    )


def _not_allowed(locked: Appointment) -> DomainError:
    return DomainError(
        AppointmentErrorCode.NOT_ALLOWED_IN_STATUS,
        _("This appointment is %(status)s and can no longer be changed.")
        % {"status": locked.get_status_display()},
        status=409,
        details={"status": locked.status},
    )


def appointment_reschedule(*, appointment: Appointment, start: datetime, actor: Any = None) -> Appointment:
    """Move a booked appointment to another slot of the same dealer and kind, releasing the old place."""
    by_dealer = _by_dealer(appointment, actor)
    new_slot = slot_get_or_create(dealer=appointment.dealer, kind=appointment.kind, start=start)
    with transaction.atomic():
        locked = _locked(appointment)
        if not locked.can_move_to(AppointmentStatus.BOOKED):
            raise _not_allowed(locked)
        if locked.slot_id == new_slot.pk:
            raise DomainError(
                AppointmentErrorCode.SAME_SLOT,
                _("The appointment is already at this time."),
                status=422,
                details=[{"field": "start", "message": _("Choose a different time.")}],
            )
        old_slot = locked.slot
        # Both slot rows are locked in primary-key order: two reschedules crossing between the same
        # two slots (A→B and B→A) would otherwise each hold one row and wait for the other (deadlock).
        slots = {
            slot.pk: slot
            for slot in Slot.objects.select_for_update()
            .filter(pk__in=[old_slot.pk, new_slot.pk])
            .order_by("pk")
        }
        target = slots[new_slot.pk]
        if not Slot.objects.filter(pk=target.pk, booked__lt=F("capacity")).update(booked=F("booked") + 1):
            raise _slot_full(target)
        Slot.objects.filter(pk=old_slot.pk, booked__gt=0).update(booked=F("booked") - 1)
        moment = clock.now()
        previous_start = old_slot.start
        locked.slot = target
        locked.reschedule_count += 1
        locked.slot_taken_at = moment
        # A new time deserves its own reminder.
        locked.reminder_sent_at = None
        locked.save(update_fields=["slot", "reschedule_count", "slot_taken_at", "reminder_sent_at"])
        event_record(
            "appointment.rescheduled",
            subject_type="appointment",
            subject_id=locked.public_id,
            actor=actor,
            dealer_id=locked.dealer_id,
            payload=event_payload(
                locked,
                previous_start=previous_start.astimezone(clock.SHANGHAI).isoformat(),
                by="dealer" if by_dealer else "consumer",
            ),
        )
        sms_after_commit(appointment=locked, purpose="appointment_rescheduled")
    return locked


def appointment_cancel(*, appointment: Appointment, actor: Any = None, reason: str = "") -> Appointment:
    """Cancel a booked appointment and give its place back to the slot."""
    by_dealer = _by_dealer(appointment, actor)
    with transaction.atomic():
        locked = _locked(appointment)
        if not locked.can_move_to(AppointmentStatus.CANCELLED):
            raise _not_allowed(locked)
        # booked > 0 guards the counter; the place-holding appointment guarantees it is at least 1.
        Slot.objects.filter(pk=locked.slot_id, booked__gt=0).update(booked=F("booked") - 1)
        locked.status = AppointmentStatus.CANCELLED
        locked.cancelled_at = clock.now()
        locked.cancelled_by_dealer = by_dealer
        locked.save(update_fields=["status", "cancelled_at", "cancelled_by_dealer"])
        event_record(
            "appointment.cancelled",
            subject_type="appointment",
            subject_id=locked.public_id,
            actor=actor,
            dealer_id=locked.dealer_id,
            payload=event_payload(locked, by="dealer" if by_dealer else "consumer", reason=str(reason)[:200]),
        )
        sms_after_commit(appointment=locked, purpose="appointment_cancelled")
    return locked
