"""The loyalty app's error codes; services raise core DomainError/NotFound with one of these codes."""

from enum import StrEnum


class LoyaltyErrorCode(StrEnum):
    INVALID = "invalid"
    INSUFFICIENT_POINTS = "insufficient_points"
    REWARD_UNAVAILABLE = "reward_unavailable"
    TIER_TOO_LOW = "tier_too_low"
    ALREADY_CHECKED_IN = "already_checked_in"
    NOT_A_MEMBER = "not_a_member"
    INVALID_CARD = "invalid_card"
    EARN_RULE_INACTIVE = "earn_rule_inactive"
    DAILY_LIMIT_REACHED = "daily_limit_reached"
    CARD_EXPIRED = "card_expired"
    # A redemption whose cash part is no longer awaiting payment (paid, lapsed or cancelled).
    NOT_PAYABLE = "redemption_not_payable"
