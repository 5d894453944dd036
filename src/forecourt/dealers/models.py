"""The dealer network: cities, dealers and stores, and what each offers."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from forecourt.core import clock
from forecourt.core.identifiers import public_id


class Service(models.TextChoices):
    """What a store offers a customer; each has an `offers_<value>` flag on Dealer."""

    SALES = "sales", _("Sales")
    TEST_DRIVE = "test_drive", _("Test drive")
    DELIVERY = "delivery", _("Delivery")
    SERVICE = "service", _("Service and repair")


SERVICES: tuple[str, ...] = tuple(Service.values)

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = {
    "mon": _("Mon"),
    "tue": _("Tue"),
    "wed": _("Wed"),
    "thu": _("Thu"),
    "fri": _("Fri"),
    "sat": _("Sat"),
    "sun": _("Sun"),
}
_CLOCK_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")


def validate_opening_hours(value: Any) -> None:
    """Opening hours are {"mon": ["09:00", "21:00"], ...}; a day that is left out is a closed day."""
    if not isinstance(value, dict):
        raise ValidationError(_("Opening hours must map weekdays to [open, close] times."))
    for day, hours in value.items():
        if day not in WEEKDAYS:
            raise ValidationError(_("Unknown weekday %(day)s: use mon … sun."), params={"day": day})
        if (
            not isinstance(hours, list | tuple)
            or len(hours) != 2
            or not all(isinstance(part, str) and _CLOCK_TIME.match(part) for part in hours)
        ):
            raise ValidationError(
                _('Hours for %(day)s must be two HH:MM times, like ["09:00", "21:00"].'), params={"day": day}
            )
        # "HH:MM" strings compare in time order; overnight opening is not a thing for car stores.
        if hours[0] >= hours[1]:
            raise ValidationError(_("On %(day)s the store must close after it opens."), params={"day": day})


def new_dealer_public_id() -> str:
    return public_id("dlr")


def _in_english() -> bool:
    return (get_language() or "").startswith("en")


class City(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=40)
    name_en = models.CharField(max_length=60, blank=True)
    province = models.CharField(max_length=40)
    province_en = models.CharField(max_length=60, blank=True)
    # The city centre (WGS-84 degrees): the origin of a search "in this city".
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)

    class Meta:
        ordering = ["code"]
        verbose_name = _("city")
        verbose_name_plural = _("cities")
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90),
                name="city_latitude_in_range",
                violation_error_message=_("Latitude must be between -90 and 90."),
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180),
                name="city_longitude_in_range",
                violation_error_message=_("Longitude must be between -180 and 180."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The city's name in the page's language (Chinese unless English is chosen and known)."""
        return self.name_en if _in_english() and self.name_en else self.name

    @property
    def display_province(self) -> str:
        return self.province_en if _in_english() and self.province_en else self.province


