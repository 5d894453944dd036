"""Properties of the pure ledger replay (Hypothesis): whatever members earn, spend, have reversed or let
lapse, the derived balance equals the entries' sum once the lapses are written, spendable points are never
negative, a debt leaves nothing spendable, and a reversal restores exactly."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from forecourt.core.clock import SHANGHAI
from forecourt.loyalty.ledger import LedgerState, Line, replay


def expiry_for(moment: datetime) -> datetime:
    """As `selectors.points_expiry_for`: 1 January two years on, Shanghai time."""
    return datetime(moment.astimezone(SHANGHAI).year + 2, 1, 1, tzinfo=SHANGHAI)


START = datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)

step = st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 5_000), st.sampled_from([0, 0, 1, 7, 30])),
    st.tuples(st.just("spend"), st.integers(1, 6_000), st.just(0)),
    st.tuples(st.just("reverse"), st.integers(0, 50), st.just(0)),
    st.tuples(st.just("take"), st.integers(1, 3_000), st.just(0)),
    st.tuples(st.just("wait"), st.sampled_from([0, 1, 3, 8, 40, 200, 400]), st.just(0)),
    st.tuples(st.just("write_expiries"), st.just(0), st.just(0)),
)


def sweep_lines(lines: list[Line], at: datetime, next_id: int) -> list[Line]:
    """The expiry lines the sweeper would write at `at` (as `points_expiries_write` does)."""
    state = replay(lines, at)
    return [
        Line(id=next_id + index, kind="expiry", points=-points, occurred_at=lapsed_at, lot_id=lot_id)
        for index, (lot_id, points, lapsed_at) in enumerate(state.unwritten_expiries)
    ]


def run(steps: list[tuple[str, int, int]]) -> tuple[list[Line], datetime, list[tuple[LedgerState, Line]]]:
    """Apply the steps as the services would (a spend only when affordable, a reversal once, of what is
    left of its lot); returns the lines, the final moment and each reversal with the state just before."""
    lines: list[Line] = []
    now = START
    reversals: list[tuple[LedgerState, Line]] = []
    reversed_ids: set[int] = set()
    for action, amount, extra in steps:
        next_id = len(lines) + 1
        now += timedelta(minutes=1)
        if action == "earn":
            lines.append(
                Line(
                    id=next_id,
                    kind="earn",
                    points=amount,
                    occurred_at=now,
                    available_at=now + timedelta(days=extra),
                    expires_at=expiry_for(now),
                    qualifying=True,
                )
            )
        elif action == "spend":
            if replay(lines, now).spendable >= amount:
                lines.append(Line(id=next_id, kind="redeem", points=-amount, occurred_at=now))
        elif action == "take":
            # An ops adjustment taking points away: it may leave a debt.
            lines.append(Line(id=next_id, kind="adjust", points=-amount, occurred_at=now))
        elif action == "reverse":
            targets = [
                line for line in lines if line.kind in ("earn", "redeem") and line.id not in reversed_ids
            ]
            if not targets:
                continue
            target = targets[amount % len(targets)]
            before = replay(lines, now)
            points = -before.reversal_points(target.id) if target.points > 0 else -target.points
            if points == 0:
                continue
            reversal = Line(
                id=next_id,
                kind="reversal",
                points=points,
                occurred_at=now,
                available_at=now if points > 0 else None,
                expires_at=expiry_for(now) if points > 0 else None,
                reverses_id=target.id,
            )
            reversed_ids.add(target.id)
            lines.append(reversal)
            reversals.append((before, reversal))
        elif action == "wait":
            now += timedelta(days=amount)
        elif action == "write_expiries":
            lines.extend(sweep_lines(lines, now, next_id))
    return lines, now, reversals


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=40))
def test_balance_equals_the_sum_of_entries_once_expiries_are_written(steps):
    lines, now, _reversals = run(steps)
    state = replay(lines, now)
    unwritten = sum(points for _lot, points, _when in state.unwritten_expiries)
    assert state.entries_sum - unwritten == state.balance
    swept = lines + sweep_lines(lines, now, len(lines) + 1)
    after = replay(swept, now)
    assert after.unwritten_expiries == []
    assert after.entries_sum == sum(line.points for line in swept) == after.balance
    assert (after.spendable, after.pending, after.debt) == (state.spendable, state.pending, state.debt)


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=40), st.integers(0, 900))
def test_spendable_is_never_negative_and_a_debt_leaves_nothing_spendable(steps, days_later):
    lines, now, _reversals = run(steps)
    for moment in (now, now + timedelta(days=days_later)):
        state = replay(lines, moment)
        assert state.spendable >= 0
        assert state.pending >= 0
        assert state.debt >= 0
        assert all(lot.remaining >= 0 for lot in state.lots.values())
        if state.debt > 0:
            assert state.spendable == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=40))
def test_a_reversal_takes_back_exactly_what_is_left_of_the_earning(steps):
    lines, _now, reversals = run(steps)
    for before, reversal in reversals:
        after = replay(
            [line for line in lines if line.occurred_at <= reversal.occurred_at], reversal.occurred_at
        )
        assert after.balance == before.balance + reversal.points
        target = next(line for line in lines if line.id == reversal.reverses_id)
        if target.points > 0:
            lapsed = before.lots[target.id].lapsed_points
            assert reversal.points == -(target.points - lapsed)
        else:
            assert reversal.points == -target.points


@settings(max_examples=200, deadline=None)
@given(st.lists(step, max_size=30), st.integers(1, 5_000), st.sampled_from([0, 7]))
def test_an_earning_reversed_at_once_leaves_everything_as_it_was(steps, points, holding_days):
    lines, now, _reversals = run(steps)
    before = replay(lines, now + timedelta(minutes=2))
    earned_at = now + timedelta(minutes=1)
    earn = Line(
        id=len(lines) + 1,
        kind="earn",
        points=points,
        occurred_at=earned_at,
        available_at=earned_at + timedelta(days=holding_days),
        expires_at=expiry_for(earned_at),
        qualifying=True,
    )
    reversed_at = earned_at + timedelta(minutes=1)
    amount = -replay([*lines, earn], reversed_at).reversal_points(earn.id)
    assert amount == -points
    reversal = Line(
        id=len(lines) + 2, kind="reversal", points=amount, occurred_at=reversed_at, reverses_id=earn.id
    )
    after = replay([*lines, earn, reversal], reversed_at)
    assert (after.balance, after.spendable, after.pending, after.debt) == (
        before.balance,
        before.spendable,
        before.pending,
        before.debt,
    )


def test_a_reversal_of_spent_points_leaves_a_debt_the_next_earning_settles():
    earned = Line(1, "earn", 100, START, available_at=START, expires_at=expiry_for(START))
    spent = Line(2, "redeem", -80, START + timedelta(minutes=1))
    reversal = Line(3, "reversal", -100, START + timedelta(minutes=2), reverses_id=1)
    state = replay([earned, spent, reversal], START + timedelta(minutes=3))
    assert (state.spendable, state.debt, state.balance) == (0, 80, -80)
    later = START + timedelta(days=1)
    pending = Line(4, "earn", 50, later, available_at=later + timedelta(days=7), expires_at=expiry_for(later))
    waiting = replay([earned, spent, reversal, pending], later)
    assert (waiting.spendable, waiting.pending, waiting.debt, waiting.balance) == (0, 50, 80, -30)
    settled = replay([earned, spent, reversal, pending, replace(pending, id=5)], later + timedelta(days=8))
    assert (settled.spendable, settled.pending, settled.debt, settled.balance) == (20, 0, 0, 20)


def test_points_lapse_at_the_new_year_after_next_and_the_expiry_entry_catches_the_sum_up():
    earned = Line(1, "earn", 300, START, available_at=START, expires_at=expiry_for(START))
    spent = Line(2, "redeem", -100, START + timedelta(days=10))
    lapse = datetime(2028, 1, 1, tzinfo=SHANGHAI)
    before = replay([earned, spent], lapse - timedelta(seconds=1))
    assert (before.spendable, before.expiring()) == (200, [(lapse, 200)])
    after = replay([earned, spent], lapse)
    assert (after.spendable, after.balance, after.entries_sum) == (0, 0, 200)
    assert after.unwritten_expiries == [(1, 200, lapse)]
    written = Line(3, "expiry", -200, lapse, lot_id=1)
    assert replay([earned, spent, written], lapse).entries_sum == 0
    assert replay([earned, spent, written], lapse).unwritten_expiries == []
