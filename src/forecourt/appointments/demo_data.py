"""Demo data for appointments: test drives and store visits over the last 30 days and the next 7.

Runs after dealers, catalog and accounts. The first dealer by id (where the demo staff logins work)
gets the most, including a full day today, so its workspace looks alive whenever the demo starts.
Past appointments are written directly (no service books into the past); the slot counters are
set to the places actually held, so the invariant `booked = place-holding appointments` stands.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import transaction

from forecourt.accounts.models import Role, User
from forecourt.accounts.services import consumer_get_or_create_by_phone
from forecourt.appointments import slot_rules
from forecourt.appointments.models import (
    PLACE_HOLDING_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Slot,
    TestDriveLog,
)
from forecourt.core import clock
from forecourt.core.demo_people import demo_mobile, demo_name
from forecourt.core.identifiers import public_id, short_code

DAYS_BACK = 30
DAYS_AHEAD = 7
OTHER_DEALERS = 45
CONSUMERS = 160


def _people(rng: random.Random) -> list[User]:
    people = list(User.objects.filter(role=Role.CONSUMER).exclude(phone_encrypted="")[:60])
    seen: set[str] = set()
    while len(people) < CONSUMERS:
        phone = demo_mobile(rng)
        if phone in seen:
            continue
        seen.add(phone)
        name = demo_name(rng)
        people.append(consumer_get_or_create_by_phone(phone=phone, display_name=name))
    return people


def _advisors(dealer: Any) -> list[User]:
    staff = list(dealer.staff.filter(role__in=[Role.SALES_ADVISOR, Role.DEALER_MANAGER], is_active=True))
    return staff or list(dealer.staff.all())


class _Calendar:
    """Slots taken so far in this run, so no demo slot is overbooked."""

    def __init__(self) -> None:
        self.slots: dict[tuple[int, str, datetime], Slot] = {}
        self.held: dict[int, int] = defaultdict(int)
        self.rules: dict[tuple[int, str], slot_rules.SlotRule] = {}
        self.advisors: dict[int, list[User]] = {}

    def rule(self, dealer: Any, kind: str) -> slot_rules.SlotRule:
        if (dealer.pk, kind) not in self.rules:
            self.rules[dealer.pk, kind] = slot_rules.slot_rule(dealer, kind)
        return self.rules[dealer.pk, kind]

    def staff(self, dealer: Any) -> list[User]:
        if dealer.pk not in self.advisors:
            self.advisors[dealer.pk] = _advisors(dealer)
        return self.advisors[dealer.pk]

    def take(self, dealer: Any, kind: str, start: datetime) -> Slot | None:
        key = (dealer.pk, kind, start)
        slot = self.slots.get(key)
        if slot is None:
            rule = self.rule(dealer, kind)
            slot = Slot.objects.create(
                dealer=dealer,
                kind=kind,
                start=start,
                end=start + timedelta(minutes=rule.minutes),
                capacity=rule.capacity,
            )
            self.slots[key] = slot
        if self.held[slot.pk] >= slot.capacity:
            return None
        self.held[slot.pk] += 1
        return slot


def _status(rng: random.Random, kind: str, start: datetime, end: datetime, moment: datetime) -> str:
    if start > moment:
        return rng.choices([AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED], [85, 15])[0]
    if end > moment:  # happening now
        return rng.choices([AppointmentStatus.CHECKED_IN, AppointmentStatus.BOOKED], [70, 30])[0]
    finished = (
        AppointmentStatus.COMPLETED if kind == AppointmentKind.TEST_DRIVE else AppointmentStatus.CHECKED_IN
    )
    return rng.choices(
        [finished, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED, AppointmentStatus.CHECKED_IN],
        [55, 17, 15, 13],
    )[0]


def _appointment(
    rng: random.Random,
    *,
    dealer: Any,
    slot: Slot,
    person: User,
    models: list[Any],
    codes: set[str],
    advisors: list[User],
    moment: datetime,
) -> None:
    status = _status(rng, slot.kind, slot.start, slot.end, moment)
    if status in (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED) and not advisors:
        status = AppointmentStatus.NO_SHOW if slot.end <= moment else AppointmentStatus.BOOKED
    created = min(slot.start - timedelta(hours=rng.randint(3, 24 * 6)), moment - timedelta(minutes=5))
    code = short_code(6)
    while code in codes:
        code = short_code(6)
    codes.add(code)
    fields: dict[str, Any] = {}
    if status in (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED):
        fields["checked_in_at"] = slot.start - timedelta(minutes=rng.randint(-10, 20))
        fields["checked_in_by"] = rng.choice(advisors)
    if status == AppointmentStatus.CANCELLED:
        fields["cancelled_at"] = min(created + timedelta(hours=rng.randint(1, 48)), slot.start, moment)
        fields["cancelled_by_dealer"] = rng.random() < 0.3
    if slot.start - created > timedelta(hours=24) and slot.start - timedelta(hours=20) <= moment:
        fields["reminder_sent_at"] = slot.start - timedelta(hours=20)
    appointment = Appointment.objects.create(
        public_id=public_id("ap"),
        code=code,
        dealer=dealer,
        kind=slot.kind,
        slot=slot,
        person=person,
        name=person.display_name or "客户",
        model=rng.choice(models) if models and rng.random() < 0.85 else None,
        channel=rng.choice(["web", "web", "web", "api"]),
        status=status,
        created_at=created,
        slot_taken_at=created,
        **fields,
    )
    if slot.kind == AppointmentKind.TEST_DRIVE and "checked_in_at" in fields:
        started = fields["checked_in_at"] + timedelta(minutes=rng.randint(5, 15))
        finished = started + timedelta(minutes=rng.randint(22, 48), seconds=rng.randint(0, 59))
        done = status == AppointmentStatus.COMPLETED and finished <= moment
        if done or started <= moment:
            TestDriveLog.objects.create(
                appointment=appointment,
                car=rng.choice([f"试驾车 {rng.randint(1, 4)} 号", f"LFV2A2{rng.randrange(10**11):011d}"]),
                advisor=fields["checked_in_by"],
                started_at=started,
                finished_at=finished if done else None,
                duration_seconds=int((finished - started).total_seconds()) if done else None,
            )
        if status == AppointmentStatus.COMPLETED and not done:
            Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.CHECKED_IN)


def _days(today: date) -> list[date]:
    return [today + timedelta(days=offset) for offset in range(-DAYS_BACK, DAYS_AHEAD + 1)]


def _book_day(
    rng: random.Random, calendar: _Calendar, *, dealer: Any, day: date, count: int, context: dict[str, Any]
) -> None:
    kinds = (
        [AppointmentKind.TEST_DRIVE, AppointmentKind.VISIT]
        if dealer.offers_test_drive
        else [AppointmentKind.VISIT]
    )
    for _unused in range(count):
        kind = rng.choice(kinds)
        starts = slot_rules.slot_starts(dealer, day, calendar.rule(dealer, kind).minutes)
        if not starts:
            return
        slot = calendar.take(dealer, kind, rng.choice(starts))
        if slot is None:
            continue
        _appointment(
            rng,
            dealer=dealer,
            slot=slot,
            person=rng.choice(context["people"]),
            **context["shared"],
            advisors=calendar.staff(dealer),
        )


def seed(*, rng: random.Random) -> None:
    """Create a few hundred appointments in every status across the network, most at the first dealer."""
    dealer_model = apps.get_model("dealers", "Dealer")
    if Appointment.objects.exists():
        return
    dealers = list(dealer_model.objects.filter(is_active=True).select_related("city").order_by("id"))
    if not dealers:
        return
    with transaction.atomic():
        moment = clock.now()
        today = clock.local_now().date()
        models = list(apps.get_model("catalog", "VehicleModel").objects.filter(is_active=True))
        context = {
            "people": _people(rng),
            "shared": {"models": models, "codes": set(), "moment": moment},
        }
        calendar = _Calendar()
        first, others = dealers[0], dealers[1:]
        for day in _days(today):
            # Today is always busy at the first dealer: its workspace is what the demo logins see.
            count = 9 if day == today else rng.randint(2, 5)
            _book_day(rng, calendar, dealer=first, day=day, count=count, context=context)
        for dealer in rng.sample(others, k=min(OTHER_DEALERS, len(others))):
            for day in rng.sample(_days(today), k=6):
                _book_day(rng, calendar, dealer=dealer, day=day, count=rng.randint(1, 2), context=context)
        held = Counter(
            Appointment.objects.filter(status__in=PLACE_HOLDING_STATUSES).values_list("slot_id", flat=True)
        )
        slots = list(calendar.slots.values())
        for slot in slots:
            slot.booked = held[slot.pk]
        Slot.objects.bulk_update(slots, ["booked"], batch_size=500)
