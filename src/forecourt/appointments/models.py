"""Test drives and store visits: bookable slots with a capacity, appointments, and test-drive logs."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class AppointmentKind(models.TextChoices):
    TEST_DRIVE = "test_drive", _("Test drive")
    VISIT = "visit", _("Store visit")


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")
    CHECKED_IN = "checked_in", _("Checked in")
    NO_SHOW = "no_show", _("No-show")
    COMPLETED = "completed", _("Completed")


# The only status moves a service may make; a reschedule keeps an appointment "booked" (booked → booked).
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    AppointmentStatus.BOOKED: frozenset(
        {
            AppointmentStatus.BOOKED,
            AppointmentStatus.CANCELLED,
            AppointmentStatus.CHECKED_IN,
            AppointmentStatus.NO_SHOW,
        }
    ),
    AppointmentStatus.CHECKED_IN: frozenset({AppointmentStatus.COMPLETED}),
    AppointmentStatus.CANCELLED: frozenset(),
    AppointmentStatus.NO_SHOW: frozenset(),
    AppointmentStatus.COMPLETED: frozenset(),
}

# Appointments whose short code may still be shown at a counter; a code is unique among these only.
LIVE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)
# Appointments that hold a place in their slot: everything but a cancellation (a no-show wasted the place).
PLACE_HOLDING_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.NO_SHOW,
    AppointmentStatus.COMPLETED,
)


class SlotTemplate(models.Model):
    """A dealer's own slot rule for one kind; without one the defaults in `slots.py` apply."""

    dealer = models.ForeignKey("dealers.Dealer", on_delete=models.CASCADE, related_name="slot_templates")
    kind = models.CharField(max_length=20, choices=AppointmentKind.choices)
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"))
    # Overrides the capacity derived from demo cars and advisors (e.g. a store with a pool of loan cars).
    capacity = models.PositiveSmallIntegerField(_("places per slot"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dealer", "kind"], name="slot_template_one_per_dealer_kind"),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=15) & Q(slot_minutes__lte=240), name="slot_template_sane_length"
            ),
        ]
        verbose_name = _("slot rule")
        verbose_name_plural = _("slot rules")

    def __str__(self) -> str:
        return f"{self.dealer} {self.kind} {self.slot_minutes}′"


class Slot(models.Model):
    """One bookable period at one dealer; created on demand when listed or booked.

    `booked` moves only through conditional UPDATEs (`booked < capacity` to take a place, `booked > 0`
    to release one), and the check constraints make an overbooked slot impossible, not just unlikely.
    """

    dealer = models.ForeignKey("dealers.Dealer", on_delete=models.CASCADE, related_name="appointment_slots")
    kind = models.CharField(max_length=20, choices=AppointmentKind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField()
    booked = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(fields=["dealer", "kind", "start"], name="slot_unique_dealer_kind_start"),
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="slot_booked_within_capacity"
            ),
            models.CheckConstraint(condition=Q(booked__gte=0), name="slot_booked_not_negative"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="slot_ends_after_start"),
        ]
        verbose_name = _("slot")
        verbose_name_plural = _("slots")

    def __str__(self) -> str:
        return f"{self.dealer_id} {self.kind} {self.start:%Y-%m-%d %H:%M} {self.booked}/{self.capacity}"

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.booked, 0)


class Appointment(models.Model):
    public_id = models.CharField(max_length=32, unique=True, editable=False)
    # Typed at the counter or carried in the QR code; unique among live appointments only (see Meta).
    code = models.CharField(max_length=12, editable=False)
    dealer = models.ForeignKey("dealers.Dealer", on_delete=models.PROTECT, related_name="appointments")
    kind = models.CharField(max_length=20, choices=AppointmentKind.choices)
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="appointments")
    # The person; their phone lives on the user as a keyed hash and a ciphertext, never here in plain.
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    name = models.CharField(_("name"), max_length=60)
    model = models.ForeignKey(
        "catalog.VehicleModel", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    # The lead this appointment belongs to, by its public id (the leads app owns leads; no FK across apps).
    lead_id = models.CharField(max_length=32, blank=True, db_index=True)
    channel = models.CharField(max_length=40, default="web")
    # The language the person booked in, so the reminder speaks it too.
    language = models.CharField(max_length=10, default="zh-hans")
    status = models.CharField(
        max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    reschedule_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    # When the current slot was taken (booking or last reschedule): a reminder is only worth sending
    # when the booking was made more than a day ahead.
    slot_taken_at = models.DateTimeField()
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by_dealer = models.BooleanField(default=False)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(status__in=["booked", "checked_in"]),
                name="appointment_live_code_unique",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["checked_in", "completed"])
                | (Q(checked_in_at__isnull=False) & Q(checked_in_by__isnull=False)),
                name="appointment_checked_in_has_who_and_when",
            ),
        ]
        indexes = [
            models.Index(fields=["dealer", "status"]),
            models.Index(fields=["status", "reminder_sent_at"]),
        ]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")

    def __str__(self) -> str:
        return f"{self.public_id} {self.kind} {self.status}"

    def can_move_to(self, status: str) -> bool:
        return status in STATUS_TRANSITIONS.get(self.status, frozenset())

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def has_test_drive(self) -> bool:
        try:
            return self.test_drive is not None
        except TestDriveLog.DoesNotExist:
            return False


class TestDriveLog(models.Model):
    """The car, the advisor and the time a test drive took: proof it happened, and data for the KPIs."""

    __test__ = False  # not a pytest test class despite the name

    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="test_drive")
    # A VIN or the dealer's label for a demo car ("Demo 2 · white SUV").
    car = models.CharField(_("car"), max_length=40)
    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # Derived at finish and stored, so reports can sum and average it in the database.
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=F("started_at")),
                name="test_drive_finishes_after_start",
            ),
        ]
        verbose_name = _("test drive")
        verbose_name_plural = _("test drives")

    def __str__(self) -> str:
        return f"{self.appointment_id} {self.car}"

    @property
    def duration(self) -> timedelta | None:
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def duration_minutes(self) -> int | None:
        return None if self.duration_seconds is None else round(self.duration_seconds / 60)
