"""Campaigns: who may claim what, when, where, and how much of the budget is left.

The budget is the invariant: `claimed_count <= budget_count` and `claimed_fen <= budget_fen`, changed
only by conditional UPDATEs (and backed by CheckConstraints), so no rush can hand out more than it holds.
The per-person limit is kept the same way, on one tally row per campaign and person.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from forecourt.catalog.language import in_language
from forecourt.core import clock
from forecourt.core.identifiers import public_id


def new_campaign_public_id() -> str:
    return public_id("cmp")


def new_merchant_public_id() -> str:
    return public_id("mch")


class CouponKind(models.TextChoices):
    CASH_OFF = "cash_off", _("Cash off a car order")
    PERCENT_OFF = "percent_off", _("Percentage off a car order (capped)")
    GIFT = "gift", _("Gift (accessories or services)")
    MERCHANT_SERVICE = "merchant_service", _("Partner merchant service")
    PAID_MULTIPLIER = "paid_multiplier", _("Paid coupon that multiplies")
    SUBSIDY = "subsidy", _("Subsidy")


# Kinds that take money off a car order: they are applied to an order and written off against it.
ORDER_KINDS: frozenset[str] = frozenset(
    {CouponKind.CASH_OFF, CouponKind.PERCENT_OFF, CouponKind.PAID_MULTIPLIER, CouponKind.SUBSIDY}
)
# Kinds written off by themselves at a store or merchant counter.
COUNTER_KINDS: frozenset[str] = frozenset({CouponKind.GIFT, CouponKind.MERCHANT_SERVICE})


class Channel(models.TextChoices):
    APP = "app", _("App")
    WECHAT = "wechat", _("WeChat")
    WEB = "web", _("Website")
    DEALER = "dealer", _("At the dealer")
    LIVE = "live", _("Live stream")
    BROKER = "broker", _("Broker link")


class OnCancel(models.TextChoices):
    """What happens to a voucher applied to an order when the order is cancelled."""

    RELEASE = "release", _("Released back to the holder (if still valid)")
    VOID = "void", _("Voided")


class MerchantKind(models.TextChoices):
    CAR_WASH = "car_wash", _("Car wash")
    DESIGNATED_DRIVER = "designated_driver", _("Designated driver")
    FUEL = "fuel", _("Fuel and charging")
    RENTAL = "rental", _("Car rental")
    ACCESSORIES = "accessories", _("Accessories")
    OTHER = "other", _("Other services")


class Merchant(models.Model):
    """A partner merchant (car wash, designated driver, …) that writes off its own service vouchers."""

    public_id = models.CharField(max_length=32, unique=True, default=new_merchant_public_id, editable=False)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=MerchantKind.choices)
    city = models.ForeignKey(
        "dealers.City", null=True, blank=True, on_delete=models.PROTECT, related_name="merchants"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner merchant")
        verbose_name_plural = _("partner merchants")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return in_language(self.name, self.name_en)


class MerchantStaff(models.Model):
    """A partner-role account that works at a merchant's counter."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_staff"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="staff")

    class Meta:
        verbose_name = _("merchant staff")
        verbose_name_plural = _("merchant staff")

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant}"


class PriceFloor(models.Model):
    """The lowest total ops allow for a car after every discount: per trim, else per model, else the
    settings' default share of the price (OFFERS_DEFAULT_FLOOR_PERCENT)."""

    model = models.ForeignKey(
        "catalog.VehicleModel", null=True, blank=True, on_delete=models.CASCADE, related_name="price_floors"
    )
    trim = models.ForeignKey(
        "catalog.Trim", null=True, blank=True, on_delete=models.CASCADE, related_name="price_floors"
    )
    floor_fen = models.BigIntegerField(_("price floor (fen)"))
    updated_at = models.DateTimeField(_("updated at"), default=clock.now)

    class Meta:
        verbose_name = _("price floor")
        verbose_name_plural = _("price floors")
        constraints = [
            models.CheckConstraint(condition=Q(floor_fen__gte=0), name="price_floor_not_negative"),
            models.CheckConstraint(
                condition=Q(model__isnull=False, trim__isnull=True)
                | Q(model__isnull=True, trim__isnull=False),
                name="price_floor_model_or_trim",
            ),
            models.UniqueConstraint(fields=["model"], name="price_floor_one_per_model"),
            models.UniqueConstraint(fields=["trim"], name="price_floor_one_per_trim"),
        ]

    def __str__(self) -> str:
        return f"{self.trim or self.model}: {self.floor_fen}"


