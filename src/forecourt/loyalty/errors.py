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
