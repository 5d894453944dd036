"""OEM tasks: ops publish, brokers accept, results are counted from events, the budget is never exceeded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.events import event_record
from forecourt.core.models import AuditEntry, Event
from forecourt.referrals.models import (
    BrokerStatus,
    Commission,
    CommissionStatus,
    Stage,
    Task,
    TaskAcceptance,
    TaskStatus,
)
from forecourt.referrals.services import (
    TaskResult,
    commission_claw_back,
    commission_decide,
    task_accept,
    task_budget_settle,
    task_close,
    task_create,
    task_publish,
    task_results_record,
    tasks_close_ended,
)

from .programme_cast import *  # noqa: F403
from .programme_cast import DEC_1, NOV_1, NOV_10, committed, make_broker, make_referral, make_task

pytestmark = pytest.mark.django_db


def _task_kwargs(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "新款 SUV 上海试驾 20 台",
        "goal": "test_drive",
        "amount_fen": 200_00,
        "budget_fen": 10_000_00,
        "starts_at": NOV_1,
        "ends_at": DEC_1,
        "model_code": "nebula",
    }
    values.update(overrides)
    return values


def _test_drive(referral, *, dealer, model: str = "nebula", lead_id: str | None = None) -> Event:
    """What appointments record when a referred friend's test drive finishes, delivered to subscribers."""
    with committed():
        return event_record(
            "test_drive.finished",
            subject_type="appointment",
            subject_id="apt_test",
            dealer_id=dealer.pk,
            payload={
                "appointment_id": "apt_test",
                "lead_id": referral.lead_public_id if lead_id is None else lead_id,
                "dealer": dealer.public_id,
                "kind": "test_drive",
                "start": clock.now().isoformat(),
                "model": model,
            },
        )


@pytest.fixture
def task(frozen, shanghai_city, suv) -> Task:
    return make_task(model_code="nebula", city=shanghai_city)


@pytest.fixture
def accepted(task, broker) -> Task:
    with clock.frozen_at(NOV_10 - timedelta(days=1)):
        task_accept(task=task, broker=broker)
    return task


def _results(task: Task) -> list[tuple[str, int, str]]:
    return sorted(
        Commission.objects.filter(task=task).values_list("referral__public_id", "amount_fen", "status")
    )


def _committed(task: Task) -> int:
    return Task.objects.get(pk=task.pk).committed_fen


# ---- publishing ---------------------------------------------------------------------------------------


def test_ops_publish_a_task_with_a_per_result_amount_and_a_budget(frozen, ops, shanghai_city, suv):
    task = task_create(actor=ops, city=shanghai_city, **_task_kwargs())
    assert (task.status, task.kind, task.amount_fen, task.budget_fen, task.committed_fen) == (
        TaskStatus.PUBLISHED,
        "cpl",
        200_00,
        10_000_00,
        0,
    )
    # The target defaults to what the budget pays for: ¥10,000 / ¥200.
    assert task.target_count == 50
    assert task.public_id.startswith("tsk_")
    event = Event.objects.get(name="task.published")
    assert (event.subject_id, event.payload["city"], event.payload["model"]) == (
        task.public_id,
        "shanghai",
        "nebula",
    )
    assert AuditEntry.objects.filter(action="task.created", object_id=task.public_id).exists()


def test_a_delivery_task_pays_per_sale_by_default(frozen, ops):
    task = task_create(actor=ops, **_task_kwargs(goal="delivery", model_code=""))
    assert task.kind == "cps"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"goal": "likes"}, "goal"),
        ({"kind": "cpm"}, "kind"),
        ({"amount_fen": 0}, "amount"),
        ({"amount_fen": 1.5}, "amount"),
        ({"budget_fen": -100}, "budget"),
        ({"budget_fen": 100_00}, "budget"),
        ({"ends_at": NOV_1}, "ends_at"),
        ({"starts_at": NOV_1 - timedelta(days=40), "ends_at": NOV_1}, "ends_at"),
        ({"model_code": "no-such-model"}, "model"),
        ({"target_count": -1}, "target_count"),
    ],
)
def test_a_task_that_does_not_make_sense_is_refused(frozen, ops, suv, overrides, field):
    with pytest.raises(DomainError) as raised:
        task_create(actor=ops, **_task_kwargs(**overrides))
    assert raised.value.status == 422
    assert raised.value.details[0]["field"] == field
    assert not Task.objects.exists()
    assert not Event.objects.filter(name="task.published").exists()


