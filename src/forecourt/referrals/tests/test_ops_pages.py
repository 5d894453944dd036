"""The programme's ops pages: held commissions with evidence, tasks, statements and payouts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user
from forecourt.core import clock
from forecourt.core.models import AuditEntry
from forecourt.referrals.models import (
    Commission,
    CommissionStatus,
    Payout,
    Referral,
    Statement,
    StatementStatus,
    Task,
    TaskStatus,
)
from forecourt.referrals.services import statement_issue

from .programme_cast import *  # noqa: F403
from .programme_cast import DEC_1, NOV_10, make_commission, make_referral, make_task

pytestmark = pytest.mark.django_db

NOV = date(2026, 11, 1)
DEC_3 = DEC_1 + timedelta(days=2, hours=10)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def ops_client(ops) -> Client:
    return _client(ops)


@pytest.fixture
def held(frozen, broker) -> Commission:
    earlier = [make_referral(broker) for _index in range(2)]
    referral = make_referral(
        broker,
        flags=[
            {
                "rule": "device_cluster",
                "evidence": {
                    "device": "dev-7f3a9c2b1e",
                    "count": 3,
                    "window_days": 7,
                    "since": (NOV_10 - timedelta(days=7)).isoformat(),
                    "referrals": [item.public_id for item in earlier],
                },
            }
        ],
    )
    return make_commission(
        referral, amount_fen=200_00, status=CommissionStatus.HELD, hold_reason="device_cluster"
    )


OPS_PAGES: list[tuple[str, list[str]]] = [
    ("referrals-ops:home", []),
    ("referrals-ops:tasks", []),
    ("referrals-ops:statements", []),
]


@pytest.mark.parametrize(("name", "args"), OPS_PAGES)
def test_the_ops_pages_are_not_found_for_anyone_but_ops(frozen, broker, name, args):
    consumer = make_user(username="consumer-x", role=Role.CONSUMER)
    for user in (broker.user, consumer):
        assert _client(user).get(reverse(name, args=args)).status_code == 404
    anonymous = Client().get(reverse(name, args=args))
    assert anonymous.status_code == 302


def test_writes_are_not_found_for_anyone_but_ops(held, broker):
    client = _client(broker.user)
    task = make_task()
    assert (
        client.post(
            reverse("referrals-ops:commission-decide", args=[held.public_id]), {"decision": "approve"}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("referrals-ops:task-change", args=[task.public_id, "close"])).status_code == 404
    )
    assert client.post(reverse("referrals-ops:statements-issue"), {"month": "2026-10"}).status_code == 404
    assert Commission.objects.get(pk=held.pk).status == CommissionStatus.HELD
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PUBLISHED
    assert not Statement.objects.exists()


# ---- held commissions ---------------------------------------------------------------------------------


def test_held_commissions_are_listed_with_their_evidence(held, ops_client):
    body = ops_client.get(reverse("referrals-ops:home")).content.decode()
    assert f'data-commission="{held.public_id}"' in body
    assert "Many referrals from one device" in body
    assert "dev-7f3a9c2b1e" in body
    assert "2026-11-03 10:00" in body  # the window's start, in Shanghai time
    referrals = held.referral.flags[0]["evidence"]["referrals"]
    assert all(public_id in body for public_id in referrals)
    assert 'id="held-count">1<' in body


def test_ops_approve_a_held_commission_and_the_referrals_flags_are_cleared(held, ops_client, ops):
    response = ops_client.post(
        reverse("referrals-ops:commission-decide", args=[held.public_id]),
        {"decision": "approve"},
        follow=True,
    )
    assert "Approved" in response.content.decode()
    assert Commission.objects.get(pk=held.pk).status == CommissionStatus.PENDING
    assert Referral.objects.get(pk=held.referral_id).flags[0]["cleared"] is True
    assert AuditEntry.objects.filter(action="referrals.commission_decided", actor=ops).count() == 1
    assert 'id="nothing-held"' in response.content.decode()


def test_ops_reject_a_held_commission_with_a_note(held, ops_client):
    ops_client.post(
        reverse("referrals-ops:commission-decide", args=[held.public_id]),
        {"decision": "reject", "note": "同一设备批量注册"},
    )
    commission = Commission.objects.get(pk=held.pk)
    assert (commission.status, commission.decision_note) == (CommissionStatus.REJECTED, "同一设备批量注册")


def test_a_decision_must_be_approve_or_reject(held, ops_client):
    response = ops_client.post(
        reverse("referrals-ops:commission-decide", args=[held.public_id]), {"decision": "maybe"}, follow=True
    )
    assert "Choose approve or reject." in response.content.decode()
    assert Commission.objects.get(pk=held.pk).status == CommissionStatus.HELD


def test_deciding_an_unknown_commission_is_not_found(frozen, ops_client):
    url = reverse("referrals-ops:commission-decide", args=["com_nope"])
    assert ops_client.post(url, {"decision": "approve"}).status_code == 404


def test_deciding_twice_says_it_is_not_held_any_more(held, ops_client):
    url = reverse("referrals-ops:commission-decide", args=[held.public_id])
    ops_client.post(url, {"decision": "approve"})
    response = ops_client.post(url, {"decision": "reject"}, follow=True)
    assert "not held for review" in response.content.decode()
    assert Commission.objects.get(pk=held.pk).status == CommissionStatus.PENDING


# ---- tasks ----------------------------------------------------------------------------------------------


def _task_form(**overrides):
    values = {
        "title": "星云 上海试驾 20 台",
        "description": "本月带朋友试驾星云，每台奖励 200 元",
        "goal": "test_drive",
        "kind": "",
        "model": "nebula",
        "city": "shanghai",
        "amount_yuan": "200",
        "budget_yuan": "10,000",
        "target_count": "20",
        "starts_on": "2026-11-01",
        "ends_on": "2026-11-30",
        "publish": "1",
    }
    values.update(overrides)
    return values


def test_ops_publish_a_task_from_the_form(frozen, ops_client, suv, shanghai_city):
    response = ops_client.post(reverse("referrals-ops:tasks"), _task_form())
    task = Task.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals-ops:task", args=[task.public_id])
    assert (task.status, task.amount_fen, task.budget_fen, task.target_count, task.city, task.model_code) == (
        TaskStatus.PUBLISHED,
        200_00,
        10_000_00,
        20,
        shanghai_city,
        "nebula",
    )
    # Whole days in Shanghai: the last day ends at 23:59:59.
    assert task.ends_at == DEC_1 - timedelta(seconds=1)
    page = ops_client.get(response["Location"]).content.decode()
    assert "星云 上海试驾 20 台" in page


@pytest.mark.parametrize(
    ("overrides", "marker"),
    [
        ({"amount_yuan": "abc"}, 'id="error-amount"'),
        ({"amount_yuan": "1.234"}, 'id="error-amount"'),
        ({"budget_yuan": "100"}, 'id="error-budget"'),
        ({"ends_on": "2026-10-01"}, 'id="error-ends"'),
        ({"title": ""}, 'id="error-title"'),
        ({"ends_on": "not a date"}, 'id="error-ends"'),
    ],
)
def test_a_bad_task_form_comes_back_with_the_error_beside_the_field(
    frozen, ops_client, suv, shanghai_city, overrides, marker
):
    response = ops_client.post(reverse("referrals-ops:tasks"), _task_form(**overrides))
    assert response.status_code == 422
    assert marker in response.content.decode()
    assert not Task.objects.exists()


def test_a_draft_is_saved_then_published_then_closed(frozen, ops_client, suv, shanghai_city):
    ops_client.post(reverse("referrals-ops:tasks"), _task_form(publish="0"))
    task = Task.objects.get()
    assert task.status == TaskStatus.DRAFT
    ops_client.post(reverse("referrals-ops:task-change", args=[task.public_id, "publish"]))
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PUBLISHED
    ops_client.post(reverse("referrals-ops:task-change", args=[task.public_id, "close"]))
    assert Task.objects.get(pk=task.pk).status == TaskStatus.CLOSED
    assert (
        ops_client.post(reverse("referrals-ops:task-change", args=[task.public_id, "explode"])).status_code
        == 404
    )


def test_the_task_page_lists_its_results(frozen, ops_client, broker):
    task = make_task()
    commission = make_commission(make_referral(broker), amount_fen=200_00, task=task, status="pending")
    body = ops_client.get(reverse("referrals-ops:task", args=[task.public_id])).content.decode()
    assert commission.public_id in body
    assert ops_client.get(reverse("referrals-ops:task", args=["tsk_nope"])).status_code == 404


# ---- statements and payouts --------------------------------------------------------------------------


def test_ops_preview_issue_and_pay_a_months_statements(broker, other_broker, ops_client, ops):
    with clock.frozen_at(NOV_10):
        make_commission(make_referral(broker), amount_fen=5_000_00, available_at=NOV_10 - timedelta(days=1))
        make_commission(
            make_referral(other_broker), amount_fen=300_00, available_at=NOV_10 - timedelta(days=1)
        )
    with clock.frozen_at(DEC_3):
        preview = ops_client.get(reverse("referrals-ops:statements"), {"month": "2026-11"}).content.decode()
        assert f'data-broker="{broker.code}"' in preview
        assert "¥4,200" in preview  # 5,000 less ¥800 withheld
        issued = ops_client.post(reverse("referrals-ops:statements-issue"), {"month": "2026-11"}, follow=True)
        body = issued.content.decode()
        assert "2 statements issued for 2026-11." in body
        assert 'id="nothing-due"' in body
        statement = Statement.objects.get(broker=broker)
        page = ops_client.get(reverse("referrals-ops:statement", args=[statement.public_id])).content.decode()
        assert 'id="payout-form"' in page
        paid = ops_client.post(
            reverse("referrals-ops:payout", args=[statement.public_id]), {"reference": "ICBC-9"}, follow=True
        )
    assert "Payout recorded" in paid.content.decode()
    assert 'id="payout-form"' not in paid.content.decode()
    assert Statement.objects.get(pk=statement.pk).status == StatementStatus.PAID
    assert Payout.objects.get(statement=statement).amount_fen == 4_200_00


def test_a_payout_without_a_reference_is_refused(broker, ops_client):
    with clock.frozen_at(DEC_3):
        make_commission(make_referral(broker), amount_fen=300_00, available_at=NOV_10)
        statement = statement_issue(broker=broker, month=NOV)
        response = ops_client.post(
            reverse("referrals-ops:payout", args=[statement.public_id]), {"reference": " "}, follow=True
        )
    assert "Enter the transfer&#x27;s reference." in response.content.decode()
    assert not Payout.objects.exists()


def test_ops_download_any_brokers_statement(broker, ops_client):
    with clock.frozen_at(DEC_3):
        make_commission(make_referral(broker), amount_fen=300_00, available_at=NOV_10)
        statement = statement_issue(broker=broker, month=NOV)
    response = ops_client.get(reverse("referrals-ops:statement-download", args=[statement.public_id, "csv"]))
    assert response.status_code == 200
    assert response.content.decode("utf-8").startswith("\ufeffStatement,")
    assert ops_client.get(reverse("referrals-ops:statement", args=["stm_nope"])).status_code == 404


def test_a_bad_month_shows_last_month(frozen, ops_client):
    response = ops_client.get(reverse("referrals-ops:statements"), {"month": "2026-99"})
    assert response.status_code == 200
    assert '<option value="2026-10" selected>' in response.content.decode()
