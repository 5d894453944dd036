"""The order: the contract between the buyer, the maker and the delivering dealer, and its history."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from forecourt.core import clock
from forecourt.core.identifiers import random_code
from forecourt.core.money import Money

ORDER_NUMBER_PREFIX = "FO"


def new_order_number() -> str:
    """ "FO" and 12 base32 characters (60 bits): unguessable, and easy to read out at a counter."""
    return ORDER_NUMBER_PREFIX + random_code(12)


class OrderStatus(models.TextChoices):
    CREATED = "created", _("Created")
    INTENTION_PAID = "intention_paid", _("Intention money paid")
    DEPOSIT_PAID = "deposit_paid", _("Deposit paid")
    LOCKED = "locked", _("Locked")
    ALLOCATED = "allocated", _("Car allocated")
    FINAL_PAID = "final_paid", _("Final payment received")
    READY_FOR_DELIVERY = "ready_for_delivery", _("Ready for delivery")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


S = OrderStatus
# The lifecycle in order; `cancelled` is left out (it is reached from any stage before delivery).
LIFECYCLE: tuple[str, ...] = (
    S.CREATED,
    S.INTENTION_PAID,
    S.DEPOSIT_PAID,
    S.LOCKED,
    S.ALLOCATED,
    S.FINAL_PAID,
    S.READY_FOR_DELIVERY,
    S.DELIVERED,
)
# Every status change goes through `order_transition`, which allows only these moves: one step
# forward along the lifecycle, or cancellation from any stage before delivery.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    status: frozenset({LIFECYCLE[index + 1], S.CANCELLED}) for index, status in enumerate(LIFECYCLE[:-1])
}
ALLOWED_TRANSITIONS[S.DELIVERED] = frozenset()
ALLOWED_TRANSITIONS[S.CANCELLED] = frozenset()
CLOSED_STATUSES: frozenset[str] = frozenset({S.DELIVERED, S.CANCELLED})
# Before the lock the buyer may change the configuration and every fen paid is refundable.
BEFORE_LOCK: frozenset[str] = frozenset({S.CREATED, S.INTENTION_PAID, S.DEPOSIT_PAID})
# From the lock on, the deposit is kept when the buyer cancels.
LOCKED_OR_LATER: frozenset[str] = frozenset({S.LOCKED, S.ALLOCATED, S.FINAL_PAID, S.READY_FOR_DELIVERY})


class PaymentStage(models.TextChoices):
    """What a payment is for; the payment intent's purpose is "order." + the stage."""

    INTENTION = "intention", _("Intention money")
    DEPOSIT = "deposit", _("Deposit")
    FINAL = "final", _("Final payment")


PURPOSE_PREFIX = "order."


class CancelReason(models.TextChoices):
    BUYER = "buyer", _("Cancelled by the buyer")
    DEALER = "dealer", _("Cancelled by the dealer")
    OPS = "ops", _("Cancelled by the OEM")
    HOLD_EXPIRED = "hold_expired", _("The reserved unit was not paid for in time")
    SOLD_OUT = "sold_out", _("The payment arrived after the reservation expired and the edition sold out")


