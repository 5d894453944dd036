"""One user model for everyone; a person's role decides what they may see and do."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from forecourt.core.phones import decrypt_phone, mask_phone


class Role(models.TextChoices):
    CONSUMER = "consumer", _("Consumer")
    SALES_ADVISOR = "sales_advisor", _("Sales advisor")
    SERVICE_ADVISOR = "service_advisor", _("Service advisor")
    DEALER_MANAGER = "dealer_manager", _("Dealer manager")
    BROKER = "broker", _("Broker")
    OPS = "ops", _("OEM operations")
    PARTNER = "partner", _("Partner")


DEALER_ROLES = frozenset({Role.SALES_ADVISOR, Role.SERVICE_ADVISOR, Role.DEALER_MANAGER})


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CONSUMER)
    # Dealer staff are bound to exactly one dealer; everyone else to none.
    dealer = models.ForeignKey(
        "dealers.Dealer", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    display_name = models.CharField(_("name"), max_length=60, blank=True)
    # PIPL: a keyed hash to find the person and a ciphertext to show the number; never a plain column.
    phone_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    phone_encrypted = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role__in=["sales_advisor", "service_advisor", "dealer_manager"])
                | models.Q(dealer__isnull=False),
                name="dealer_staff_bound_to_a_dealer",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["sales_advisor", "service_advisor", "dealer_manager"])
                | models.Q(dealer__isnull=True),
                name="only_dealer_staff_have_a_dealer",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_dealer_staff(self) -> bool:
        return self.role in DEALER_ROLES

    @property
    def masked_phone(self) -> str:
        return mask_phone(decrypt_phone(self.phone_encrypted)) if self.phone_encrypted else ""
