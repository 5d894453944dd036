"""Deriving a member's points from the ledger: a pure replay of the entries in the order they happened.

Every positive entry (an earning, a positive adjustment, the reversal of a spend) opens a *lot*: points
that become spendable at `available_at` (pending before) and are lost at `expires_at`. Spending takes
from the lots that expire first. A reversal of an earning takes back what is left of its lot, then what
it still owes from the other spendable lots, and records the rest as a *debt*; a lot that becomes
spendable settles the debt first. So spendable points are never negative, and

    sum(entries) + expired-but-not-yet-written == spendable + pending - debt

at every moment. Lots lapse when read, without waiting for the sweeper; the sweeper only writes the
expiry entries (with the amounts this replay computes), so the ledger's sum catches up with the state.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

# Sort keys of the three things that can happen at one moment: an entry, a lot becoming spendable, a
# lot lapsing. An entry at the same instant as a lapse still sees the lot.
_ENTRY, _AVAILABLE, _LAPSE = 0, 1, 2


@dataclass(frozen=True)
class Line:
    """What the replay needs of one ledger entry (`PointsEntry` or a test's invention)."""

    id: int
    kind: str
    points: int
    occurred_at: datetime
    available_at: datetime | None = None
    expires_at: datetime | None = None
    reverses_id: int | None = None
    lot_id: int | None = None
    qualifying: bool = False


@dataclass
class Lot:
    entry_id: int
    points: int
    remaining: int
    occurred_at: datetime
    available_at: datetime
    expires_at: datetime | None
    qualifying: bool
    available: bool = False
    lapsed: bool = False
    lapsed_points: int = 0
    reversed: bool = False


@dataclass
class LedgerState:
    at: datetime
    lots: dict[int, Lot] = field(default_factory=dict)
    debt: int = 0
    # Lots that lapsed in this replay with no expiry entry written yet: (lot entry id, points, when).
    unwritten_expiries: list[tuple[int, int, datetime]] = field(default_factory=list)
    entries_sum: int = 0
    # Spendable lots in the order spending takes from them (a heap; emptied lots are dropped lazily).
    spend_queue: list[tuple[tuple[datetime, datetime, int], int]] = field(default_factory=list, repr=False)

    @property
    def spendable(self) -> int:
        return sum(lot.remaining for lot in self.lots.values() if lot.available and not lot.lapsed)

    @property
    def pending(self) -> int:
        return sum(lot.remaining for lot in self.lots.values() if not lot.available and not lot.lapsed)

    @property
    def balance(self) -> int:
        """Spendable plus pending, less what is owed."""
        return self.spendable + self.pending - self.debt

    def pending_lots(self) -> list[Lot]:
        """Points not yet spendable, soonest first."""
        waiting = [
            lot for lot in self.lots.values() if not lot.available and not lot.lapsed and lot.remaining
        ]
        return sorted(waiting, key=lambda lot: (lot.available_at, lot.entry_id))

    def expiring(self) -> list[tuple[datetime, int]]:
        """Spendable points by the moment they lapse, soonest first (points that never lapse left out)."""
        totals: dict[datetime, int] = {}
        for lot in self.lots.values():
            if lot.available and not lot.lapsed and lot.remaining and lot.expires_at is not None:
                totals[lot.expires_at] = totals.get(lot.expires_at, 0) + lot.remaining
        return sorted(totals.items())

    def reversal_points(self, entry_id: int) -> int:
        """What reversing this lot's entry takes back: its points, less any that already lapsed."""
        lot = self.lots[entry_id]
        return lot.points - lot.lapsed_points


def _spend_order(lot: Lot) -> tuple[datetime, datetime, int]:
    return (
        lot.expires_at or datetime.max.replace(tzinfo=lot.occurred_at.tzinfo),
        lot.occurred_at,
        lot.entry_id,
    )


def _take(state: LedgerState, points: int) -> int:
    """Take up to `points` from the spendable lots, soonest to lapse first; returns what is still owed."""
    owed = points
    queue = state.spend_queue
    while owed and queue:
        lot = state.lots[queue[0][1]]
        if lot.lapsed or not lot.remaining:
            heapq.heappop(queue)
            continue
        taken = min(owed, lot.remaining)
        lot.remaining -= taken
        owed -= taken
    return owed


def _settle(state: LedgerState, lot: Lot) -> None:
    settled = min(state.debt, lot.remaining)
    lot.remaining -= settled
    state.debt -= settled


def _open_lot(line: Line) -> Lot:
    available_at = line.available_at or line.occurred_at
    return Lot(
        entry_id=line.id,
        points=line.points,
        remaining=line.points,
        occurred_at=line.occurred_at,
        available_at=max(available_at, line.occurred_at),
        expires_at=line.expires_at,
        qualifying=line.qualifying and line.kind == "earn",
    )


def _apply(state: LedgerState, line: Line, agenda: list[tuple[datetime, int, int]]) -> None:
    state.entries_sum += line.points
    if line.kind == "expiry":
        # The record of a lapse the replay applies itself at the lot's expiry (see `_lapse`).
        return
    if line.points > 0:
        lot = _open_lot(line)
        state.lots[line.id] = lot
        heapq.heappush(agenda, (lot.available_at, _AVAILABLE, line.id))
        if lot.expires_at is not None:
            heapq.heappush(agenda, (lot.expires_at, _LAPSE, line.id))
        return
    wanted = -line.points
    target = state.lots.get(line.reverses_id) if line.reverses_id is not None else None
    if target is not None:
        target.reversed = True
        taken = min(wanted, target.remaining)
        target.remaining -= taken
        wanted -= taken
    state.debt += _take(state, wanted)


def _lapse(state: LedgerState, lot: Lot, written: set[int]) -> None:
    if lot.lapsed:
        return
    lot.lapsed = True
    lot.lapsed_points = lot.remaining
    if lot.remaining and lot.entry_id not in written and lot.expires_at is not None:
        state.unwritten_expiries.append((lot.entry_id, lot.remaining, lot.expires_at))
    lot.remaining = 0


def replay(lines: Iterable[Line], at: datetime) -> LedgerState:
    """The member's points at `at`, from every entry up to then."""
    state = LedgerState(at=at)
    upto = [line for line in lines if line.occurred_at <= at]
    written = {line.lot_id for line in upto if line.kind == "expiry" and line.lot_id is not None}
    by_id = {line.id: line for line in upto}
    agenda: list[tuple[datetime, int, int]] = [(line.occurred_at, _ENTRY, line.id) for line in upto]
    heapq.heapify(agenda)
    while agenda and agenda[0][0] <= at:
        _moment, phase, entry_id = heapq.heappop(agenda)
        if phase == _ENTRY:
            _apply(state, by_id[entry_id], agenda)
            continue
        lot = state.lots[entry_id]
        if phase == _AVAILABLE and not lot.lapsed:
            lot.available = True
            _settle(state, lot)
            heapq.heappush(state.spend_queue, (_spend_order(lot), lot.entry_id))
        elif phase == _LAPSE:
            _lapse(state, lot, written)
    return state


def qualifying_points(lines: Iterable[Line], *, since: datetime, at: datetime) -> int:
    """Tier points: qualifying earnings in (since, at] that were not reversed by `at`."""
    upto = [line for line in lines if line.occurred_at <= at]
    reversed_ids = {line.reverses_id for line in upto if line.kind == "reversal"}
    return sum(
        line.points
        for line in upto
        if line.kind == "earn"
        and line.qualifying
        and line.occurred_at > since
        and line.id not in reversed_ids
    )


def tier_for(points: int, thresholds: Iterable[tuple[str, int]]) -> str:
    """The highest tier whose threshold `points` reaches; thresholds are (tier, minimum) pairs."""
    ranked = sorted(thresholds, key=lambda pair: pair[1])
    reached = ranked[0][0] if ranked else ""
    for tier, minimum in ranked:
        if points >= minimum:
            reached = tier
    return reached
