"""The referrals sweeper: write down what the clock already decided (nothing here is needed to be right
when read: a pending commission whose hold ended reads available, a delivery past its return window
reads converted); it records the events that follow (`referral.converted`, on which loyalty credits the
broker's points), closes ended tasks and awards last month's city champions (programme)."""

from __future__ import annotations

from forecourt.referrals.services.commissions import commissions_mature
from forecourt.referrals.services.honours import leaderboards_close_due
from forecourt.referrals.services.stages import referrals_convert_due
from forecourt.referrals.services.tasks import tasks_close_ended


def referrals_sweep() -> dict[str, int]:
    """Write down matured commissions, confirmed sales, ended tasks and closed months; the counts."""
    return {
        "commissions_matured": commissions_mature(),
        "referrals_converted": referrals_convert_due(),
        "tasks_closed": tasks_close_ended(),
        "leaderboards_closed": leaderboards_close_due(),
    }