def test_only_ops_publish_tasks(frozen, broker, suv):
    with pytest.raises(DomainError) as raised:
        task_create(actor=broker.user, **_task_kwargs())
    assert raised.value.status == 403
    assert not Task.objects.exists()


def test_a_draft_is_published_once_and_a_task_is_closed_once(frozen, ops, suv):
    task = task_create(actor=ops, publish=False, **_task_kwargs())
    assert task.status == TaskStatus.DRAFT
    assert not Event.objects.filter(name="task.published").exists()
    task_publish(task=task, actor=ops)
    assert task.status == TaskStatus.PUBLISHED
    with pytest.raises(DomainError) as raised:
        task_publish(task=task, actor=ops)
    assert (raised.value.code, raised.value.status) == ("task_not_draft", 409)
    task_close(task=task, actor=ops)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.CLOSED
    with pytest.raises(DomainError) as closed:
        task_close(task=task, actor=ops)
    assert (closed.value.code, closed.value.status) == ("task_not_open", 409)
    assert event_names(subject_id=task.public_id) == ["task.closed", "task.published"]  # noqa: F405


# ---- accepting ----------------------------------------------------------------------------------------


def test_a_broker_accepts_a_task_once(task, broker):
    acceptance, created = task_accept(task=task, broker=broker)
    again, created_again = task_accept(task=task, broker=broker)
    assert (created, created_again, again.pk) == (True, False, acceptance.pk)
    assert acceptance.accepted_at == NOV_10
    assert TaskAcceptance.objects.count() == 1
    assert Event.objects.filter(name="task.accepted").count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"status": TaskStatus.CLOSED},
        {"status": TaskStatus.DRAFT},
        {"ends_at": NOV_10 - timedelta(hours=1)},
        {"committed_fen": 900_01},
    ],
)
def test_a_task_that_is_not_open_cannot_be_accepted(task, broker, change):
    Task.objects.filter(pk=task.pk).update(**change)
    with pytest.raises(DomainError) as raised:
        task_accept(task=task, broker=broker)
    assert (raised.value.code, raised.value.status) == ("task_not_open", 409)
    assert not TaskAcceptance.objects.exists()


def test_a_suspended_broker_cannot_accept(task, broker):
    broker.status = BrokerStatus.SUSPENDED
    broker.save()
    with pytest.raises(DomainError) as raised:
        task_accept(task=task, broker=broker)
    assert raised.value.status == 403
    assert not TaskAcceptance.objects.exists()


# ---- counting results from events -----------------------------------------------------------------------


def test_a_referred_friends_test_drive_is_a_result_with_its_commission(accepted, broker, shanghai_dealer):
    referral = make_referral(broker)
    _test_drive(referral, dealer=shanghai_dealer)
    commission = Commission.objects.get(task=accepted)
    assert (commission.referral, commission.broker, commission.kind, commission.amount_fen) == (
        referral,
        broker,
        "cpl",
        200_00,
    )
    # Pending for the CPL hold (3 days), like the referral's own CPL.
    assert commission.status == CommissionStatus.PENDING
    assert commission.available_at == NOV_10 + timedelta(days=3)
    assert _committed(accepted) == 200_00
    created = Event.objects.get(name="commission.created", payload__task=accepted.public_id)
    assert (created.payload["amount_fen"], created.payload["broker_code"]) == (200_00, broker.code)


def test_the_same_result_counts_once(accepted, broker, shanghai_dealer):
    referral = make_referral(broker)
    _test_drive(referral, dealer=shanghai_dealer)
    _test_drive(referral, dealer=shanghai_dealer)
    assert len(_results(accepted)) == 1
    assert _committed(accepted) == 200_00


