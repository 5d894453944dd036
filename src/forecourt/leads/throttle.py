"""Rate limits on public inquiries (the API and the inquiry form share them)."""

from forecourt.core.phones import phone_hash
from forecourt.core.ratelimit import rate_limit_hit

# An inquiry form is filled in a few times a day by a person; beyond these a script is at work.
INQUIRIES_PER_IP_PER_HOUR = 60
INQUIRIES_PER_PHONE_PER_HOUR = 10
_HOUR = 3600


def inquiry_throttle_ip(*, ip: str, limit: int | None = None) -> None:
    """Count an inquiry from `ip`; raises RateLimited (429) beyond the hourly limit."""
    rate_limit_hit("leads.inquiry.ip", ip, limit=limit or INQUIRIES_PER_IP_PER_HOUR, window_seconds=_HOUR)


def inquiry_throttle_phone(*, phone_e164: str, limit: int | None = None) -> None:
    """Count an inquiry for a number (by its keyed hash: no plain number in the cache)."""
    rate_limit_hit(
        "leads.inquiry.phone",
        phone_hash(phone_e164),
        limit=limit or INQUIRIES_PER_PHONE_PER_HOUR,
        window_seconds=_HOUR,
    )
