"""The member club (车享汇): members and tiers, the append-only points ledger, earn rules and rewards.

The ledger is the only record of points. Nothing stores a balance: `loyalty.ledger.replay` derives the
spendable, pending, expiring and owed points from the entries, in the order they happened. An entry is
never updated or deleted; a correction is another entry (a reversal points at what it reverses).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from forecourt.core.identifiers import public_id, random_code


def new_member_number() -> str:
    """The card number printed on the e-membership card: 12 base32 characters, not a sequential key."""
    return random_code(12)


def new_reward_id() -> str:
    return public_id("rwd")


def new_reward_order_id() -> str:
    return public_id("rdm")


class Tier(models.TextChoices):
    """Tiers from lowest to highest; `TIER_ORDER` gives the rank."""

    STANDARD = "standard", _("Standard card")
    SILVER = "silver", _("Silver card")
    GOLD = "gold", _("Gold card")
    BLACK = "black", _("Black card")


TIER_ORDER: tuple[str, ...] = (Tier.STANDARD, Tier.SILVER, Tier.GOLD, Tier.BLACK)


class Member(models.Model):
    """Every consumer is a member; the row is made on first need and carries the card number."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="member")
    number = models.CharField(_("card number"), max_length=16, unique=True, default=new_member_number)
    joined_at = models.DateTimeField(_("joined"))
    # The expiry sweep has written every lapse up to this moment: it looks again only at members with a
    # lot lapsing later, instead of replaying every member whose lots lapsed fully spent (no entry to write).
    expiries_written_to = models.DateTimeField(_("expiries written up to"), null=True, blank=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")

    def __str__(self) -> str:
        return self.number


class TierRule(models.Model):
    """The qualifying points over the rolling window a member needs for a tier (set by ops)."""

    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, unique=True)
    min_points = models.PositiveIntegerField(_("qualifying points needed"))

    class Meta:
        ordering = ["min_points"]
        verbose_name = _("tier rule")
        verbose_name_plural = _("tier rules")
        constraints = [
            models.CheckConstraint(
                condition=~Q(tier="standard") | Q(min_points=0), name="loyalty_standard_tier_from_zero"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_tier_display()} ≥ {self.min_points}"


class TierBenefit(models.Model):
    """One benefit of one tier, by a code other apps ask about (`member_has_benefit`)."""

    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices)
    code = models.SlugField(_("code"), max_length=40)
    title = models.CharField(_("title"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # A number some benefits carry: a points multiplier in percent, free washes a year, …
    value = models.PositiveIntegerField(_("value"), default=0)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["tier", "position", "id"]
        verbose_name = _("tier benefit")
        verbose_name_plural = _("tier benefits")
        constraints = [models.UniqueConstraint(fields=["tier", "code"], name="loyalty_benefit_once_per_tier")]

    def __str__(self) -> str:
        return f"{self.tier}: {self.code}"


class EarnSource(models.TextChoices):
    """What earns points; each maps to the domain event that reports it (see `loyalty.earning`)."""

    PURCHASE = "purchase", _("Car purchase (on delivery)")
    TEST_DRIVE = "test_drive", _("Test drive")
    CHECK_IN = "check_in", _("Store check-in")
    REFERRAL = "referral", _("Successful referral")
    COMMUNITY = "community", _("Community contribution")
    DAILY_CHECK_IN = "daily_check_in", _("Daily check-in")
    OPS_TASK = "ops_task", _("Operations task")


class EarnRule(models.Model):
    """How many points one source earns, set by ops. One active rule per source."""

    source = models.CharField(_("source"), max_length=20, choices=EarnSource.choices)
    title = models.CharField(_("title"), max_length=80)
    # Fixed points per occurrence …
    points = models.PositiveIntegerField(_("points"), default=0)
    # … plus, for purchases, one point per this many fen of the order's total (0: none).
    fen_per_point = models.PositiveIntegerField(_("fen per point"), default=0)
    # Points stay pending this many days (e.g. delivery + 7 days) before they can be spent.
    holding_days = models.PositiveSmallIntegerField(_("holding days"), default=0)
    # At most this many earnings of this source per member per day (0: no limit).
    daily_limit = models.PositiveSmallIntegerField(_("daily limit"), default=0)
    # Whether these points count towards the member's tier.
    qualifying = models.BooleanField(_("counts towards tier"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["source", "id"]
        verbose_name = _("earn rule")
        verbose_name_plural = _("earn rules")
        constraints = [
            models.UniqueConstraint(
                fields=["source"], condition=Q(is_active=True), name="loyalty_one_active_rule_per_source"
            ),
            models.CheckConstraint(
                condition=Q(points__gt=0) | Q(fen_per_point__gt=0), name="loyalty_rule_earns_something"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    REDEEM = "redeem", _("Spent")
    # Undoes one earlier entry exactly (an earn when what earned it was cancelled or refunded, a redeem
    # when the reward was not delivered); `reverses` names it.
    REVERSAL = "reversal", _("Reversed")
    EXPIRY = "expiry", _("Expired")
    ADJUST = "adjust", _("Adjusted by operations")


class PointsEntry(models.Model):
    """One line of a member's points ledger. Append-only: never updated, never deleted."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices)
    # Signed: earn and a redeem's reversal are positive; redeem, an earn's reversal and expiry negative.
    points = models.IntegerField(_("points"))
    # A short code (`order.delivered`, `reward`, `daily_check_in`, …) and the words the member reads.
    reason = models.CharField(_("reason"), max_length=40)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # The domain event that caused it (an `core.Event` id) and what it is about (an order number, …).
    source_event = models.CharField(_("source event"), max_length=64, blank=True)
    source_ref = models.CharField(_("source"), max_length=64, blank=True, db_index=True)
    rule = models.ForeignKey(EarnRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Replays of the same cause find this key and change nothing.
    idempotency_key = models.CharField(max_length=120, unique=True)
    occurred_at = models.DateTimeField(_("time"))
    # Earned points: spendable from `available_at` (pending before), lost at `expires_at`.
    available_at = models.DateTimeField(_("available from"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    qualifying = models.BooleanField(_("counts towards tier"), default=False)
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    # An expiry entry names the earned entry (the lot) whose unspent points it records as lost.
    lot = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="expiries")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        indexes = [models.Index(fields=["member", "occurred_at"], name="loyalty_entry_member_time")]
        constraints = [
            # An entry is reversed at most once, and only a reversal points at another entry.
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="loyalty_reversed_once"
            ),
            models.UniqueConstraint(
                fields=["lot"], condition=Q(lot__isnull=False), name="loyalty_lot_expires_once"
            ),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False) | ~Q(kind="reversal"),
                name="loyalty_reversal_names_entry",
            ),
            models.CheckConstraint(
                condition=Q(kind="expiry", lot__isnull=False) | ~Q(kind="expiry"),
                name="loyalty_expiry_names_lot",
            ),
            models.CheckConstraint(
                condition=~Q(kind="earn") | Q(points__gt=0, available_at__isnull=False),
                name="loyalty_earn_positive_with_date",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["redeem", "expiry"]) | Q(points__lt=0),
                name="loyalty_spend_negative",
            ),
            models.CheckConstraint(condition=~Q(points=0), name="loyalty_entry_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.points:+d} {self.reason}"


class RewardKind(models.TextChoices):
    SERVICE = "service", _("Partner service")
    GOODS = "goods", _("Goods")


class Reward(models.Model):
    """A catalogue item bought with points (or points and cash); delivered as an offers voucher.

    The voucher comes from `campaign` (an offers campaign whose count budget is the stock and whose
    per-person limit is the member's limit), so it is written off exactly like any coupon.
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_reward_id, editable=False)
    title = models.CharField(_("title"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=RewardKind.choices, default=RewardKind.SERVICE)
    points_cost = models.PositiveIntegerField(_("points"))
    cash_fen = models.BigIntegerField(_("cash part (fen)"), default=0)
    campaign = models.ForeignKey(
        "offers.Campaign", on_delete=models.PROTECT, related_name="+", verbose_name=_("voucher campaign")
    )
    # The lowest tier allowed to redeem it.
    min_tier = models.CharField(_("lowest tier"), max_length=10, choices=Tier.choices, default=Tier.STANDARD)
    is_active = models.BooleanField(_("on sale"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "points_cost", "id"]
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        constraints = [
            models.CheckConstraint(condition=Q(points_cost__gt=0), name="loyalty_reward_costs_points"),
            models.CheckConstraint(condition=Q(cash_fen__gte=0), name="loyalty_reward_cash_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title


class RewardOrderStatus(models.TextChoices):
    # Points taken; the cash part is awaiting payment.
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    ISSUED = "issued", _("Voucher issued")
    # Not paid in time, or refused: the points were given back by a reversal.
    CANCELLED = "cancelled", _("Cancelled")


class RewardOrder(models.Model):
    """One redemption of a reward: the points entry that paid for it and the voucher it became."""

    public_id = models.CharField(max_length=32, unique=True, default=new_reward_order_id, editable=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="reward_orders")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(_("status"), max_length=20, choices=RewardOrderStatus.choices)
    points = models.PositiveIntegerField(_("points"))
    cash_fen = models.BigIntegerField(_("cash (fen)"), default=0)
    entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, related_name="reward_order")
    voucher_code = models.CharField(_("voucher"), max_length=20, blank=True)
    payment_intent = models.CharField(_("payment"), max_length=32, blank=True, db_index=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(_("time"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("reward redemption")
        verbose_name_plural = _("reward redemptions")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="issued") | ~Q(voucher_code=""), name="loyalty_issued_has_voucher"
            )
        ]

    def __str__(self) -> str:
        return self.public_id
