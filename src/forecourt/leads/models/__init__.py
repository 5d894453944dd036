"""The leads app's models, split by concern."""

from forecourt.leads.models.activity import (
    REACHED_OUTCOMES,
    ContactAttempt,
    ContactOutcome,
    DefeatDecision,
    DefeatReason,
    DefeatReview,
    LeadReopening,
    RoutingDecision,
    RoutingKind,
    Touchpoint,
)
from forecourt.leads.models.channels import PUBLIC_CHANNELS, STAFF_CHANNELS, Channel
from forecourt.leads.models.lead import (
    ALLOWED_TRANSITIONS,
    AWAITING_FIRST_CONTACT,
    CLOSED_STATUSES,
    MANUAL_TARGETS,
    MILESTONE_FIELDS,
    OPEN_STATUSES,
    PIPELINE_ORDER,
    Lead,
    LeadStatus,
    SlaState,
)
from forecourt.leads.models.policy import SlaPolicy

__all__ = [
    "ALLOWED_TRANSITIONS",
    "AWAITING_FIRST_CONTACT",
    "CLOSED_STATUSES",
    "MANUAL_TARGETS",
    "MILESTONE_FIELDS",
    "OPEN_STATUSES",
    "PIPELINE_ORDER",
    "PUBLIC_CHANNELS",
    "REACHED_OUTCOMES",
    "STAFF_CHANNELS",
    "Channel",
    "ContactAttempt",
    "ContactOutcome",
    "DefeatDecision",
    "DefeatReason",
    "DefeatReview",
    "Lead",
    "LeadReopening",
    "LeadStatus",
    "RoutingDecision",
    "RoutingKind",
    "SlaPolicy",
    "SlaState",
    "Touchpoint",
]
