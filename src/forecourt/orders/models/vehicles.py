"""Cars in stock: at a dealer or at the maker, waiting to be allocated to an order."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# ISO 3779: 17 characters, never I, O or Q (checked by the service that adds stock).
VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}$"


class VehicleStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    ALLOCATED = "allocated", _("Allocated")
    DELIVERED = "delivered", _("Delivered")


class Vehicle(models.Model):
    vin = models.CharField(
        _("VIN"),
        max_length=17,
        unique=True,
        validators=[RegexValidator(VIN_PATTERN, _("A VIN has 17 letters and digits (never I, O or Q)."))],
    )
    trim = models.ForeignKey("catalog.Trim", on_delete=models.PROTECT, related_name="vehicles")
    # The chosen option codes, sorted (as on a saved configuration): a car matches an order exactly.
    option_codes = models.JSONField(default=list)
    # Null: the maker's stock, which any dealer may allocate from.
    dealer = models.ForeignKey(
        "dealers.Dealer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="vehicles",
        verbose_name=_("dealer"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=VehicleStatus.choices, default=VehicleStatus.AVAILABLE
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["vin"]
        verbose_name = _("car in stock")
        verbose_name_plural = _("cars in stock")
        indexes = [models.Index(fields=["trim", "status"], name="vehicle_trim_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["available", "allocated", "delivered"]), name="vehicle_status_known"
            ),
        ]

    def __str__(self) -> str:
        return self.vin

    @property
    def is_maker_stock(self) -> bool:
        return self.dealer_id is None
