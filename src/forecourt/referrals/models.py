"""The broker programme: brokers and their links, referrals and their stages, commission paid per lead
(CPL) and per sale (CPS), OEM tasks with budgets, badges, monthly statements and payouts.

Money is integer fen. A commission moves pending → available → paid (or held while ops look at a fraud
flag, or clawed back when the sale is undone); a task's committed money never exceeds its budget (a
CHECK constraint and a conditional UPDATE).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from forecourt.core.identifiers import public_id, random_code


def new_broker_code() -> str:
    """The code in a broker's links and posters: 8 base32 characters (40 bits), not a sequential key."""
    return random_code(8)


def new_referral_id() -> str:
    return public_id("ref")


def new_commission_id() -> str:
    return public_id("com")


def new_task_id() -> str:
    return public_id("tsk")


def new_statement_id() -> str:
    return public_id("stm")


class BrokerKind(models.TextChoices):
    OWNER = "owner", _("Owner broker")
    PROFESSIONAL = "professional", _("Professional broker")


class BrokerStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("broker status", "Active")
    SUSPENDED = "suspended", _("Suspended")


class Broker(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="broker")
    code = models.CharField(_("referral code"), max_length=12, unique=True, default=new_broker_code)
    kind = models.CharField(_("kind"), max_length=20, choices=BrokerKind.choices, default=BrokerKind.OWNER)
    status = models.CharField(
        _("status"), max_length=10, choices=BrokerStatus.choices, default=BrokerStatus.ACTIVE
    )
    # The city the broker's leaderboard counts them in.
    city = models.ForeignKey(
        "dealers.City", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    enrolled_at = models.DateTimeField(_("enrolled"))
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("broker")
        verbose_name_plural = _("brokers")

    def __str__(self) -> str:
        return self.code


class BrokerDevice(models.Model):
    """A device the broker used while signed in: a referral from it is a self-referral."""

    broker = models.ForeignKey(Broker, on_delete=models.CASCADE, related_name="devices")
    device = models.CharField(max_length=40)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["broker", "device"], name="referrals_broker_device_once")
        ]
        indexes = [models.Index(fields=["device"], name="referrals_broker_device")]

    def __str__(self) -> str:
        return f"{self.broker_id} {self.device}"


class ReferralClick(models.Model):
    """One opening of a broker's link (or scan of the poster): when, from which device and address."""

    broker = models.ForeignKey(Broker, on_delete=models.CASCADE, related_name="clicks")
    device = models.CharField(max_length=40, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    landing = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["broker", "at"], name="referrals_click_broker_time"),
            models.Index(fields=["device", "at"], name="referrals_click_device_time"),
        ]

    def __str__(self) -> str:
        return f"{self.broker_id} {self.at:%Y-%m-%d %H:%M}"


class Stage(models.TextChoices):
    """A referral's progress, in order; `rejected` is the fraud rules' or ops' no."""

    REFERRED = "referred", _("Referred")
    QUALIFIED = "qualified", _("Visited the store")
    ORDERED = "ordered", _("Ordered")
    DELIVERED = "delivered", _("Delivered")
    CONVERTED = "converted", _("Sale confirmed")
    LOST = "lost", _("Cancelled")
    REJECTED = "rejected", _("Not accepted")


