"""The referral mark: which broker's link a browser arrived by, and when, carried to the lead it becomes.

The referrals app sets it when someone opens a broker's link; the inquiry form and the test-drive
booking read it and hand it to `lead_capture`, whose events carry it to the referrals app. It is signed
(a visitor cannot forge another broker's code or the time) and expires with the attribution window.
The first valid broker wins: a later link does not replace a mark that is still valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from forecourt.core import clock

REFERRAL_COOKIE = "fc_ref"
_SALT = "forecourt.leads.referral-mark"


@dataclass(frozen=True)
class ReferralMark:
    broker_code: str
    clicked_at: datetime


def referral_mark_read(request: HttpRequest) -> ReferralMark | None:
    """The browser's mark, or None when there is none or it was tampered with."""
    raw = request.COOKIES.get(REFERRAL_COOKIE, "")
    if not raw:
        return None
    try:
        value = signing.Signer(salt=_SALT).unsign(raw)
        code, _sep, stamp = value.rpartition(".")
        clicked_at = datetime.fromtimestamp(int(stamp), tz=clock.SHANGHAI)
    except (signing.BadSignature, ValueError, OverflowError, OSError):
        return None
    if not code or len(code) > 40:
        return None
    return ReferralMark(broker_code=code, clicked_at=clicked_at)


def referral_mark_set(
    response: HttpResponse, *, broker_code: str, clicked_at: datetime, max_age: int
) -> None:
    """Mark the browser as arriving by `broker_code`'s link at `clicked_at`, for `max_age` seconds."""
    value = signing.Signer(salt=_SALT).sign(f"{broker_code}.{int(clicked_at.timestamp())}")
    response.set_cookie(
        REFERRAL_COOKIE,
        value,
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