class Campaign(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_campaign_public_id, editable=False)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    description = models.CharField(_("description"), max_length=400, blank=True)
    description_en = models.CharField(_("English description"), max_length=600, blank=True)
    # What the holder is told the dealer will check (e.g. "限购车当日使用" / "one per car").
    conditions = models.CharField(_("conditions"), max_length=300, blank=True)
    conditions_en = models.CharField(_("English conditions"), max_length=400, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=CouponKind.choices)
    is_active = models.BooleanField(_("active"), default=True)
    starts_at = models.DateTimeField(_("claims open at"))
    ends_at = models.DateTimeField(_("claims close at"))
    # A voucher is valid for this many days after it is claimed, and never past `valid_until` if set.
    valid_days = models.PositiveIntegerField(_("valid for (days)"), default=30)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    # Channels a claim may come through; empty means every channel.
    channels = models.JSONField(_("channels"), default=list, blank=True)
    # Eligibility, by code or public id; an empty list means no restriction.
    eligible_models = models.JSONField(_("eligible models"), default=list, blank=True)
    eligible_trims = models.JSONField(_("eligible trims"), default=list, blank=True)
    eligible_cities = models.JSONField(_("eligible cities"), default=list, blank=True)
    eligible_dealers = models.JSONField(_("eligible dealers"), default=list, blank=True)
    # Value. cash_off / paid_multiplier / subsidy / gift: face value in fen (a gift's value is what
    # the dealer honours). percent_off: basis points (1000 = 10 %) capped at `percent_cap_fen`.
    face_value_fen = models.BigIntegerField(_("face value (fen)"), default=0)
    percent_off_bp = models.PositiveIntegerField(_("percentage off (basis points)"), default=0)
    percent_cap_fen = models.BigIntegerField(_("percentage cap (fen)"), default=0)
    # What a paid coupon costs (paid through the payments app before the voucher becomes usable).
    price_fen = models.BigIntegerField(_("price (fen)"), default=0)
    gift_description = models.CharField(_("gift"), max_length=200, blank=True)
    gift_description_en = models.CharField(_("gift (English)"), max_length=300, blank=True)
    merchant = models.ForeignKey(
        Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns"
    )
    # Budget: a count and/or money (each voucher takes its face value, or a percentage coupon its cap).
    budget_count = models.PositiveIntegerField(_("budget (vouchers)"), null=True, blank=True)
    budget_fen = models.BigIntegerField(_("budget (fen)"), null=True, blank=True)
    claimed_count = models.PositiveIntegerField(_("vouchers claimed"), default=0)
    claimed_fen = models.BigIntegerField(_("budget taken (fen)"), default=0)
    per_person_limit = models.PositiveIntegerField(_("limit per person"), default=1)
    # Stacking on one order: exclusive campaigns stack with nothing; otherwise only with the named ones.
    exclusive = models.BooleanField(_("exclusive"), default=False)
    stackable_with = models.ManyToManyField(
        "self", blank=True, symmetrical=True, verbose_name=_("stackable with")
    )
    # The most all offers together may take off one order when this campaign's voucher is on it.
    max_order_discount_fen = models.BigIntegerField(
        _("cap on an order's total discount (fen)"), null=True, blank=True
    )
    on_cancel = models.CharField(
        _("when the order is cancelled"), max_length=10, choices=OnCancel.choices, default=OnCancel.RELEASE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=clock.now)
    updated_at = models.DateTimeField(_("updated at"), default=clock.now)

    class Meta:
        ordering = ["-starts_at", "id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [models.Index(fields=["is_active", "starts_at", "ends_at"], name="campaign_running_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="campaign_period_ordered"),
            models.CheckConstraint(
                condition=Q(
                    face_value_fen__gte=0,
                    percent_cap_fen__gte=0,
                    price_fen__gte=0,
                    claimed_fen__gte=0,
                    percent_off_bp__lte=10000,
                ),
                name="campaign_amounts_valid",
            ),
            models.CheckConstraint(
                condition=Q(budget_count__isnull=True) | Q(claimed_count__lte=F("budget_count")),
                name="campaign_count_within_budget",
            ),
            models.CheckConstraint(
                condition=Q(budget_fen__isnull=True) | Q(claimed_fen__lte=F("budget_fen")),
                name="campaign_money_within_budget",
            ),
            models.CheckConstraint(condition=Q(per_person_limit__gte=1), name="campaign_limit_at_least_one"),
            models.CheckConstraint(
                condition=Q(kind__in=[choice.value for choice in CouponKind]), name="campaign_kind_known"
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

    @property
    def display_conditions(self) -> str:
        return in_language(self.conditions, self.conditions_en)

    @property
    def display_gift(self) -> str:
        return in_language(self.gift_description, self.gift_description_en)

    @property
    def budget_value_fen(self) -> int:
        """What one voucher takes from a money budget."""
        if self.kind == CouponKind.PERCENT_OFF:
            return self.percent_cap_fen
        return self.face_value_fen

    def is_running(self, at: datetime | None = None) -> bool:
        moment = at or clock.now()
        return self.is_active and self.starts_at <= moment < self.ends_at

    @property
    def applies_to_orders(self) -> bool:
        return self.kind in ORDER_KINDS


class ClaimTally(models.Model):
    """How many vouchers of one campaign a person has claimed: `claimed <= limit`, by conditional UPDATE."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tallies")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    claimed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "holder"], name="claim_tally_one_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.holder_id}: {self.claimed}"
