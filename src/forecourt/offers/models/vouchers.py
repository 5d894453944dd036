"""Vouchers: one claimed coupon, bound to its holder (and, once applied, to one order), and its write-offs.

A voucher is redeemed exactly once: the status moves by conditional UPDATE and a partial unique index
allows one standing redemption per voucher, so neither a double scan nor a rush can write it off twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from forecourt.core.identifiers import random_code

from .campaigns import ORDER_KINDS, Campaign, CouponKind, Merchant

VOUCHER_CODE_LENGTH = 16


def new_voucher_code() -> str:
    """16 base32 characters (80 bits): unguessable, typed at a counter in four groups of four."""
    return random_code(VOUCHER_CODE_LENGTH)


class VoucherStatus(models.TextChoices):
    # A paid coupon waiting for its payment; it becomes active when payments records the success.
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    ACTIVE = "active", _("Active")
    # Reserved by one order; the order's discount includes it.
    APPLIED = "applied", _("Applied to an order")
    REDEEMED = "redeemed", _("Used")
    EXPIRED = "expired", _("Expired")
    VOID = "void", _("Void")
    REFUNDED = "refunded", _("Refunded")


V = VoucherStatus


class Voucher(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True, default=new_voucher_code)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="vouchers")
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="vouchers", verbose_name=_("holder")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CouponKind.choices)
    status = models.CharField(_("status"), max_length=20, choices=VoucherStatus.choices, default=V.ACTIVE)
    # Value at claim time (copied from the campaign so a later edit cannot change a claimed voucher).
    face_value_fen = models.BigIntegerField(_("face value (fen)"), default=0)
    percent_off_bp = models.PositiveIntegerField(_("percentage off (basis points)"), default=0)
    percent_cap_fen = models.BigIntegerField(_("percentage cap (fen)"), default=0)
    # What was taken from the campaign's money budget; given back only if the claim is undone.
    budget_fen = models.BigIntegerField(_("budget taken (fen)"), default=0)
    channel = models.CharField(_("channel"), max_length=10, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    # Paid coupons: the price and the payment intent that pays it.
    price_fen = models.BigIntegerField(_("price (fen)"), default=0)
    payment_intent = models.CharField(_("payment"), max_length=32, blank=True, db_index=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    # Set while applied to (or redeemed against) an order: the order's number, dealer and the discount.
    order_reference = models.CharField(_("order"), max_length=32, blank=True, db_index=True)
    order_dealer = models.ForeignKey(
        "dealers.Dealer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applied_value_fen = models.BigIntegerField(_("discount given (fen)"), default=0)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    redeemed_at = models.DateTimeField(_("used at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("why void"), max_length=200, blank=True)
    # The subsidy application this voucher was issued for, if any.
    application = models.OneToOneField(
        "offers.SubsidyApplication", null=True, blank=True, on_delete=models.PROTECT, related_name="voucher"
    )
    created_at = models.DateTimeField(_("claimed at"), db_index=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        indexes = [
            models.Index(fields=["holder", "status"], name="voucher_holder_status_idx"),
            models.Index(fields=["campaign", "status"], name="voucher_campaign_status_idx"),
            models.Index(fields=["status", "valid_until"], name="voucher_status_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in VoucherStatus]),
                name="voucher_status_known",
            ),
            models.CheckConstraint(
                condition=Q(
                    face_value_fen__gte=0,
                    percent_cap_fen__gte=0,
                    budget_fen__gte=0,
                    price_fen__gte=0,
                    applied_value_fen__gte=0,
                ),
                name="voucher_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gt=F("valid_from")), name="voucher_validity_ordered"
            ),
            models.CheckConstraint(
                condition=~Q(status="applied") | ~Q(order_reference=""), name="voucher_applied_has_order"
            ),
            models.CheckConstraint(
                condition=~Q(status="redeemed") | Q(redeemed_at__isnull=False),
                name="voucher_redeemed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["void", "refunded"]) | Q(voided_at__isnull=False),
                name="voucher_void_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.display_code

    @property
    def display_code(self) -> str:
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))

    @property
    def applies_to_orders(self) -> bool:
        return self.kind in ORDER_KINDS


class Redemption(models.Model):
    """One write-off of a voucher: who, where, when, with which scan's idempotency key; ops may reverse it."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    redeemed_at = models.DateTimeField(_("used at"))
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dealer = models.ForeignKey(
        "dealers.Dealer", null=True, blank=True, on_delete=models.PROTECT, related_name="redemptions"
    )
    merchant = models.ForeignKey(
        Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="redemptions"
    )
    # The place as shown to people ("上海浦东体验中心"), kept as it was at the time.
    place = models.CharField(_("place"), max_length=120)
    order_reference = models.CharField(_("order"), max_length=32, blank=True)
    value_fen = models.BigIntegerField(_("value (fen)"), default=0)
    idempotency_key = models.CharField(max_length=128, blank=True)
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reverse_reason = models.CharField(_("why reversed"), max_length=300, blank=True)

    class Meta:
        ordering = ["-redeemed_at", "-id"]
        verbose_name = _("write-off")
        verbose_name_plural = _("write-offs")
        indexes = [models.Index(fields=["dealer", "-redeemed_at"], name="redemption_dealer_recent_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["voucher"], condition=Q(reversed_at__isnull=True), name="redemption_one_standing"
            ),
            models.CheckConstraint(
                condition=Q(dealer__isnull=False) | Q(merchant__isnull=False), name="redemption_has_place"
            ),
            models.CheckConstraint(
                condition=Q(reversed_at__isnull=True) | ~Q(reverse_reason=""),
                name="redemption_reversal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voucher_id} @ {self.place}"