class Referral(models.Model):
    """One referred lead credited to one broker (first valid broker wins; one level only)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_referral_id, editable=False)
    broker = models.ForeignKey(Broker, on_delete=models.PROTECT, related_name="referrals")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The lead (leads app, by public id): one referral per lead.
    lead_public_id = models.CharField(max_length=32, unique=True)
    model_code = models.CharField(_("model"), max_length=40, blank=True)
    campaign = models.CharField(_("campaign"), max_length=80, blank=True)
    city = models.ForeignKey(
        "dealers.City", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.REFERRED)
    # Why the rules said no (`self_referral`, `existing_customer`, `velocity`, …), for `rejected`.
    rejection = models.CharField(_("reason"), max_length=40, blank=True)
    # Fraud signals with their evidence: [{"rule": "device_cluster", "evidence": {...}}, …]. A flagged
    # referral's commissions are held until ops decide.
    flags = models.JSONField(_("flags"), default=list, blank=True)
    device = models.CharField(max_length=40, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    clicked_at = models.DateTimeField(_("link opened"), null=True, blank=True)
    referred_at = models.DateTimeField(_("referred"))
    qualified_at = models.DateTimeField(_("visited"), null=True, blank=True)
    order_number = models.CharField(_("order"), max_length=32, blank=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        ordering = ["-referred_at", "-id"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            models.Index(fields=["broker", "referred_at"], name="referrals_broker_time"),
            models.Index(fields=["ip", "referred_at"], name="referrals_ip_time"),
            models.Index(fields=["device", "referred_at"], name="referrals_device_time"),
        ]

    def __str__(self) -> str:
        return self.public_id


class CommissionKind(models.TextChoices):
    CPL = "cpl", _("Per lead (CPL)")
    CPS = "cps", _("Per sale (CPS)")


class CommissionRule(models.Model):
    """What a CPL or CPS pays, for a model and/or a campaign (empty: any). The most specific rule wins."""

    kind = models.CharField(_("kind"), max_length=4, choices=CommissionKind.choices)
    model_code = models.CharField(_("model"), max_length=40, blank=True)
    campaign = models.CharField(_("campaign"), max_length=80, blank=True)
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "model_code", "campaign"]
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="referrals_rule_amount_positive"),
            models.UniqueConstraint(
                fields=["kind", "model_code", "campaign"],
                condition=Q(is_active=True),
                name="referrals_one_active_rule_per_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.model_code or '*'} {self.campaign or '*'}"


class TaskStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", pgettext_lazy("task status", "Closed")


class TaskGoal(models.TextChoices):
    """What a task counts, from events."""

    TEST_DRIVE = "test_drive", _("Test drives")
    STORE_VISIT = "store_visit", _("Store visits")
    DELIVERY = "delivery", _("Deliveries")


class Task(models.Model):
    """An OEM task: e.g. 20 test drives of a model in a city this month, ¥200 each, budget ¥10,000."""

    public_id = models.CharField(max_length=32, unique=True, default=new_task_id, editable=False)
    title = models.CharField(_("title"), max_length=120)
    description = models.CharField(_("description"), max_length=500, blank=True)
    goal = models.CharField(_("goal"), max_length=20, choices=TaskGoal.choices)
    kind = models.CharField(
        _("paid per"), max_length=4, choices=CommissionKind.choices, default=CommissionKind.CPL
    )
    model_code = models.CharField(_("model"), max_length=40, blank=True)
    city = models.ForeignKey(
        "dealers.City", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount_fen = models.BigIntegerField(_("per result (fen)"))
    budget_fen = models.BigIntegerField(_("budget (fen)"))
    # Money promised to results so far; never above the budget.
    committed_fen = models.BigIntegerField(_("committed (fen)"), default=0)
    target_count = models.PositiveIntegerField(_("target"), default=0)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="referrals_task_amount_positive"),
            models.CheckConstraint(
                condition=Q(committed_fen__gte=0, committed_fen__lte=F("budget_fen")),
                name="referrals_task_within_budget",
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="referrals_task_dates"),
        ]

    def __str__(self) -> str:
        return self.title


class TaskAcceptance(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="acceptances")
    broker = models.ForeignKey(Broker, on_delete=models.CASCADE, related_name="task_acceptances")
    accepted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "broker"], name="referrals_task_accepted_once")
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.broker_id}"


class CommissionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    # A fraud flag: held until ops decide, with the evidence shown.
    HELD = "held", _("Held for review")
    AVAILABLE = "available", pgettext_lazy("commission status", "Available")
    PAID = "paid", pgettext_lazy("commission status", "Paid")
    CLAWED_BACK = "clawed_back", _("Clawed back")
    REJECTED = "rejected", _("Rejected")


COMMISSION_TRANSITIONS: dict[str, frozenset[str]] = {
    CommissionStatus.PENDING: frozenset(
        {CommissionStatus.AVAILABLE, CommissionStatus.HELD, CommissionStatus.CLAWED_BACK}
    ),
    CommissionStatus.HELD: frozenset(
        {CommissionStatus.PENDING, CommissionStatus.REJECTED, CommissionStatus.CLAWED_BACK}
    ),
    CommissionStatus.AVAILABLE: frozenset({CommissionStatus.PAID, CommissionStatus.CLAWED_BACK}),
    CommissionStatus.PAID: frozenset({CommissionStatus.CLAWED_BACK}),
    CommissionStatus.CLAWED_BACK: frozenset(),
    CommissionStatus.REJECTED: frozenset(),
}


class Commission(models.Model):
    """Money owed to a broker for one result: a referral's CPL or CPS, or a task's result."""

    public_id = models.CharField(max_length=32, unique=True, default=new_commission_id, editable=False)
    broker = models.ForeignKey(Broker, on_delete=models.PROTECT, related_name="commissions")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="commissions")
    kind = models.CharField(_("kind"), max_length=4, choices=CommissionKind.choices)
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.PROTECT, related_name="commissions"
    )
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    status = models.CharField(
        _("status"), max_length=12, choices=CommissionStatus.choices, default=CommissionStatus.PENDING
    )
    # Pending until then: the CPL holding period, or the end of the return window after delivery.
    available_at = models.DateTimeField(_("available from"))
    hold_reason = models.CharField(_("held because"), max_length=200, blank=True)
    decision_note = models.CharField(_("decision"), max_length=200, blank=True)
    statement = models.ForeignKey(
        "Statement", null=True, blank=True, on_delete=models.PROTECT, related_name="commissions"
    )
    # A commission already on a statement and clawed back afterwards: the later statement that nets it
    # (subtracts it from its gross), so a clawback is deducted exactly once.
    clawback_statement = models.ForeignKey(
        "Statement", null=True, blank=True, on_delete=models.PROTECT, related_name="clawbacks"
    )
    # One per (referral, kind, task): replayed events find it.
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(_("earned"))
    updated_at = models.DateTimeField(_("updated"))
    clawed_back_at = models.DateTimeField(_("clawed back"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("commission")
        verbose_name_plural = _("commissions")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="referrals_commission_positive")
        ]
        indexes = [models.Index(fields=["broker", "status"], name="referrals_commission_broker")]

    def __str__(self) -> str:
        return self.public_id


class BrokerBadge(models.Model):
    """An honour earned by results (first referral, first sale, a month's top broker in a city, …)."""

    broker = models.ForeignKey(Broker, on_delete=models.CASCADE, related_name="badges")
    code = models.SlugField(max_length=40)
    earned_at = models.DateTimeField()
    detail = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["earned_at", "id"]
        constraints = [models.UniqueConstraint(fields=["broker", "code"], name="referrals_badge_once")]

    def __str__(self) -> str:
        return f"{self.broker_id} {self.code}"


class StatementStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    PAID = "paid", pgettext_lazy("statement status", "Paid")


class Statement(models.Model):
    """One broker's month: the commission that became available, the tax withheld and the net paid."""

    public_id = models.CharField(max_length=32, unique=True, default=new_statement_id, editable=False)
    broker = models.ForeignKey(Broker, on_delete=models.PROTECT, related_name="statements")
    month = models.DateField(_("month"))
    gross_fen = models.BigIntegerField(_("gross (fen)"))
    tax_fen = models.BigIntegerField(_("tax withheld (fen)"))
    net_fen = models.BigIntegerField(_("net (fen)"))
    status = models.CharField(_("status"), max_length=10, choices=StatementStatus.choices)
    issued_at = models.DateTimeField(_("issued"))

    class Meta:
        ordering = ["-month", "broker_id"]
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        constraints = [
            models.UniqueConstraint(fields=["broker", "month"], name="referrals_statement_once_a_month"),
            models.CheckConstraint(
                condition=Q(net_fen=F("gross_fen") - F("tax_fen"), tax_fen__gte=0, net_fen__gte=0),
                name="referrals_statement_sums",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.broker_id} {self.month:%Y-%m}"


class Payout(models.Model):
    """Money sent against one statement (bank transfer reference recorded by ops)."""

    statement = models.OneToOneField(Statement, on_delete=models.PROTECT, related_name="payout")
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    reference = models.CharField(_("transfer reference"), max_length=64)
    paid_at = models.DateTimeField(_("paid on"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="referrals_payout_positive")
        ]

    def __str__(self) -> str:
        return self.reference