def test_results_count_only_for_brokers_who_accepted_before_them(task, broker, other_broker, shanghai_dealer):
    before = make_referral(broker)
    _test_drive(before, dealer=shanghai_dealer)
    task_accept(task=task, broker=broker)
    clock.advance(timedelta(minutes=1))
    after = make_referral(broker)
    _test_drive(after, dealer=shanghai_dealer)
    # The other broker never accepted.
    _test_drive(make_referral(other_broker), dealer=shanghai_dealer)
    assert [row[0] for row in _results(task)] == [after.public_id]


@pytest.mark.parametrize("where", ["other_city", "other_model", "after_the_end", "rejected", "closed"])
def test_results_outside_the_tasks_model_city_and_dates_do_not_count(
    accepted, broker, shanghai_dealer, hangzhou_city, where
):
    from forecourt.dealers.tests.factories import DealerFactory

    referral = make_referral(broker, stage=Stage.REJECTED if where == "rejected" else Stage.REFERRED)
    dealer = DealerFactory(city=hangzhou_city) if where == "other_city" else shanghai_dealer
    model = "aurora" if where == "other_model" else "nebula"
    if where == "closed":
        Task.objects.filter(pk=accepted.pk).update(status=TaskStatus.CLOSED)
    if where == "after_the_end":
        with clock.frozen_at(DEC_1 + timedelta(minutes=1)):
            _test_drive(referral, dealer=dealer, model=model)
    else:
        _test_drive(referral, dealer=dealer, model=model)
    assert _results(accepted) == []
    assert _committed(accepted) == 0


def test_a_task_without_model_or_city_counts_any(frozen, broker, shanghai_dealer):
    task = make_task()
    task_accept(task=task, broker=broker)
    _test_drive(make_referral(broker, model_code="aurora"), dealer=shanghai_dealer, model="aurora")
    assert len(_results(task)) == 1


def test_a_store_visit_task_counts_check_ins(frozen, broker, shanghai_dealer):
    task = make_task(goal="store_visit")
    task_accept(task=task, broker=broker)
    referral = make_referral(broker)
    with committed():
        event_record(
            "visit.checked_in",
            subject_type="appointment",
            subject_id="apt_visit",
            payload={
                "appointment_id": "apt_visit",
                "lead_id": referral.lead_public_id,
                "dealer": shanghai_dealer.public_id,
                "kind": "visit",
                "model": "nebula",
            },
        )
    assert [row[0] for row in _results(task)] == [referral.public_id]


def test_the_budget_is_never_exceeded(accepted, broker, shanghai_dealer):
    # ¥1,000 at ¥200 a result: five results, the sixth and seventh find no money left.
    referrals = [make_referral(broker) for _index in range(7)]
    for referral in referrals:
        _test_drive(referral, dealer=shanghai_dealer)
    assert len(_results(accepted)) == 5
    assert _committed(accepted) == 1_000_00
    # The CHECK constraint stands behind the conditional UPDATE.
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=accepted.pk).update(committed_fen=1_000_01)


def test_a_flagged_referrals_result_is_held_and_rejecting_it_gives_the_money_back(
    accepted, broker, shanghai_dealer, ops
):
    flagged = make_referral(broker, flags=[{"rule": "device_cluster", "evidence": {"device": "dev-1"}}])
    _test_drive(flagged, dealer=shanghai_dealer)
    commission = Commission.objects.get(task=accepted)
    assert (commission.status, commission.hold_reason) == (CommissionStatus.HELD, "device_cluster")
    assert _committed(accepted) == 200_00
    with committed():
        commission_decide(commission=commission, actor=ops, approve=False, note="同一设备批量注册")
    assert Commission.objects.get(pk=commission.pk).status == CommissionStatus.REJECTED
    assert _committed(accepted) == 0


