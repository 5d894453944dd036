"""Stages and commission from other apps' events: CPL on a store visit (pending, then available), CPS on
delivery (after the return window), clawback on a cancelled or returned sale — also once paid."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.orders.models import Order, OrderStatus
from forecourt.referrals.models import (
    Commission,
    CommissionKind,
    CommissionRule,
    CommissionStatus,
    Referral,
    Stage,
)
from forecourt.referrals.selectors import (
    broker_commission_totals,
    commission_effective_status,
    commission_rule_amount,
    referral_effective_stage,
)
from forecourt.referrals.services import (
    commission_claw_back,
    commission_decide,
    commission_record,
    commission_transition,
    referral_qualify,
)

from .referrals_cast import *  # noqa: F403
from .referrals_cast import (
    CPL_FEN,
    CPS_FEN,
    capture,
    delivery_task_with_one_result,
    make_order,
    mark_delivered,
    record,
    referral_events,
)

pytestmark = pytest.mark.django_db

CS = CommissionStatus


@pytest.fixture
def referral(frozen, dealer, model, broker, rules) -> Referral:
    capture(broker_code=broker.code)
    return Referral.objects.get()


def _check_in(referral: Referral, name: str = "visit.checked_in") -> None:
    record(
        name,
        subject_type="appointment",
        subject_id="ap_TEST",
        lead_id=referral.lead_public_id,
        model="aurora",
    )


def _order_event(order: Order, name: str, **payload: object) -> None:
    record(
        name,
        subject_type="order",
        subject_id=order.number,
        order=order.number,
        buyer=order.buyer.public_id,
        status=order.status,
        **payload,
    )


def _fresh(referral: Referral) -> Referral:
    return Referral.objects.get(pk=referral.pk)


def test_a_store_visit_qualifies_the_referral_and_earns_a_pending_cpl(referral, frozen):
    _check_in(referral)

    referral = _fresh(referral)
    commission = Commission.objects.get()
    assert (referral.stage, referral.qualified_at) == (Stage.QUALIFIED, frozen)
    assert (commission.kind, commission.amount_fen, commission.status, commission.available_at) == (
        CommissionKind.CPL,
        CPL_FEN,
        CS.PENDING,
        frozen + timedelta(days=3),
    )
    assert commission.broker_id == referral.broker_id
    assert referral_events(referral) == ["commission.created", "referral.created", "referral.qualified"]


def test_a_pending_cpl_reads_available_when_its_hold_ends_and_the_sweeper_writes_it(referral, frozen):
    _check_in(referral)
    commission = Commission.objects.get()

    clock.advance(timedelta(days=3) - timedelta(seconds=1))
    assert commission_effective_status(commission) == CS.PENDING
    clock.advance(timedelta(seconds=1))
    assert commission_effective_status(commission) == CS.AVAILABLE
    assert commission.status == CS.PENDING

    call_command("referrals_sweep", stdout=StringIO())

    assert Commission.objects.get().status == CS.AVAILABLE


def test_a_test_drive_after_the_visit_earns_no_second_cpl(referral):
    _check_in(referral)
    _check_in(referral, "test_drive.finished")

    assert Commission.objects.count() == 1
    assert referral_events(referral).count("referral.qualified") == 1


def test_a_visit_that_names_no_lead_is_matched_by_the_person(referral):
    referral_qualify(person_public_id=referral.person.public_id, model_code="aurora")

    assert _fresh(referral).stage == Stage.QUALIFIED
    assert Commission.objects.count() == 1


def test_without_a_rule_a_visit_qualifies_but_earns_nothing(referral):
    CommissionRule.objects.all().delete()

    _check_in(referral)

    assert _fresh(referral).stage == Stage.QUALIFIED
    assert Commission.objects.count() == 0


def test_the_most_specific_rule_pays(db):
    CommissionRule.objects.create(kind="cpl", amount_fen=100)
    CommissionRule.objects.create(kind="cpl", campaign="spring", amount_fen=200)
    CommissionRule.objects.create(kind="cpl", model_code="aurora", amount_fen=300)
    CommissionRule.objects.create(kind="cpl", model_code="aurora", campaign="spring", amount_fen=400)
    CommissionRule.objects.create(kind="cpl", model_code="summit", amount_fen=999, is_active=False)

    amounts = [
        commission_rule_amount(kind="cpl", model_code=model, campaign=campaign)
        for model, campaign in [("aurora", "spring"), ("aurora", ""), ("summit", "spring"), ("summit", "")]
    ]

    assert amounts == [400, 300, 200, 100]
    assert commission_rule_amount(kind="cps", model_code="aurora", campaign="") is None


def test_a_rejected_referral_never_qualifies(frozen, dealer, model, broker, rules):
    lead, _created = capture(phone="13800138000", broker_code=broker.code)

    assert referral_qualify(lead_public_id=lead.public_id) is None
    assert Referral.objects.get().stage == Stage.REJECTED
    assert Commission.objects.count() == 0


def test_an_order_then_a_delivery_earn_a_cps_available_after_the_return_window(
    referral, dealer, model, frozen
):
    _check_in(referral)
    order = make_order(referral.person, model, dealer)
    _order_event(order, "order.created")
    assert (_fresh(referral).stage, _fresh(referral).order_number) == (Stage.ORDERED, order.number)

    clock.advance(timedelta(days=20))
    mark_delivered(order)
    _order_event(order, "order.delivered")

    delivered = _fresh(referral)
    cps = Commission.objects.get(kind=CommissionKind.CPS)
    assert (delivered.stage, delivered.delivered_at) == (Stage.DELIVERED, clock.now())
    assert (cps.amount_fen, cps.status, cps.available_at) == (
        CPS_FEN,
        CS.PENDING,
        clock.now() + timedelta(days=7),
    )

    clock.advance(timedelta(days=7))
    # Right when read, before any sweeper: the sale is confirmed and the CPS available.
    assert referral_effective_stage(delivered) == Stage.CONVERTED
    assert commission_effective_status(cps) == CS.AVAILABLE
    assert not Event.objects.filter(name="referral.converted").exists()

    call_command("referrals_sweep", stdout=StringIO())

    assert _fresh(referral).stage == Stage.CONVERTED
    assert Commission.objects.get(kind=CommissionKind.CPS).status == CS.AVAILABLE
    converted = Event.objects.get(name="referral.converted")
    assert (converted.payload["order"], converted.payload["broker_code"]) == (
        order.number,
        referral.broker.code,
    )


def test_an_order_of_another_model_or_before_the_referral_is_not_the_referrals(referral, dealer, frozen):
    from forecourt.catalog.models import VehicleModel

    summit = VehicleModel.objects.create(code="summit", name="峰峦", body_type="suv", powertrain="phev")
    other = make_order(referral.person, summit, dealer)
    _order_event(other, "order.created")

    assert _fresh(referral).stage == Stage.REFERRED


def test_a_cancelled_order_loses_the_referral_and_a_new_order_brings_it_back(referral, dealer, model):
    _check_in(referral)
    order = make_order(referral.person, model, dealer)
    _order_event(order, "order.created")

    _order_event(order, "order.cancelled")

    assert _fresh(referral).stage == Stage.LOST
    # The visit happened: its CPL stands.
    assert Commission.objects.get().status == CS.PENDING
    again = make_order(referral.person, model, dealer)
    _order_event(again, "order.created")
    assert (_fresh(referral).stage, _fresh(referral).order_number) == (Stage.ORDERED, again.number)


def _delivered(referral: Referral, dealer, model) -> Order:
    order = make_order(referral.person, model, dealer)
    _order_event(order, "order.created")
    mark_delivered(order)
    _order_event(order, "order.delivered")
    return order


def test_a_returned_car_claws_back_the_cps_even_once_paid(referral, dealer, model):
    order = _delivered(referral, dealer, model)
    clock.advance(timedelta(days=8))
    cps = Commission.objects.get(kind=CommissionKind.CPS)
    commission_transition(commission=cps, to_status=CS.AVAILABLE)
    commission_transition(commission=cps, to_status=CS.PAID)

    _order_event(order, "order.refunded", refund="rf_1", applied_fen=5_000_00, refunded_fen=5_000_00)

    cps.refresh_from_db()
    assert (cps.status, cps.clawed_back_at) == (CS.CLAWED_BACK, clock.now())
    assert _fresh(referral).stage == Stage.LOST
    event = Event.objects.get(name="commission.clawed_back")
    assert (event.payload["was"], event.payload["reason"], event.payload["commission"]) == (
        "paid",
        "order_returned",
        cps.public_id,
    )
    lost = Event.objects.get(name="referral.lost")
    assert (lost.payload["reason"], lost.payload["order"]) == ("returned", order.number)


@pytest.mark.parametrize(("status", "applied"), [(OrderStatus.DELIVERED, 0), (OrderStatus.FINAL_PAID, 500)])
def test_a_refund_that_is_not_a_return_claws_nothing_back(referral, dealer, model, status, applied):
    order = _delivered(referral, dealer, model)
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()

    _order_event(order, "order.refunded", refund="rf_2", applied_fen=applied, refunded_fen=applied)

    assert Commission.objects.get(kind=CommissionKind.CPS).status == CS.PENDING
    assert _fresh(referral).stage == Stage.DELIVERED
    assert not Event.objects.filter(name__in=["commission.clawed_back", "referral.lost"]).exists()


def test_a_clawback_happens_once_and_gives_a_tasks_money_back_once(referral, frozen):
    task = delivery_task_with_one_result(title="试驾任务", amount_fen=300_00)
    commission, created = commission_record(
        referral=referral,
        kind=CommissionKind.CPL,
        amount_fen=300_00,
        available_at=frozen,
        idempotency_key="task:x",
        task=task,
    )
    assert created

    commission_claw_back(commission=commission, reason="order_returned")
    commission_claw_back(commission=commission, reason="order_returned")

    task.refresh_from_db()
    assert task.committed_fen == 0
    assert Commission.objects.get(pk=commission.pk).status == CS.CLAWED_BACK
    assert Event.objects.filter(name="commission.clawed_back").count() == 1


def test_a_move_outside_the_table_is_refused_and_changes_nothing(referral):
    _check_in(referral)
    commission = Commission.objects.get()

    with pytest.raises(DomainError) as refused:
        commission_transition(commission=commission, to_status=CS.PAID)
    with pytest.raises(DomainError) as early:
        commission_transition(commission=commission, to_status=CS.AVAILABLE)

    assert (refused.value.status, refused.value.code) == (409, "transition_not_allowed")
    assert early.value.status == 409
    assert Commission.objects.get().status == CS.PENDING


def _held(referral: Referral) -> Commission:
    Referral.objects.filter(pk=referral.pk).update(flags=[{"rule": "ip_cluster", "evidence": {"count": 3}}])
    _check_in(referral)
    commission = Commission.objects.get()
    assert commission.status == CS.HELD
    return commission


def test_ops_approve_a_held_commission_and_the_referral_is_cleared(referral, ops, rules):
    commission = _held(referral)

    decided = commission_decide(commission=commission, actor=ops, approve=True, note="同事核实为真实朋友")

    assert (decided.status, decided.decision_note) == (CS.PENDING, "同事核实为真实朋友")
    flags = _fresh(referral).flags
    assert flags[0]["cleared"] is True and flags[0]["cleared_by"] == ops.public_id
    assert Event.objects.get(name="commission.decided").payload["approved"] is True


def test_ops_reject_a_held_commission(referral, ops):
    commission = _held(referral)

    decided = commission_decide(commission=commission, actor=ops, approve=False, note="同一设备批量注册")

    assert decided.status == CS.REJECTED
    assert _fresh(referral).flags == [{"rule": "ip_cluster", "evidence": {"count": 3}}]


def test_only_ops_decide_and_only_held_commissions(referral, broker, ops):
    commission = _held(referral)

    with pytest.raises(DomainError) as forbidden:
        commission_decide(commission=commission, actor=broker.user, approve=True)
    commission_decide(commission=commission, actor=ops, approve=True)
    with pytest.raises(DomainError) as not_held:
        commission_decide(commission=commission, actor=ops, approve=False)

    assert (forbidden.value.status, not_held.value.status, not_held.value.code) == (403, 409, "not_held")
    assert Commission.objects.get().status == CS.PENDING
    assert Event.objects.filter(name="commission.decided").count() == 1


def test_the_brokers_totals_follow_the_effective_status(referral, broker, dealer, model):
    _check_in(referral)
    _delivered(referral, dealer, model)

    assert {status: amount.amount for status, amount in broker_commission_totals(broker=broker).items()} == {
        "pending": CPL_FEN + CPS_FEN,
        "held": 0,
        "available": 0,
        "paid": 0,
        "clawed_back": 0,
    }
    clock.advance(timedelta(days=3))
    totals = broker_commission_totals(broker=broker)
    assert (totals["pending"].amount, totals["available"].amount) == (CPS_FEN, CPL_FEN)
