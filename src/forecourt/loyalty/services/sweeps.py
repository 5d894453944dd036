"""The loyalty sweeper: write the expiry entries of lapsed points, and tidy reward redemptions (the
rewards catalogue's `reward_orders_sweep`: unpaid cash parts give their points back).

Points lapse when read (the replay), so nothing waits for the sweeper to be correct; it only writes the
expiry entries so the ledger's sum catches up with the derived balance. A member is looked at once per
lapse: `Member.expiries_written_to` remembers how far their expiries are written, so members whose lapsed
lots were spent in full (nothing to write) are not replayed again on every run.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q

from forecourt.core import clock
from forecourt.core.logging import log_context
from forecourt.loyalty.models import Member, PointsEntry
from forecourt.loyalty.services.ledger import points_expiries_write
from forecourt.loyalty.services.rewards import reward_orders_sweep

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500


def members_with_lapses(at: datetime) -> Any:
    """Members holding a lot that lapsed by `at` after the moment their expiries were last written."""
    lapsed = PointsEntry.objects.filter(member=OuterRef("pk"), points__gt=0, expires_at__lte=at).filter(
        Q(member__expiries_written_to__isnull=True) | Q(expires_at__gt=F("member__expiries_written_to"))
    )
    return Member.objects.filter(Exists(lapsed)).order_by("pk")


def points_expiries_sweep(*, at: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Write the expiry entries of up to `limit` members' lapsed lots; returns how many were written."""
    moment = at or clock.now()
    written = 0
    for member in members_with_lapses(moment)[:limit]:
        with transaction.atomic():
            written += points_expiries_write(member=member, at=moment)
            Member.objects.filter(pk=member.pk).update(expiries_written_to=moment)
    if written:
        logger.info("points expiries written", extra=log_context(entries=written))
    return written


def loyalty_sweep(*, at: datetime | None = None) -> dict[str, int]:
    """One pass of the sweeper: expiries written, and the reward redemptions tidied (their count)."""
    return {"expiries": points_expiries_sweep(at=at), "reward_orders": reward_orders_sweep()}