def test_approving_a_held_result_keeps_its_money_committed(accepted, broker, shanghai_dealer, ops):
    flagged = make_referral(broker, flags=[{"rule": "ip_cluster", "evidence": {"ip": "203.0.113.9"}}])
    _test_drive(flagged, dealer=shanghai_dealer)
    with committed():
        commission_decide(commission=Commission.objects.get(task=accepted), actor=ops, approve=True)
    assert Commission.objects.get(task=accepted).status == CommissionStatus.PENDING
    assert _committed(accepted) == 200_00


def test_a_delivery_result_is_clawed_back_with_its_budget_when_the_car_is_returned(frozen, broker):
    from forecourt.referrals.services import referral_lose

    task = make_task(goal="delivery", kind="cps", amount_fen=2_000_00, budget_fen=10_000_00)
    task_accept(task=task, broker=broker)
    referral = make_referral(broker, stage=Stage.DELIVERED, order_number="FO123", delivered_at=clock.now())
    with committed():
        event_record(
            "referral.delivered",
            subject_type="referral",
            subject_id=referral.public_id,
            payload={"referral": referral.public_id, "broker_code": broker.code, "order": "FO123"},
        )
    commission = Commission.objects.get(task=task)
    assert (commission.kind, commission.amount_fen) == ("cps", 2_000_00)
    # Owed once the return window (7 days) has passed.
    assert commission.available_at == NOV_10 + timedelta(days=7)
    assert _committed(task) == 2_000_00
    with committed():
        referral_lose(order_number="FO123", reason="returned")
    assert Commission.objects.get(pk=commission.pk).status == CommissionStatus.CLAWED_BACK
    assert _committed(task) == 0


def test_settling_a_task_budget_is_idempotent(accepted, broker, shanghai_dealer):
    for _index in range(3):
        _test_drive(make_referral(broker), dealer=shanghai_dealer)
    clawed = Commission.objects.filter(task=accepted).order_by("pk").first()
    assert clawed is not None
    commission_claw_back(commission=clawed, reason="test")
    assert _committed(accepted) == 400_00
    assert task_budget_settle(task=accepted) == 0
    assert _committed(accepted) == 400_00


def test_ended_tasks_are_closed_by_the_sweeper(task):
    assert tasks_close_ended() == 0
    assert tasks_close_ended(at=DEC_1) == 1
    assert Task.objects.get(pk=task.pk).status == TaskStatus.CLOSED


def test_a_suspended_brokers_results_do_not_count(accepted, broker):
    referral = make_referral(broker)
    broker.status = BrokerStatus.SUSPENDED
    broker.save()
    assert task_results_record(result=TaskResult(referral=referral, goal="test_drive", at=NOV_10)) == []
    assert _committed(accepted) == 0


# ---- the budget, as a property ----------------------------------------------------------------------------


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["result", "claw_back", "reject"]), st.integers(0, 9)), max_size=14
    )
)
def test_committed_money_is_always_the_live_results_and_never_above_the_budget(
    frozen, shanghai_city, ops, steps
):
    broker = make_broker(f"prop-{Task.objects.count()}", city=shanghai_city)
    task = make_task(amount_fen=300_00, budget_fen=1_000_00)
    task_accept(task=task, broker=broker)
    referrals = [
        make_referral(broker, flags=[{"rule": "velocity", "evidence": {}}] if index % 3 == 0 else None)
        for index in range(10)
    ]
    for action, index in steps:
        referral = referrals[index]
        if action == "result":
            task_results_record(result=TaskResult(referral=referral, goal="test_drive", at=clock.now()))
            continue
        commission = Commission.objects.filter(task=task, referral=referral).first()
        if commission is None:
            continue
        if action == "claw_back":
            commission_claw_back(commission=commission, reason="order_cancelled")
        elif commission.status == CommissionStatus.HELD:
            commission_decide(commission=commission, actor=ops, approve=False)
            task_budget_settle(task=task)
    live = sum(
        Commission.objects.filter(task=task)
        .exclude(status__in=[CommissionStatus.CLAWED_BACK, CommissionStatus.REJECTED])
        .values_list("amount_fen", flat=True)
    )
    assert _committed(task) == live <= task.budget_fen
