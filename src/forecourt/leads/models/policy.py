"""The OEM's follow-up SLA and routing settings (one row per OEM; the first row is the one in force)."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from forecourt.leads.business_hours import BusinessCalendar


def all_weekdays() -> list[int]:
    return list(range(7))


class SlaPolicy(models.Model):
    oem_code = models.SlugField(max_length=40, unique=True, default="default")
    first_contact_business_minutes = models.PositiveIntegerField(
        _("first contact within (business minutes)"), default=120
    )
    due_soon_minutes = models.PositiveIntegerField(_("warn when this many minutes are left"), default=30)
    business_day_start = models.TimeField(_("business day starts"), default=time(8, 30))
    business_day_end = models.TimeField(_("business day ends"), default=time(21, 0))
    # Python weekday numbers, Monday = 0 … Sunday = 6. Car showrooms in China open every day by default.
    working_weekdays = models.JSONField(_("working weekdays"), default=all_weekdays)
    # ISO dates (YYYY-MM-DD) on which the clock does not run, e.g. Spring Festival.
    closed_dates = models.JSONField(_("closed dates"), default=list, blank=True)
    timezone = models.CharField(_("time zone"), max_length=60, default="Asia/Shanghai")
    max_reroutes = models.PositiveSmallIntegerField(_("re-routes before the OEM queue"), default=2)
    # Routing looks at this many nearest sales dealers of the person's city and picks the least loaded.
    routing_nearest_count = models.PositiveSmallIntegerField(_("dealers compared when routing"), default=3)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(business_day_end__gt=models.F("business_day_start")),
                name="sla_policy_day_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(first_contact_business_minutes__gt=0), name="sla_policy_positive_deadline"
            ),
            models.CheckConstraint(
                condition=models.Q(routing_nearest_count__gt=0), name="sla_policy_compares_a_dealer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.oem_code}: {self.first_contact_business_minutes} min"

    def clean(self) -> None:
        try:
            self.calendar()
        except (ValueError, TypeError, KeyError) as exc:
            raise ValidationError(str(exc)) from exc

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(
            day_start=self.business_day_start,
            day_end=self.business_day_end,
            working_weekdays=frozenset(int(day) for day in self.working_weekdays),
            tz=ZoneInfo(self.timezone),
            closed_dates=frozenset(date.fromisoformat(str(day)) for day in self.closed_dates),
        )
