"""Throttling of failed sign-ins, per account and per IP address, over a sliding window.

Failures are rows (not cache counters) so the window is exact, survives restarts, is shared by every
worker, and follows `core.clock` in tests.
"""

import math
from datetime import timedelta

from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from forecourt.accounts.models import SignInFailure
from forecourt.core.clock import now
from forecourt.core.errors import RateLimited

FAILURE_WINDOW = timedelta(minutes=15)
# Five wrong passwords for one account, or twenty failures of any kind from one address (mobile
# carriers put many people behind one address), block further tries until the window has moved on.
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_IP = 20
# Rows older than this are of no further use to the throttle.
RETENTION = timedelta(days=1)


def sign_in_subject_hash(value: str) -> str:
    """A keyed hash of what identifies the account tried (username or phone), never stored in clear."""
    return salted_hmac(
        "forecourt.accounts.sign-in-subject", value.strip().lower(), algorithm="sha256"
    ).hexdigest()


def _blocked_for(field: str, value: str, limit: int) -> int | None:
    moment = now()
    recent = list(
        SignInFailure.objects.filter(**{field: value}, at__gt=moment - FAILURE_WINDOW)
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return None
    # Blocked until the oldest of the last `limit` failures leaves the window.
    return max(1, math.ceil((recent[limit - 1] + FAILURE_WINDOW - moment).total_seconds()))


def sign_in_throttle_check(*, subject_hash: str | None, ip: str | None) -> None:
    """Raise RateLimited (429, with retry_after) if the account or the address has failed too often."""
    waits = []
    if subject_hash:
        waits.append(_blocked_for("subject_hash", subject_hash, FAILURES_PER_ACCOUNT))
    if ip:
        waits.append(_blocked_for("ip_address", ip, FAILURES_PER_IP))
    blocked = [wait for wait in waits if wait is not None]
    if blocked:
        retry_after = max(blocked)
        raise RateLimited(
            _("Too many failed sign-ins. Try again in %(minutes)d minutes.")
            % {"minutes": math.ceil(retry_after / 60)},
            retry_after=retry_after,
        )


def sign_in_failure_record(*, kind: str, subject_hash: str, ip: str | None) -> None:
    moment = now()
    SignInFailure.objects.create(kind=kind, subject_hash=subject_hash, ip_address=ip, at=moment)
    SignInFailure.objects.filter(subject_hash=subject_hash, at__lt=moment - RETENTION).delete()


def sign_in_failures_clear(*, subject_hash: str) -> None:
    """A successful sign-in forgives the account's earlier failures (the address keeps its count)."""
    SignInFailure.objects.filter(subject_hash=subject_hash).delete()
