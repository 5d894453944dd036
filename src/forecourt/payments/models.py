"""Payment intents, the notifications gateways send about them, refunds, and the double-entry ledger.

Money is integer fen. Every balance that matters is guarded twice: the services change it under a row
lock (or with a conditional UPDATE) and a CheckConstraint makes a broken invariant impossible.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Provider(models.TextChoices):
    SANDBOX = "sandbox", _("Sandbox")
    ALIPAY = "alipay", _("Alipay")
    WECHATPAY = "wechatpay", _("WeChat Pay")
    OFFLINE = "offline", _("Paid in store")


PROVIDERS: tuple[str, ...] = tuple(Provider.values)
# Providers whose money moves inside Forecourt (no gateway to call): refunds succeed at once.
LOCAL_PROVIDERS: frozenset[str] = frozenset({Provider.SANDBOX, Provider.OFFLINE})
# Providers that send asynchronous notifications to POST /payments/<provider>/notify.
NOTIFYING_PROVIDERS: frozenset[str] = frozenset({Provider.SANDBOX, Provider.ALIPAY, Provider.WECHATPAY})
# The channels each provider offers; the first is the default when none is asked for.
PROVIDER_CHANNELS: dict[str, tuple[str, ...]] = {
    Provider.SANDBOX: ("web",),
    Provider.ALIPAY: ("page", "wap"),
    Provider.WECHATPAY: ("native", "h5", "jsapi"),
    Provider.OFFLINE: ("store",),
}


class IntentStatus(models.TextChoices):
    CREATED = "created", _("Awaiting payment")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")
    CLOSED = "closed", _("Closed")


class PaymentIntent(models.Model):
    """One amount a payer owes for a purpose (e.g. "order.deposit") and a reference (e.g. an order number)."""

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    # The merchant order number sent to the gateway: unguessable, [0-9A-Z], at most 32 characters
    # (WeChat Pay's limit); it doubles as the sandbox page's address.
    out_trade_no = models.CharField(max_length=32, unique=True, editable=False)
    # The caller's key: the same key returns the same intent, so a retried call never asks twice.
    idempotency_key = models.CharField(max_length=200, unique=True)
    purpose = models.CharField(_("purpose"), max_length=40)
    reference = models.CharField(_("reference"), max_length=64, db_index=True)
    description = models.CharField(_("description"), max_length=127)
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    currency = models.CharField(max_length=3, default="CNY")
    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices)
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_intents",
    )
    # The payer's id at the gateway when a channel needs it (WeChat JSAPI: the openid).
    payer_reference = models.CharField(max_length=128, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=IntentStatus.choices, default=IntentStatus.CREATED
    )
    provider_trade_no = models.CharField(max_length=64, blank=True)
    return_url = models.CharField(max_length=500, blank=True)
    # Sum of succeeded refunds, and of refunds a gateway is still working on (reserved, so two refunds
    # in flight can never together exceed what was paid).
    refunded_fen = models.BigIntegerField(_("refunded (fen)"), default=0)
    refunding_fen = models.BigIntegerField(_("refund in progress (fen)"), default=0)
    # Money taken in store: the till receipt and the staff member who recorded it.
    receipt_number = models.CharField(_("receipt number"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    failure_reason = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # After this the sandbox page no longer takes money; gateways are told the same time limit.
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payment_intent_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_fen__gte=0), name="payment_intent_refunded_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(refunding_fen__gte=0), name="payment_intent_refunding_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(refunded_fen__lte=F("amount_fen") - F("refunding_fen")),
                name="payment_intent_refunds_within_amount",
            ),
            # Only money received can be given back.
            models.CheckConstraint(
                condition=Q(status="succeeded") | (Q(refunded_fen=0) & Q(refunding_fen=0)),
                name="payment_intent_refunds_only_when_paid",
            ),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(paid_at__isnull=False),
                name="payment_intent_paid_has_paid_at",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["created", "succeeded", "failed", "closed"]),
                name="payment_intent_status_known",
            ),
            # One till receipt is one payment: recording it twice under two keys must fail.
            models.UniqueConstraint(
                fields=["receipt_number"],
                condition=Q(provider="offline") & ~Q(receipt_number=""),
                name="payment_intent_offline_receipt_unique",
            ),
        ]
        indexes = [models.Index(fields=["status", "provider", "created_at"])]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self) -> str:
        return f"{self.public_id} {self.purpose} {self.reference} {self.amount_fen} {self.status}"

    @property
    def refundable_fen(self) -> int:
        if self.status != IntentStatus.SUCCEEDED:
            return 0
        return self.amount_fen - self.refunded_fen - self.refunding_fen


class NotificationResult(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DUPLICATE = "duplicate", _("Duplicate")
    REJECTED = "rejected", _("Rejected")


class NotificationSource(models.TextChoices):
    NOTIFY = "notify", _("Gateway notification")
    QUERY = "query", _("Our query to the gateway")


class PaymentNotification(models.Model):
    """Every notification received, believed or not: the evidence the reconciliation reads."""

    provider = models.CharField(max_length=20)
    source = models.CharField(
        max_length=10, choices=NotificationSource.choices, default=NotificationSource.NOTIFY
    )
    # The gateway's id for the notification; empty when it could not even be read.
    notification_id = models.CharField(max_length=128, blank=True)
    out_trade_no = models.CharField(max_length=64, blank=True, db_index=True)
    intent = models.ForeignKey(
        PaymentIntent, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    # What the verified notification said ("succeeded", "failed", "closed", "pending"); empty if rejected
    # before it could be read.
    status = models.CharField(max_length=20, blank=True)
    amount_fen = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=NotificationResult.choices)
    reason = models.CharField(max_length=60, blank=True)
    received_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    # The body as received with signatures and personal data masked, cut to a sane length.
    body = models.TextField(blank=True)
    fields = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            # Exactly once: a notification id is believed at most once per provider.
            models.UniqueConstraint(
                fields=["provider", "notification_id"],
                condition=Q(outcome="accepted"),
                name="payment_notification_accepted_once",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["accepted", "duplicate", "rejected"]),
                name="payment_notification_outcome_known",
            ),
        ]
        indexes = [models.Index(fields=["outcome", "received_at"])]
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")

    def __str__(self) -> str:
        return f"{self.provider} {self.notification_id or '-'} {self.outcome} {self.reason}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("In progress")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


class Refund(models.Model):
    public_id = models.CharField(max_length=32, unique=True, editable=False)
    # The merchant refund number sent to the gateway; the gateway refunds once per number.
    out_refund_no = models.CharField(max_length=64, unique=True, editable=False)
    idempotency_key = models.CharField(max_length=200, unique=True)
    intent = models.ForeignKey(PaymentIntent, on_delete=models.PROTECT, related_name="refunds")
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    currency = models.CharField(max_length=3, default="CNY")
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    provider_refund_id = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "succeeded", "failed"]), name="refund_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(succeeded_at__isnull=False),
                name="refund_succeeded_has_time",
            ),
        ]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")

    def __str__(self) -> str:
        return f"{self.public_id} {self.amount_fen} {self.status}"


class LedgerKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")


class LedgerEntry(models.Model):
    """One leg of a money movement. The legs of one movement share a `group` and sum to zero.

    Debits are positive, credits negative. A payment debits `gateway:<provider>` (money now held at the
    gateway or till) and credits `customer_funds:<purpose>` (what we owe the customer in goods or money);
    a refund reverses both. The unique (group, account) pair writes a movement at most once.
    """

    group = models.CharField(max_length=100)
    account = models.CharField(max_length=80)
    amount_fen = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    kind = models.CharField(max_length=20, choices=LedgerKind.choices)
    intent = models.ForeignKey(PaymentIntent, on_delete=models.PROTECT, related_name="ledger_entries")
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["group", "account"], name="ledger_entry_once_per_group_account"),
            models.CheckConstraint(condition=~Q(amount_fen=0), name="ledger_entry_not_zero"),
            models.CheckConstraint(
                condition=~Q(kind="refund") | Q(refund__isnull=False), name="ledger_refund_entry_names_refund"
            ),
        ]
        # (group, account) is indexed by the unique constraint.
        indexes = [models.Index(fields=["account"])]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    def __str__(self) -> str:
        return f"{self.group} {self.account} {self.amount_fen:+d}"
