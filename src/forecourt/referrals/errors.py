"""The referrals app's error codes; services raise core DomainError/NotFound with one of these codes."""

from enum import StrEnum


class ReferralErrorCode(StrEnum):
    INVALID = "invalid"
    NOT_A_BROKER = "not_a_broker"
    NOT_ELIGIBLE = "not_eligible"
    BROKER_SUSPENDED = "broker_suspended"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    NOT_HELD = "not_held"
    # Tasks, statements and payouts (programme)
    TASK_NOT_OPEN = "task_not_open"
    TASK_NOT_DRAFT = "task_not_draft"
    STATEMENT_MONTH_NOT_STARTED = "statement_month_not_started"
    STATEMENT_ALREADY_PAID = "statement_already_paid"
    STATEMENT_NOTHING_TO_PAY = "statement_nothing_to_pay"