class Order(models.Model):
    number = models.CharField(_("order number"), max_length=16, unique=True, default=new_order_number)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", verbose_name=_("buyer")
    )
    # The buyer's current configuration; a limited-edition order has none (the edition fixes the car).
    configuration = models.ForeignKey(
        "catalog.SavedConfiguration",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("configuration"),
    )
    trim = models.ForeignKey("catalog.Trim", on_delete=models.PROTECT, related_name="orders")
    option_codes = models.JSONField(default=list)
    # The quote's lines exactly as agreed ([{"code", "name", "name_en", "kind", "basis", "package",
    # "price_fen"}]): the dealer sees these and cannot charge differently.
    lines = models.JSONField(default=list)
    price_list_version = models.PositiveIntegerField(_("price list version"))
    currency = models.CharField(max_length=3, default="CNY")
    vehicle_price_fen = models.BigIntegerField(_("vehicle price (fen)"))
    # The coupons applied, exactly as the dealer must honour them ([{"code", "campaign", "name", "kind",
    # "value_fen"}]); their values add up to `discount_fen`.
    discount_fen = models.BigIntegerField(_("discount (fen)"), default=0)
    applied_offers = models.JSONField(default=list, blank=True)
    # The lowest total ops allow for this car (offers' price floor): no stack of coupons goes below it.
    floor_fen = models.BigIntegerField(_("price floor (fen)"), default=0)
    total_fen = models.BigIntegerField(_("total (fen)"))
    intention_fen = models.BigIntegerField(_("intention money (fen)"))
    # The whole deposit, of which the intention money is the first part.
    deposit_fen = models.BigIntegerField(_("deposit (fen)"))
    # Money credited to the order (never more than the total) and refunded from it (never more than paid).
    paid_fen = models.BigIntegerField(_("paid (fen)"), default=0)
    refunded_fen = models.BigIntegerField(_("refunded (fen)"), default=0)
    dealer = models.ForeignKey(
        "dealers.Dealer", on_delete=models.PROTECT, related_name="orders", verbose_name=_("delivering dealer")
    )
    city = models.ForeignKey("dealers.City", on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=S.CREATED)
    # The date the buyer agreed to: the order locks (and the deposit stops being refundable) when it ends.
    lock_deadline = models.DateField(_("lock date"), null=True, blank=True)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    vehicle = models.OneToOneField(
        "orders.Vehicle",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order",
        verbose_name=_("allocated car"),
    )
    promised_delivery_date = models.DateField(_("promised delivery date"), null=True, blank=True)
    delivery_at = models.DateTimeField(_("delivery booked for"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    edition = models.ForeignKey(
        "orders.LimitedEdition", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(
        _("cancel reason"), max_length=20, choices=CancelReason.choices, blank=True
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["dealer", "status"], name="order_dealer_status_idx"),
            models.Index(fields=["buyer", "-created_at"], name="order_buyer_recent_idx"),
            models.Index(fields=["status", "lock_deadline"], name="order_status_lock_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    vehicle_price_fen__gte=0,
                    discount_fen__gte=0,
                    total_fen__gte=0,
                    intention_fen__gte=0,
                    deposit_fen__gte=0,
                    paid_fen__gte=0,
                    refunded_fen__gte=0,
                ),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(total_fen=F("vehicle_price_fen") - F("discount_fen")),
                name="order_total_is_price_less_discount",
            ),
            models.CheckConstraint(
                condition=Q(total_fen__gte=F("floor_fen")), name="order_total_not_below_floor"
            ),
            models.CheckConstraint(
                condition=Q(intention_fen__lte=F("deposit_fen"), deposit_fen__lte=F("total_fen")),
                name="order_intention_within_deposit_within_total",
            ),
            models.CheckConstraint(condition=Q(paid_fen__lte=F("total_fen")), name="order_paid_within_total"),
            models.CheckConstraint(
                condition=Q(refunded_fen__lte=F("paid_fen")), name="order_refunded_within_paid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in OrderStatus]), name="order_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="order_cancelled_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False, vehicle__isnull=False),
                name="order_delivered_has_car_and_time",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    # Money, as Money.
    @property
    def total(self) -> Money:
        return Money(self.total_fen, self.currency)

    @property
    def paid(self) -> Money:
        return Money(self.paid_fen, self.currency)

    @property
    def refunded(self) -> Money:
        return Money(self.refunded_fen, self.currency)

    @property
    def final_fen(self) -> int:
        """The final payment: the total less the deposit."""
        return self.total_fen - self.deposit_fen

    @property
    def balance_fen(self) -> int:
        """What is still to pay on the whole order."""
        return self.total_fen - self.paid_fen

    def stage_target_fen(self, stage: str) -> int:
        """How much the order has received in all once `stage` is paid."""
        return {
            PaymentStage.INTENTION: self.intention_fen,
            PaymentStage.DEPOSIT: self.deposit_fen,
            PaymentStage.FINAL: self.total_fen,
        }[PaymentStage(stage)]

    # The lock, evaluated when read: a deposit-paid order whose lock date has ended is locked even
    # before the sweeper writes it down.
    @property
    def lock_due_at(self) -> datetime | None:
        """The end of the lock date in Shanghai (the buyer has the whole day to change their mind)."""
        if self.lock_deadline is None:
            return None
        return datetime.combine(self.lock_deadline + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI)

    def is_lock_due(self, at: datetime | None = None) -> bool:
        due = self.lock_due_at
        return self.status == S.DEPOSIT_PAID and due is not None and (at or clock.now()) >= due

    @property
    def effective_status(self) -> str:
        return S.LOCKED if self.is_lock_due() else self.status

    @property
    def is_locked(self) -> bool:
        return self.effective_status in LOCKED_OR_LATER or self.status == S.DELIVERED

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    def can_change_configuration(self) -> bool:
        return self.edition_id is None and self.effective_status in BEFORE_LOCK

    def can_cancel(self) -> bool:
        return self.status not in CLOSED_STATUSES

    def late_days_until(self, moment: datetime) -> list[date]:
        """Whole local days past the promised date before `moment` (each accrues compensation once)."""
        if self.promised_delivery_date is None:
            return []
        end = moment.astimezone(clock.SHANGHAI).date()
        first = self.promised_delivery_date + timedelta(days=1)
        return [first + timedelta(days=offset) for offset in range((end - first).days)]


class OrderStatusChange(models.Model):
    """One row per status change: who moved the order from where to where, when and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} → {self.to_status}"


class OrderChange(models.Model):
    """A configuration change in the change window, repriced under the order's own price list."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="changes")
    old_configuration = models.ForeignKey(
        "catalog.SavedConfiguration", null=True, on_delete=models.PROTECT, related_name="+"
    )
    new_configuration = models.ForeignKey(
        "catalog.SavedConfiguration", on_delete=models.PROTECT, related_name="+"
    )
    old_trim_code = models.CharField(max_length=40)
    new_trim_code = models.CharField(max_length=40)
    old_option_codes = models.JSONField(default=list)
    new_option_codes = models.JSONField(default=list)
    old_total_fen = models.BigIntegerField()
    new_total_fen = models.BigIntegerField()
    price_list_version = models.PositiveIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("configuration change")
        verbose_name_plural = _("configuration changes")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.old_total_fen} → {self.new_total_fen}"

    @property
    def difference_fen(self) -> int:
        return self.new_total_fen - self.old_total_fen


class OrderPayment(models.Model):
    """What one succeeded payment intent did to an order: credited, and any excess sent back.

    A payment may bring more than the stage owes (paid twice through two gateways, or after the order
    was cancelled). Only what is owed is credited; the excess is refunded at once. Refunds on the intent
    cover the excess first, so only the rest counts against the order's `refunded_fen`.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    intent = models.CharField(_("payment intent"), max_length=40, unique=True)
    purpose = models.CharField(max_length=40)
    provider = models.CharField(max_length=20, blank=True)
    amount_fen = models.BigIntegerField()
    credited_fen = models.BigIntegerField()
    excess_fen = models.BigIntegerField(default=0)
    # Everything refunded on this intent so far (confirmed by payment.refunded), excess included.
    refunded_fen = models.BigIntegerField(default=0)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("order payment")
        verbose_name_plural = _("order payments")
        constraints = [
            models.CheckConstraint(
                condition=Q(credited_fen__gte=0, excess_fen__gte=0, refunded_fen__gte=0),
                name="order_payment_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount_fen=F("credited_fen") + F("excess_fen")),
                name="order_payment_credited_plus_excess",
            ),
            models.CheckConstraint(
                condition=Q(refunded_fen__lte=F("amount_fen")), name="order_payment_refunded_within_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.intent} {self.credited_fen}+{self.excess_fen}"

    @property
    def order_refunded_fen(self) -> int:
        """The part of this intent's refunds that came out of money credited to the order."""
        return max(0, self.refunded_fen - self.excess_fen)


class OrderRefund(models.Model):
    """One refund confirmed by payments (payment.refunded), applied to the order once."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(OrderPayment, on_delete=models.PROTECT, related_name="refunds")
    refund = models.CharField(_("refund"), max_length=40, unique=True)
    amount_fen = models.BigIntegerField()
    # How much of it came out of money credited to the order (the rest returned an excess).
    applied_fen = models.BigIntegerField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("order refund")
        verbose_name_plural = _("order refunds")
        constraints = [
            models.CheckConstraint(
                condition=Q(applied_fen__gte=0, applied_fen__lte=F("amount_fen")),
                name="order_refund_applied_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.refund} {self.amount_fen}"


class OrderLateDay(models.Model):
    """One whole day of late delivery: compensation accrues exactly once per (order, day)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="late_days")
    day = models.DateField()
    points = models.PositiveIntegerField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["order", "day"]
        verbose_name = _("late delivery day")
        verbose_name_plural = _("late delivery days")
        constraints = [models.UniqueConstraint(fields=["order", "day"], name="order_late_day_once")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.day}"
