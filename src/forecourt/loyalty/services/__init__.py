"""The loyalty app's writes. Other apps, the API and the pages call these (and only these).

- ledger (ledger.py): `member_for(user) -> Member`, `points_earn(...)`, `points_spend(...)` (409
  `insufficient_points`), `points_reverse(*, entry, reason, ...)`, `points_adjust(...)`, `points_state(member,
  at=None) -> LedgerState`, `points_expiries_write(*, member, at=None)`
"""

from forecourt.loyalty.services.ledger import (
    member_for,
    member_lock,
    points_adjust,
    points_earn,
    points_expiries_write,
    points_reverse,
    points_spend,
    points_state,
)

__all__ = [
    "member_for",
    "member_lock",
    "points_adjust",
    "points_earn",
    "points_expiries_write",
    "points_reverse",
    "points_spend",
    "points_state",
]
