"""Points + cash through the sandbox payment path: points taken at once, the voucher issued once when the
cash is paid; a failed or unpaid cash part gives the points back (read at once, written by the sweeper
or the member's next redemption); money nobody owes goes back; a withdrawn voucher returns points and cash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.conf import settings

from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.loyalty.member_presenters import member_summary
from forecourt.loyalty.models import EntryKind, PointsEntry, RewardOrderStatus
from forecourt.loyalty.reward_selectors import (
    member_points_state,
    member_wallet,
    reward_order_cancel_reason,
    reward_order_status,
)
from forecourt.loyalty.services import (
    points_reverse,
    points_state,
    reward_orders_sweep,
    reward_payment_start,
    reward_redeem,
    reward_voucher_withdrawn,
)
from forecourt.offers.models import Voucher, VoucherStatus
from forecourt.payments.models import IntentStatus, PaymentIntent, Refund

from .rewards_cast import (
    fresh,
    give_points,
    intent_of,
    later,
    make_member,
    make_reward,
    notify,
    reward_campaign,
)

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)
RETURN_URL = "/club/rewards/mine/"


def _cash_reward(**fields: Any) -> Any:
    values: dict[str, Any] = {"title": "内饰深度清洁", "points_cost": 1_500, "cash_fen": 49_00}
    values.update(fields)
    return make_reward(**values)


def _redeem(member, reward, key="k"):
    return reward_redeem(
        member=member, reward=reward, idempotency_key=key, actor=member.user, provider="sandbox"
    )


def test_points_and_cash_takes_the_points_and_awaits_the_cash() -> None:
    member = make_member(points=2_000)
    order = _redeem(member, _cash_reward())

    assert (order.status, order.points, order.cash_fen, order.voucher_code) == (
        RewardOrderStatus.AWAITING_PAYMENT,
        1_500,
        49_00,
        "",
    )
    intent = intent_of(order)
    assert (intent.purpose, intent.reference, intent.amount_fen, intent.payer_id) == (
        "loyalty.reward",
        order.public_id,
        49_00,
        member.user_id,
    )
    assert order.payment_intent == intent.public_id
    assert points_state(member).spendable == 500
    assert not Voucher.objects.exists()
    start = reward_payment_start(order=order, actor=member.user, return_url=RETURN_URL)
    assert start.kind == "redirect" and f"/payments/sandbox/{intent.out_trade_no}/" in start.url


def test_paying_the_cash_issues_the_voucher_exactly_once() -> None:
    member = make_member(points=2_000)
    order = _redeem(member, _cash_reward())

    notify(intent_of(order))
    notify(intent_of(order), suffix="AGAIN")

    paid = fresh(order)
    assert paid.status == RewardOrderStatus.ISSUED
    voucher = Voucher.objects.get(code=paid.voucher_code)
    assert (voucher.holder_id, voucher.status) == (member.user_id, VoucherStatus.ACTIVE)
    assert Voucher.objects.count() == 1
    assert Event.objects.filter(name="reward.issued").count() == 1
    assert not Refund.objects.exists()
    assert points_state(member).spendable == 500


def test_someone_elses_redemption_cannot_be_paid_from_their_account() -> None:
    member, other = make_member(points=2_000), make_member()
    order = _redeem(member, _cash_reward())
    with pytest.raises(DomainError) as refused:
        reward_payment_start(order=order, actor=other.user, return_url=RETURN_URL)
    assert refused.value.status == 404


def test_a_failed_payment_cancels_the_redemption_and_gives_the_points_back() -> None:
    member = make_member(points=2_000)
    order = _redeem(member, _cash_reward())

    notify(intent_of(order), status="failed")

    cancelled = fresh(order)
    assert cancelled.status == RewardOrderStatus.CANCELLED
    assert reward_order_cancel_reason(cancelled) == "reward_payment_failed"
    [back] = PointsEntry.objects.filter(kind=EntryKind.REVERSAL, reverses=order.entry)
    assert back.points == 1_500
    assert points_state(member).spendable == 2_000
    assert not Voucher.objects.exists()
    with pytest.raises(DomainError) as refused:
        reward_payment_start(order=cancelled, actor=member.user, return_url=RETURN_URL)
    assert refused.value.code == "redemption_not_payable"


def test_a_lapsed_cash_part_settles_a_debt_first_when_read_as_the_sweeper_will() -> None:
    with clock.frozen_at(NOON):
        member = make_member()
        earned = give_points(member, 2_000)
        order = _redeem(member, _cash_reward())
        # The earning is taken back after 1,500 of it were spent: 500 from its lot, 1,500 owed.
        points_reverse(entry=earned, reason="order_cancelled")
        assert (points_state(member).spendable, points_state(member).debt) == (0, 1_500)

        clock.advance(later(settings.LOYALTY_PAYMENT_MINUTES))
        # The unpaid redemption's 1,500 points come back into the debt, not onto the spendable balance.
        read = member_points_state(member)
        assert (read.spendable, read.debt, read.balance) == (0, 0, 0)
        assert member_wallet(member.user).spendable == 0
        assert member_summary(member).spendable == 0

        assert reward_orders_sweep() == 1
        written = points_state(member)
        assert (written.spendable, written.debt, written.balance) == (0, 0, 0)
        assert fresh(order).status == RewardOrderStatus.CANCELLED


def test_an_unpaid_cash_part_lapses_when_read_and_the_sweeper_gives_the_points_back() -> None:
    with clock.frozen_at(NOON):
        member = make_member(points=2_000)
        order = _redeem(member, _cash_reward())
        clock.advance(later(settings.LOYALTY_PAYMENT_MINUTES - 1))
        assert reward_orders_sweep() == 0
        assert reward_order_status(fresh(order)) == RewardOrderStatus.AWAITING_PAYMENT

        clock.advance(later(1))
        # Read as lapsed at once: the catalogue already counts the points as spendable again.
        assert reward_order_status(fresh(order)) == RewardOrderStatus.CANCELLED
        assert member_wallet(member.user).spendable == 2_000
        assert points_state(member).spendable == 500
        # The club's own pages and API read the same as the catalogue.
        assert member_summary(member).spendable == 2_000

        assert reward_orders_sweep() == 1
        assert reward_orders_sweep() == 0

        swept = fresh(order)
        assert swept.status == RewardOrderStatus.CANCELLED
        assert reward_order_cancel_reason(swept) == "reward_unpaid"
        assert points_state(member).spendable == 2_000
        assert member_wallet(member.user).spendable == 2_000
        assert PaymentIntent.objects.get(public_id=order.payment_intent).status == IntentStatus.CLOSED


def test_the_members_next_redemption_gives_back_a_lapsed_one_first() -> None:
    with clock.frozen_at(NOON):
        member = make_member(points=2_000)
        reward = _cash_reward()
        first = _redeem(member, reward, key="first")
        clock.advance(later(settings.LOYALTY_PAYMENT_MINUTES + 1))

        second = _redeem(member, reward, key="second")

    assert fresh(first).status == RewardOrderStatus.CANCELLED
    assert fresh(second).status == RewardOrderStatus.AWAITING_PAYMENT
    assert points_state(member).spendable == 500


def test_a_payment_after_the_deadline_is_refunded_and_the_points_come_back() -> None:
    with clock.frozen_at(NOON):
        member = make_member(points=2_000)
        order = _redeem(member, _cash_reward())
        intent = intent_of(order)
        # The payer opened the gateway in time but paid after the window (the intent was still open).
        PaymentIntent.objects.filter(pk=intent.pk).update(expires_at=NOON + later(120))
        clock.advance(later(settings.LOYALTY_PAYMENT_MINUTES + 5))
        notify(intent)

    late = fresh(order)
    assert late.status == RewardOrderStatus.CANCELLED and late.voucher_code == ""
    assert points_state(member).spendable == 2_000
    [refund] = Refund.objects.all()
    assert (refund.amount_fen, refund.intent.public_id) == (49_00, intent.public_id)
    assert not Voucher.objects.exists()


def test_paid_in_time_is_honoured_even_when_the_sweeper_runs_before_the_notification() -> None:
    with clock.frozen_at(NOON):
        member = make_member(points=2_000)
        order = _redeem(member, _cash_reward())
        intent = intent_of(order)
        # Paid at the gateway in time; the notification is late and the sweeper runs first.
        PaymentIntent.objects.filter(pk=intent.pk).update(
            status=IntentStatus.SUCCEEDED, paid_at=NOON + later(5)
        )
        clock.advance(later(settings.LOYALTY_PAYMENT_MINUTES + 5))
        assert reward_orders_sweep() == 0
        assert fresh(order).status == RewardOrderStatus.AWAITING_PAYMENT

        from forecourt.loyalty.services import reward_payment_credit

        credited = reward_payment_credit(
            intent=intent.public_id, reference=order.public_id, amount_fen=49_00, paid_at=NOON + later(5)
        )

    assert credited is not None and credited.status == RewardOrderStatus.ISSUED
    assert points_state(member).spendable == 500 and Voucher.objects.count() == 1


def test_a_reward_sold_out_while_paying_refunds_the_cash_and_gives_the_points_back() -> None:
    campaign = reward_campaign(budget_count=1)
    reward = _cash_reward(campaign=campaign)
    member = make_member(points=2_000)
    order = _redeem(member, reward)
    # Ops handed the last unit out elsewhere meanwhile.
    type(campaign).objects.filter(pk=campaign.pk).update(claimed_count=1)

    notify(intent_of(order))

    assert fresh(order).status == RewardOrderStatus.CANCELLED
    assert reward_order_cancel_reason(fresh(order)) == "reward_unavailable"
    assert points_state(member).spendable == 2_000
    assert Refund.objects.get().amount_fen == 49_00
    assert not Voucher.objects.exists()


def test_an_unpaid_redemption_holds_its_unit_so_others_cannot_overbook_the_stock() -> None:
    reward = _cash_reward(campaign=reward_campaign(budget_count=1))
    first, second = make_member(points=2_000), make_member(points=2_000)
    _redeem(first, reward)

    with pytest.raises(DomainError) as refused:
        _redeem(second, reward)

    assert refused.value.details["reason"] == "sold_out"
    assert points_state(second).spendable == 2_000


def test_a_withdrawn_voucher_gives_the_points_and_the_cash_back_once() -> None:
    member = make_member(points=2_000)
    order = _redeem(member, _cash_reward())
    notify(intent_of(order))
    issued = fresh(order)

    reward_voucher_withdrawn(voucher_code=issued.voucher_code, reason="reward_voucher_void")
    reward_voucher_withdrawn(voucher_code=issued.voucher_code, reason="reward_voucher_void")

    assert fresh(order).status == RewardOrderStatus.CANCELLED
    assert points_state(member).spendable == 2_000
    assert Refund.objects.get().amount_fen == 49_00
    assert PointsEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 1


def test_a_points_only_voucher_voided_by_offers_gives_the_points_back() -> None:
    from .rewards_cast import committed

    member = make_member(points=1_000)
    order = reward_redeem(
        member=member, reward=make_reward(points_cost=800), idempotency_key="k", actor=member.user
    )
    voucher = Voucher.objects.get(code=order.voucher_code)
    from forecourt.core.events import event_record

    with committed():
        Voucher.objects.filter(pk=voucher.pk).update(
            status=VoucherStatus.VOID, voided_at=clock.now(), void_reason="ops"
        )
        event_record(
            "voucher.voided", subject_type="voucher", subject_id=voucher.code, payload={"reason": "ops"}
        )

    assert fresh(order).status == RewardOrderStatus.CANCELLED
    assert reward_order_cancel_reason(fresh(order)) == "reward_voucher_void"
    assert points_state(member).spendable == 1_000
    assert not Refund.objects.exists()


def test_a_cash_part_needs_a_known_provider() -> None:
    member = make_member(points=2_000)
    with pytest.raises(DomainError) as refused:
        reward_redeem(
            member=member, reward=_cash_reward(), idempotency_key="k", actor=member.user, provider="bitcoin"
        )
    assert refused.value.status == 422 and refused.value.details[0]["field"] == "provider"
    assert points_state(member).spendable == 2_000


def test_an_unpaid_redemption_counts_towards_the_members_limit() -> None:
    member = make_member(points=5_000)
    reward = _cash_reward(campaign=reward_campaign(per_person_limit=1))
    _redeem(member, reward, key="first")

    with pytest.raises(DomainError) as refused:
        _redeem(member, reward, key="second")

    assert refused.value.details == {"reason": "limit_reached", "limit": 1}
    assert points_state(member).spendable == 3_500
