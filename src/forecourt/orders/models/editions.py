"""Limited editions sold in flash sales: a fixed number of units (per city or national) and holds on them.

The stock row is the invariant: `units_held + units_sold <= units_total`, changed only by conditional
UPDATEs (and backed by a CheckConstraint), so no amount of concurrency confirms more orders than units.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from forecourt.catalog.language import in_language
from forecourt.core import clock


class LimitedEdition(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    description = models.CharField(_("description"), max_length=400, blank=True)
    description_en = models.CharField(_("English description"), max_length=600, blank=True)
    trim = models.ForeignKey("catalog.Trim", on_delete=models.PROTECT, related_name="editions")
    # The fixed specification: every unit is this trim with these options, sorted.
    option_codes = models.JSONField(default=list)
    hold_minutes = models.PositiveIntegerField(_("hold (minutes)"), default=15)
    # Amounts for this edition; empty means the settings' defaults.
    intention_fen = models.BigIntegerField(_("intention money (fen)"), null=True, blank=True)
    deposit_fen = models.BigIntegerField(_("deposit (fen)"), null=True, blank=True)
    sale_starts_at = models.DateTimeField(_("sale starts at"))
    sale_ends_at = models.DateTimeField(_("sale ends at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sale_starts_at", "code"]
        verbose_name = _("limited edition")
        verbose_name_plural = _("limited editions")
        constraints = [
            models.CheckConstraint(condition=Q(hold_minutes__gte=1), name="edition_hold_at_least_a_minute"),
            models.CheckConstraint(
                condition=Q(sale_ends_at__isnull=True) | Q(sale_ends_at__gt=F("sale_starts_at")),
                name="edition_sale_period_ordered",
            ),
            models.CheckConstraint(
                condition=(Q(intention_fen__isnull=True) | Q(intention_fen__gte=0))
                & (Q(deposit_fen__isnull=True) | Q(deposit_fen__gte=0)),
                name="edition_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return in_language(self.name, self.name_en)

    @property
    def display_description(self) -> str:
        return in_language(self.description, self.description_en)

    def is_on_sale(self, at: datetime | None = None) -> bool:
        moment = at or clock.now()
        return (
            self.is_active
            and self.sale_starts_at <= moment
            and (self.sale_ends_at is None or moment < self.sale_ends_at)
        )


class EditionStock(models.Model):
    """The units of an edition for one city, or the national pool (city empty)."""

    edition = models.ForeignKey(LimitedEdition, on_delete=models.CASCADE, related_name="stocks")
    city = models.ForeignKey(
        "dealers.City", null=True, blank=True, on_delete=models.PROTECT, related_name="edition_stocks"
    )
    units_total = models.PositiveIntegerField(_("units"))
    units_held = models.PositiveIntegerField(_("units held"), default=0)
    units_sold = models.PositiveIntegerField(_("units sold"), default=0)

    class Meta:
        ordering = ["edition", "city"]
        verbose_name = _("edition stock")
        verbose_name_plural = _("edition stocks")
        constraints = [
            models.CheckConstraint(
                condition=Q(units_held__gte=0, units_sold__gte=0), name="edition_stock_counts_not_negative"
            ),
            # The backstop under the conditional UPDATEs: never more units promised than exist.
            models.CheckConstraint(
                condition=Q(units_held__lte=F("units_total") - F("units_sold")),
                name="edition_stock_never_oversold",
            ),
            models.UniqueConstraint(
                fields=["edition", "city"],
                condition=Q(city__isnull=False),
                name="edition_stock_once_per_city",
            ),
            models.UniqueConstraint(
                fields=["edition"], condition=Q(city__isnull=True), name="edition_stock_one_national_pool"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.edition_id}/{self.city_id or '*'} {self.units_sold}+{self.units_held}/{self.units_total}"
        )

    @property
    def units_free(self) -> int:
        return self.units_total - self.units_held - self.units_sold

    @property
    def is_sold_out(self) -> bool:
        return self.units_sold >= self.units_total


class HoldStatus(models.TextChoices):
    HELD = "held", _("Held")
    CONFIRMED = "confirmed", _("Confirmed")
    EXPIRED = "expired", _("Expired")
    RELEASED = "released", _("Released")


class EditionHold(models.Model):
    """A unit kept for one order while its buyer pays; paying confirms it, time or cancelling frees it."""

    stock = models.ForeignKey(EditionStock, on_delete=models.PROTECT, related_name="holds")
    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="hold")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=HoldStatus.choices, default=HoldStatus.HELD)
    expires_at = models.DateTimeField(_("expires at"))
    created_at = models.DateTimeField(_("created at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        ordering = ["expires_at", "id"]
        verbose_name = _("edition hold")
        verbose_name_plural = _("edition holds")
        indexes = [models.Index(fields=["stock", "status", "expires_at"], name="hold_stock_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["held", "confirmed", "expired", "released"]), name="hold_status_known"
            ),
            # One unit of an edition stock per buyer while it is theirs (flash sales are one per person).
            models.UniqueConstraint(
                fields=["stock", "buyer"],
                condition=Q(status__in=["held", "confirmed"]),
                name="hold_one_live_per_buyer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.status}"

    def is_expired(self, at: datetime | None = None) -> bool:
        """Expired when read: an unpaid hold past its time no longer keeps a unit."""
        if self.status == HoldStatus.EXPIRED:
            return True
        return self.status == HoldStatus.HELD and self.expires_at <= (at or clock.now())

    @property
    def effective_status(self) -> str:
        return HoldStatus.EXPIRED if self.is_expired() else self.status
