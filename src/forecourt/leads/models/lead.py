"""The lead: one person's interest in one model, its pipeline status and its follow-up clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from forecourt.core.identifiers import public_id
from forecourt.leads.models.channels import Channel


def new_lead_public_id() -> str:
    return public_id("ld")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    CONTACTED = "contacted", _("Contacted")
    VISIT_BOOKED = "visit_booked", _("Visit booked")
    VISITED = "visited", _("Visited")
    TEST_DRIVEN = "test_driven", _("Test driven")
    WON = "won", _("Won")
    DEFEATED = "defeated", _("Defeated")
    # The OEM's own follow-up queue: no consent to share with a dealer, no dealer to route to, or the
    # dealers let the SLA lapse twice. No dealer sees a lead here.
    OEM_QUEUE = "oem_queue", _("OEM follow-up queue")


S = LeadStatus
OPEN_STATUSES: frozenset[str] = frozenset(
    {S.NEW, S.ASSIGNED, S.CONTACTED, S.VISIT_BOOKED, S.VISITED, S.TEST_DRIVEN, S.OEM_QUEUE}
)
CLOSED_STATUSES: frozenset[str] = frozenset({S.WON, S.DEFEATED})
# The first-contact clock runs only while nobody at the dealer has reached out yet.
AWAITING_FIRST_CONTACT: frozenset[str] = frozenset({S.NEW, S.ASSIGNED})
PIPELINE_ORDER: tuple[str, ...] = (
    S.NEW,
    S.ASSIGNED,
    S.CONTACTED,
    S.VISIT_BOOKED,
    S.VISITED,
    S.TEST_DRIVEN,
    S.WON,
)

# Every status change goes through `lead_transition`, which allows only these moves. The pipeline only
# moves forward (a step may be skipped: a consumer who books online goes from new to visit booked);
# `defeated` is reached only through an approved defeat review and left only through an ops reopen;
# the OEM queue is entered and left only by routing (an open lead goes back to the OEM when the SLA
# lapses twice or the person withdraws consent to sharing).
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ASSIGNED, S.CONTACTED, S.VISIT_BOOKED, S.VISITED, S.TEST_DRIVEN, S.WON, S.OEM_QUEUE}),
    S.ASSIGNED: frozenset(
        {S.NEW, S.CONTACTED, S.VISIT_BOOKED, S.VISITED, S.TEST_DRIVEN, S.WON, S.DEFEATED, S.OEM_QUEUE}
    ),
    S.CONTACTED: frozenset({S.VISIT_BOOKED, S.VISITED, S.TEST_DRIVEN, S.WON, S.DEFEATED, S.OEM_QUEUE}),
    S.VISIT_BOOKED: frozenset({S.VISITED, S.TEST_DRIVEN, S.WON, S.DEFEATED, S.OEM_QUEUE}),
    S.VISITED: frozenset({S.TEST_DRIVEN, S.WON, S.DEFEATED, S.OEM_QUEUE}),
    S.TEST_DRIVEN: frozenset({S.WON, S.DEFEATED, S.OEM_QUEUE}),
    S.WON: frozenset(),
    S.DEFEATED: frozenset({S.NEW, S.ASSIGNED}),
    S.OEM_QUEUE: frozenset({S.NEW}),
}
# What dealer staff may move a lead to by hand (the pipeline buttons); the other targets belong to
# their own services (claim/assign, contact log, defeat review, routing, reopen).
MANUAL_TARGETS: frozenset[str] = frozenset({S.VISIT_BOOKED, S.VISITED, S.TEST_DRIVEN, S.WON})
# The moment each milestone was first reached, kept on the lead for the KPIs.
MILESTONE_FIELDS: dict[str, str] = {
    S.VISIT_BOOKED: "visit_booked_at",
    S.VISITED: "visited_at",
    S.TEST_DRIVEN: "test_driven_at",
    S.WON: "won_at",
    S.DEFEATED: "defeated_at",
}


class SlaState(models.TextChoices):
    ON_TIME = "on_time", _("On time")
    DUE_SOON = "due_soon", _("Due soon")
    # Past the deadline and the manager has been told; the reroute time has not come yet.
    OVERDUE = "overdue", _("Overdue")
    ESCALATION_DUE = "escalation_due", _("Escalation due")
    REROUTE_DUE = "reroute_due", _("Re-route due")
    MET = "met", _("Contacted")
    NOT_RUNNING = "not_running", _("No clock")


class Lead(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_lead_public_id, editable=False)
    # The person is a consumer account found by phone hash: the lead never holds a phone number itself.
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="leads", verbose_name=_("person")
    )
    name = models.CharField(_("name given"), max_length=60)
    city = models.ForeignKey(
        "dealers.City",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("city"),
    )
    model = models.ForeignKey(
        "catalog.VehicleModel",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("model of interest"),
    )
    status = models.CharField(_("status"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    dealer = models.ForeignKey(
        "dealers.Dealer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        verbose_name=_("dealer"),
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="advised_leads",
        verbose_name=_("advisor"),
    )
    oem_queue_reason = models.CharField(max_length=40, blank=True)

    routed_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    first_contacted_at = models.DateTimeField(null=True, blank=True)
    # The clock of the current dealer: contact by `sla_deadline` (else the manager is told), and by
    # `reroute_at` (twice the SLA, in business time) or the lead moves on. Fixed when routed, so a
    # later policy change never moves a running clock.
    sla_deadline = models.DateTimeField(null=True, blank=True)
    reroute_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    reroute_count = models.PositiveSmallIntegerField(default=0)
    next_follow_up_at = models.DateTimeField(null=True, blank=True)

    visit_booked_at = models.DateTimeField(null=True, blank=True)
    visited_at = models.DateTimeField(null=True, blank=True)
    test_driven_at = models.DateTimeField(null=True, blank=True)
    won_at = models.DateTimeField(null=True, blank=True)
    defeated_at = models.DateTimeField(null=True, blank=True)

    # First and last touch, denormalised from the touchpoints for filters and attribution reports.
    first_channel = models.CharField(max_length=30, choices=Channel.choices)
    first_campaign = models.CharField(max_length=80, blank=True)
    first_source_site = models.CharField(max_length=80, blank=True)
    first_broker_code = models.CharField(max_length=40, blank=True)
    first_touch_at = models.DateTimeField()
    last_channel = models.CharField(max_length=30, choices=Channel.choices)
    last_campaign = models.CharField(max_length=80, blank=True)
    last_source_site = models.CharField(max_length=80, blank=True)
    last_touch_at = models.DateTimeField()
    touch_count = models.PositiveIntegerField(default=1)

    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [
            # One person, one open lead per model: a second inquiry joins the open lead. The database
            # enforces it, so two inquiries arriving at the same moment cannot both create one.
            models.UniqueConstraint(
                fields=["person", "model"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
                name="lead_one_open_per_person_and_model",
            ),
            # A dealer holds every lead except those in the OEM's queue, which no dealer may see.
            models.CheckConstraint(
                condition=(models.Q(status="oem_queue") & models.Q(dealer__isnull=True))
                | (~models.Q(status="oem_queue") & models.Q(dealer__isnull=False)),
                name="lead_dealer_iff_not_in_oem_queue",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="assigned") | models.Q(advisor__isnull=False),
                name="lead_assigned_has_advisor",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="defeated") | models.Q(defeated_at__isnull=False),
                name="lead_defeated_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["dealer", "status"], name="lead_dealer_status"),
            models.Index(fields=["dealer", "created_at"], name="lead_dealer_created"),
            models.Index(fields=["status", "reroute_at"], name="lead_status_reroute"),
            models.Index(fields=["status", "sla_deadline"], name="lead_status_deadline"),
            models.Index(fields=["advisor", "status"], name="lead_advisor_status"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.name}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_awaiting_first_contact(self) -> bool:
        return (
            self.dealer_id is not None
            and self.status in AWAITING_FIRST_CONTACT
            and self.first_contacted_at is None
            and self.sla_deadline is not None
        )

    def can_transition_to(self, status: str) -> bool:
        return status in ALLOWED_TRANSITIONS.get(self.status, frozenset())

    def sla_state(self, now: datetime, *, due_soon: timedelta = timedelta(minutes=30)) -> SlaState:
        """Where the first-contact clock stands at `now`; evaluated on read, so no timer can be late."""
        if self.first_contacted_at is not None:
            return SlaState.MET
        if not self.is_awaiting_first_contact or self.sla_deadline is None:
            return SlaState.NOT_RUNNING
        if self.reroute_at is not None and now >= self.reroute_at:
            return SlaState.REROUTE_DUE
        if now >= self.sla_deadline:
            return SlaState.OVERDUE if self.escalated_at is not None else SlaState.ESCALATION_DUE
        if now >= self.sla_deadline - due_soon:
            return SlaState.DUE_SOON
        return SlaState.ON_TIME

    def contacted_within_sla(self) -> bool | None:
        """True/False once contacted; None while the clock is still running or never ran."""
        if self.first_contacted_at is None or self.sla_deadline is None:
            return None
        return self.first_contacted_at <= self.sla_deadline
