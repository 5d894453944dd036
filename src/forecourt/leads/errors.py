"""The leads app's error codes; services raise core DomainError/NotFound with one of these codes."""

from enum import StrEnum

from forecourt.core.errors import field_error as field_error  # the apps import it from here


class LeadErrorCode(StrEnum):
    UNKNOWN_CITY = "unknown_city"
    UNKNOWN_MODEL = "unknown_model"
    UNKNOWN_DEALER = "unknown_dealer"
    INVALID_CHANNEL = "invalid_channel"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    ALREADY_CLAIMED = "already_claimed"
    NOT_CLAIMED = "not_claimed"
    NOT_YOUR_LEAD = "not_your_lead"
    NOT_A_MANAGER = "not_a_manager"
    NOT_DEALER_STAFF = "not_dealer_staff"
    ADVISOR_NOT_AT_DEALER = "advisor_not_at_dealer"
    LEAD_CLOSED = "lead_closed"
    NO_CONTACT_ATTEMPT = "no_contact_attempt"
    DEFEAT_PENDING = "defeat_pending"
    NO_PENDING_DEFEAT = "no_pending_defeat"
    NOT_DEFEATED = "not_defeated"
    FOLLOW_UP_IN_PAST = "follow_up_in_past"
    NO_DEALER = "no_dealer"
    LEAD_HELD_ELSEWHERE = "lead_held_elsewhere"
