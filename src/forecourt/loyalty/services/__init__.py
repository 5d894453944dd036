"""The loyalty app's writes. Other apps, the API and the pages call these (and only these).

- ledger (ledger.py): `member_for(user) -> Member`, `points_earn(...)`, `points_spend(...)` (409
  `insufficient_points`), `points_reverse(*, entry, reason, ...)`, `points_adjust(...)`, `points_state(member,
  at=None) -> LedgerState`, `points_expiries_write(*, member, at=None)`
- earning (earning.py): `daily_check_in(*, member) -> PointsEntry` (409 `already_checked_in`),
  `ops_task_grant(*, member, task, actor, note="", points=None)`, `points_earn_for(*, member, source, ref,
  ...)` (an earn rule applied once per cause), the event-driven earnings and their reversals
- members (members.py): `member_card_lookup(*, staff, text, ip="") -> Member` (rate limited, audited)
- sweeps (sweeps.py): `loyalty_sweep(*, at=None) -> dict[str, int]` (expiries written; reward orders tidied)
- rewards (rewards.py): `reward_redeem(*, member, reward, idempotency_key, actor, provider=None,
  return_url="") -> RewardOrder` (409 `insufficient_points` / `reward_unavailable` / `tier_too_low`),
  `reward_payment_start(*, order, actor, return_url) -> PaymentStart`,
  `reward_payment_credit(...)` and `reward_payment_fail(...)` (payments' subscribers),
  `reward_voucher_withdrawn(*, voucher_code, reason)`,
  `reward_orders_sweep() -> int` (unpaid cash parts past LOYALTY_PAYMENT_MINUTES give their points back)
"""

from forecourt.loyalty.services.earning import (
    daily_check_in,
    member_checked_in_today,
    ops_task_grant,
    points_earn_for,
)
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
from forecourt.loyalty.services.members import member_card_lookup
from forecourt.loyalty.services.rewards import (
    reward_orders_sweep,
    reward_payment_credit,
    reward_payment_fail,
    reward_payment_start,
    reward_redeem,
    reward_voucher_withdrawn,
)
from forecourt.loyalty.services.sweeps import loyalty_sweep

__all__ = [
    "daily_check_in",
    "loyalty_sweep",
    "member_card_lookup",
    "member_checked_in_today",
    "member_for",
    "member_lock",
    "ops_task_grant",
    "points_adjust",
    "points_earn",
    "points_earn_for",
    "points_expiries_write",
    "points_reverse",
    "points_spend",
    "points_state",
    "reward_orders_sweep",
    "reward_payment_credit",
    "reward_payment_fail",
    "reward_payment_start",
    "reward_redeem",
    "reward_voucher_withdrawn",
]
