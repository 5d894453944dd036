"""What happens to a lead: touchpoints, routing decisions, contact attempts, defeat reviews, reopenings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from forecourt.leads.models.channels import Channel
from forecourt.leads.models.lead import Lead


class Touchpoint(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="touchpoints")
    channel = models.CharField(_("channel"), max_length=30, choices=Channel.choices)
    campaign = models.CharField(_("campaign"), max_length=80, blank=True)
    source_site = models.CharField(_("source site"), max_length=80, blank=True)
    broker_code = models.CharField(_("broker code"), max_length=40, blank=True)
    utm = models.JSONField(_("UTM parameters"), default=dict, blank=True)
    landing_page = models.CharField(_("landing page"), max_length=500, blank=True)
    # What the person wrote, for a question or a note with the inquiry.
    message = models.CharField(_("message"), max_length=500, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("touchpoint")
        verbose_name_plural = _("touchpoints")
        indexes = [
            models.Index(fields=["lead", "occurred_at"], name="touchpoint_lead_time"),
            models.Index(fields=["channel", "occurred_at"], name="touchpoint_channel_time"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.occurred_at:%Y-%m-%d %H:%M}"


class RoutingKind(models.TextChoices):
    INITIAL = "initial", _("Initial routing")
    REROUTE = "reroute", _("Re-route")
    OEM_QUEUE = "oem_queue", _("To the OEM queue")


class RoutingDecision(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="routing_decisions")
    dealer = models.ForeignKey(
        "dealers.Dealer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=RoutingKind.choices)
    reason_code = models.CharField(max_length=40)
    reason = models.CharField(max_length=500)
    # The candidates weighed (dealer, distance, open leads, capacity) so the choice can be re-checked.
    details = models.JSONField(default=dict, blank=True)
    # The first-contact deadline this dealer was given, kept for the dealer's KPIs after a re-route.
    sla_deadline = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "id"]
        verbose_name = _("routing decision")
        verbose_name_plural = _("routing decisions")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="oem_queue") & models.Q(dealer__isnull=True))
                | (~models.Q(kind="oem_queue") & models.Q(dealer__isnull=False)),
                name="routing_decision_dealer_iff_not_queue",
            )
        ]
        indexes = [models.Index(fields=["dealer", "decided_at"], name="routing_dealer_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.reason_code}"


class ContactOutcome(models.TextChoices):
    REACHED = "reached", _("Reached, talked")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Line busy")
    CALLBACK_REQUESTED = "callback_requested", _("Asked to call back later")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    DECLINED = "declined", _("Not interested")
    MET_IN_PERSON = "met_in_person", _("Met in person")


# Outcomes in which the advisor actually spoke to the person: the lead counts as contacted.
REACHED_OUTCOMES: frozenset[str] = frozenset(
    {
        ContactOutcome.REACHED,
        ContactOutcome.CALLBACK_REQUESTED,
        ContactOutcome.DECLINED,
        ContactOutcome.MET_IN_PERSON,
    }
)


class ContactAttempt(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="contact_attempts")
    # The dealer the lead was with at the time; attempts stay with that dealer's record after a re-route.
    dealer = models.ForeignKey("dealers.Dealer", on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=20, choices=ContactOutcome.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")
        indexes = [models.Index(fields=["lead", "at"], name="contact_attempt_lead_time")]

    def __str__(self) -> str:
        return f"{self.outcome} {self.at:%Y-%m-%d %H:%M}"


class DefeatReason(models.TextChoices):
    BOUGHT_OTHER_BRAND = "bought_other_brand", _("Bought another brand")
    BOUGHT_ELSEWHERE = "bought_elsewhere", _("Bought this brand from another dealer")
    BUDGET = "budget", _("Over budget")
    POSTPONED = "postponed", _("Not buying within six months")
    UNREACHABLE = "unreachable", _("Unreachable after repeated attempts")
    NOT_INTERESTED = "not_interested", _("No longer interested")
    INVALID_CONTACT = "invalid_contact", _("Wrong or fake contact details")
    OTHER = "other", _("Other")


class DefeatDecision(models.TextChoices):
    PENDING = "pending", _("Awaiting review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class DefeatReview(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="defeat_reviews")
    dealer = models.ForeignKey("dealers.Dealer", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=30, choices=DefeatReason.choices)
    evidence = models.TextField(_("evidence"), max_length=2000)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decision = models.CharField(max_length=10, choices=DefeatDecision.choices, default=DefeatDecision.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("defeat review")
        verbose_name_plural = _("defeat reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=models.Q(decision="pending"),
                name="defeat_review_one_pending_per_lead",
            ),
            models.CheckConstraint(
                condition=(models.Q(decision="pending") & models.Q(reviewed_at__isnull=True))
                | (~models.Q(decision="pending") & models.Q(reviewed_at__isnull=False)),
                name="defeat_review_reviewed_iff_decided",
            ),
        ]
        indexes = [models.Index(fields=["dealer", "decision"], name="defeat_review_dealer_decision")]

    def __str__(self) -> str:
        return f"{self.reason} ({self.decision})"


class LeadReopening(models.Model):
    """Ops reopened a defeated lead; the note says why (the audit of defeats)."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="reopenings")
    reopened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=500)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("lead reopening")
        verbose_name_plural = _("lead reopenings")

    def __str__(self) -> str:
        return f"{self.lead_id} {self.at:%Y-%m-%d}"