class Dealer(models.Model):
    """A dealer or an OEM store: a 4S dealer, an experience store, a delivery or a service centre."""

    class Kind(models.TextChoices):
        DEALER_4S = "dealer_4s", _("4S dealer")
        EXPERIENCE_STORE = "experience_store", _("Experience store")
        DELIVERY_CENTRE = "delivery_centre", _("Delivery centre")
        SERVICE_CENTRE = "service_centre", _("Service centre")

    public_id = models.CharField(max_length=32, unique=True, default=new_dealer_public_id, editable=False)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.DEALER_4S)
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="dealers", verbose_name=_("city"))
    address = models.CharField(_("address"), max_length=200)
    # WGS-84 degrees; six decimals is about 10 cm, plenty for finding a showroom.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    # The store's public landline or service hotline: business information, not personal data.
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    opening_hours = models.JSONField(
        _("opening hours"),
        default=dict,
        blank=True,
        validators=[validate_opening_hours],
        help_text=_('Per weekday: {"mon": ["09:00", "21:00"], ...}; a day left out is closed.'),
    )
    offers_sales = models.BooleanField(_("offers sales"), default=False)
    offers_test_drive = models.BooleanField(_("offers test drives"), default=False)
    offers_delivery = models.BooleanField(_("offers delivery"), default=False)
    offers_service = models.BooleanField(_("offers service"), default=False)
    # How many open leads the store can follow up at once; lead routing stops sending beyond it.
    lead_capacity = models.PositiveIntegerField(_("lead capacity"), default=50)
    demo_car_count = models.PositiveIntegerField(_("demo cars"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("dealer")
        verbose_name_plural = _("dealers")
        indexes = [models.Index(fields=["latitude", "longitude"], name="dealer_position_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90),
                name="dealer_latitude_in_range",
                violation_error_message=_("Latitude must be between -90 and 90."),
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180),
                name="dealer_longitude_in_range",
                violation_error_message=_("Longitude must be between -180 and 180."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["dealer_4s", "experience_store", "delivery_centre", "service_centre"]),
                name="dealer_kind_known",
            ),
            # A 4S dealer (sale, spare parts, service, survey) is a full-line dealer: it does everything.
            models.CheckConstraint(
                condition=~Q(kind="dealer_4s")
                | Q(offers_sales=True, offers_test_drive=True, offers_delivery=True, offers_service=True),
                name="dealer_4s_offers_everything",
                violation_error_message=_("A 4S dealer offers sales, test drives, delivery and service."),
            ),
            # An experience store is an OEM showroom in a mall: it shows cars but may not sell or service.
            models.CheckConstraint(
                condition=~Q(kind="experience_store") | Q(offers_sales=False, offers_service=False),
                name="experience_store_never_sells_or_services",
                violation_error_message=_("An experience store may not offer sales or service."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="delivery_centre") | Q(offers_delivery=True, offers_service=False),
                name="delivery_centre_delivers_no_service",
                violation_error_message=_("A delivery centre offers delivery and no service."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="service_centre") | Q(offers_service=True, offers_sales=False),
                name="service_centre_services_never_sells",
                violation_error_message=_("A service centre offers service and no sales."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def province(self) -> str:
        return self.city.province

    @property
    def services(self) -> list[str]:
        """What the store offers, in the order of SERVICES."""
        return [service for service in SERVICES if self.offers(service)]

    @property
    def service_labels(self) -> list[str]:
        return [str(Service(service).label) for service in self.services]

    @property
    def phone_uri(self) -> str:
        """A `tel:` link for the phone number (digits only), or "" when there is none."""
        digits = "".join(char for char in self.phone if char.isdigit() or char == "+")
        return f"tel:{digits}" if digits else ""

    def offers(self, service: str) -> bool:
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}")
        return bool(getattr(self, f"offers_{service}"))

    def hours_on(self, weekday: str) -> tuple[str, str] | None:
        """(open, close) on a weekday ("mon" … "sun"), or None when closed that day."""
        hours = (self.opening_hours or {}).get(weekday)
        return (hours[0], hours[1]) if hours else None

    def hours_today(self, moment: datetime | None = None) -> tuple[str, str] | None:
        """(open, close) on the day of `moment` in Shanghai time (default: now), or None when closed."""
        local = (moment or clock.now()).astimezone(clock.SHANGHAI)
        return self.hours_on(WEEKDAYS[local.weekday()])

    def is_open_at(self, moment: datetime | None = None) -> bool:
        local = (moment or clock.now()).astimezone(clock.SHANGHAI)
        hours = self.hours_on(WEEKDAYS[local.weekday()])
        return hours is not None and hours[0] <= local.strftime("%H:%M") < hours[1]

    def opening_hours_today_display(self, moment: datetime | None = None) -> str:
        hours = self.hours_today(moment)
        return f"{hours[0]}–{hours[1]}" if hours else str(_("Closed"))

    def opening_hours_display(self) -> list[tuple[str, str]]:
        """The week as (days, hours) rows, equal days merged: [("Mon–Fri", "09:00–18:00"), ...]."""
        rows: list[tuple[str, str]] = []
        run_start = 0
        for index in range(1, len(WEEKDAYS) + 1):
            if index < len(WEEKDAYS) and self.hours_on(WEEKDAYS[index]) == self.hours_on(WEEKDAYS[run_start]):
                continue
            first, last = WEEKDAYS[run_start], WEEKDAYS[index - 1]
            days = (
                str(WEEKDAY_LABELS[first])
                if first == last
                else str(
                    _("%(first)s–%(last)s") % {"first": WEEKDAY_LABELS[first], "last": WEEKDAY_LABELS[last]}
                )
            )
            hours = self.hours_on(first)
            rows.append((days, f"{hours[0]}–{hours[1]}" if hours else str(_("Closed"))))
            run_start = index
        return rows
