"""A Hypothesis state machine over earn / redeem (points only and points + cash) / pay / fail / time passing
/ sweep / voucher withdrawn, for two members and three rewards. After every step: spendable points are
never negative and the ledger sums to the balance; a cancelled redemption was given back exactly once and
no other was; every voucher belongs to exactly one redemption and the stock counts them; money goes back
only for a redemption that did not stand."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.errors import DomainError
from forecourt.loyalty.models import EntryKind, PointsEntry, RewardOrder, RewardOrderStatus
from forecourt.loyalty.services import (
    points_state,
    reward_orders_sweep,
    reward_redeem,
    reward_voucher_withdrawn,
)
from forecourt.offers.models import Campaign, Voucher
from forecourt.payments.models import IntentStatus, PaymentIntent, Refund

from .rewards_cast import give_points, intent_of, make_member, make_reward, notify, reward_campaign

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)
REFUSALS = {"insufficient_points", "reward_unavailable", "tier_too_low"}


class Redemptions(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._clock = clock.frozen_at(NOON)
        self._clock.__enter__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.members = [make_member(points=1_500), make_member(points=1_500)]
        self.rewards = [
            make_reward(points_cost=300, campaign=reward_campaign(budget_count=20, per_person_limit=10)),
            make_reward(points_cost=500, campaign=reward_campaign(budget_count=2, per_person_limit=2)),
            make_reward(points_cost=400, cash_fen=30_00, campaign=reward_campaign(budget_count=3)),
        ]
        self.keys = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        self._clock.__exit__(None, None, None)

    def _order(self, pick: int) -> RewardOrder | None:
        orders = list(RewardOrder.objects.order_by("pk"))
        return orders[pick % len(orders)] if orders else None

    # ---- Rules ----------------------------------------------------------------------------------------

    @rule(member=st.integers(0, 1), points=st.sampled_from([100, 400, 1_000]))
    def earn(self, member: int, points: int) -> None:
        give_points(self.members[member], points)

    @rule(member=st.integers(0, 1), reward=st.integers(0, 2), replay=st.booleans())
    def redeem(self, member: int, reward: int, replay: bool) -> None:
        if not replay:
            self.keys += 1
        person = self.members[member]
        try:
            reward_redeem(
                member=person,
                reward=self.rewards[reward],
                idempotency_key=f"key-{self.keys}",
                actor=person.user,
                provider="sandbox",
            )
        except DomainError as error:
            assert error.code in REFUSALS | {"idempotency_key_reused"}, error.code

    @rule(pick=st.integers(0, 30), fails=st.booleans())
    def gateway_answers(self, pick: int, fails: bool) -> None:
        order = self._order(pick)
        if order is None or not order.payment_intent:
            return
        intent = intent_of(order)
        if intent.status != IntentStatus.CREATED or intent.expires_at <= clock.now():
            return
        notify(intent, status="failed" if fails else "succeeded")

    @rule(minutes=st.sampled_from([5, 20, 40]))
    def time_passes(self, minutes: int) -> None:
        clock.advance(timedelta(minutes=minutes))

    @rule()
    def sweep(self) -> None:
        reward_orders_sweep()

    @rule(pick=st.integers(0, 30))
    def voucher_withdrawn(self, pick: int) -> None:
        order = self._order(pick)
        if order is not None and order.voucher_code:
            reward_voucher_withdrawn(voucher_code=order.voucher_code, reason="reward_voucher_void")

    # ---- Invariants -----------------------------------------------------------------------------------

    @invariant()
    def points_add_up(self) -> None:
        for member in self.members:
            state = points_state(member)
            assert state.spendable >= 0 and state.debt == 0
            assert state.entries_sum == state.balance
            earned = PointsEntry.objects.filter(member=member, kind=EntryKind.EARN).aggregate(
                s=Sum("points")
            )["s"]
            held = (
                RewardOrder.objects.filter(member=member)
                .exclude(status=RewardOrderStatus.CANCELLED)
                .aggregate(s=Sum("points"))["s"]
            )
            assert state.entries_sum == (earned or 0) - (held or 0)

    @invariant()
    def cancelled_ones_were_given_back_once(self) -> None:
        for order in RewardOrder.objects.all():
            reversals = PointsEntry.objects.filter(reverses_id=order.entry_id).count()
            assert reversals == (1 if order.status == RewardOrderStatus.CANCELLED else 0)
            if order.status == RewardOrderStatus.ISSUED:
                assert order.voucher_code

    @invariant()
    def vouchers_and_stock_agree(self) -> None:
        with_voucher = RewardOrder.objects.exclude(voucher_code="")
        assert Voucher.objects.count() == with_voucher.count()
        for reward in self.rewards:
            campaign = Campaign.objects.get(pk=reward.campaign_id)
            assert campaign.claimed_count == Voucher.objects.filter(campaign=campaign).count()
            assert campaign.budget_count is None or campaign.claimed_count <= campaign.budget_count

    @invariant()
    def money_goes_back_only_when_the_redemption_did_not_stand(self) -> None:
        for refund in Refund.objects.select_related("intent"):
            order = RewardOrder.objects.get(public_id=refund.intent.reference)
            assert order.status == RewardOrderStatus.CANCELLED
            assert refund.amount_fen == refund.intent.amount_fen
        for intent in PaymentIntent.objects.filter(status=IntentStatus.SUCCEEDED):
            assert intent.refunded_fen + intent.refunding_fen <= intent.amount_fen


def test_redemptions_keep_points_vouchers_and_money_consistent() -> None:
    run_state_machine_as_test(
        Redemptions,
        settings=settings(
            max_examples=20,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
