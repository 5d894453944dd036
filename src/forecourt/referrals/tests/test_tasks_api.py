"""The programme's API at /api/v1/broker: tasks, accepting, statements, honours, leaderboard."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.test import Client

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user
from forecourt.core import clock
from forecourt.referrals.models import CommissionStatus, Stage, TaskAcceptance
from forecourt.referrals.services import payout_record, statement_issue

from .programme_cast import *  # noqa: F403
from .programme_cast import DEC_1, NOV_10, make_commission, make_referral, make_task

pytestmark = pytest.mark.django_db

API = "/api/v1/broker"


def _client(user) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return client


@pytest.fixture
def api(broker) -> Client:
    return _client(broker.user)


def test_a_visitor_must_sign_in(frozen):
    for path in ("/tasks", "/statements", "/honours", "/leaderboard"):
        response = Client().get(API + path)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_someone_who_is_not_a_broker_gets_not_a_broker(frozen):
    consumer = make_user(username="consumer-api", role=Role.CONSUMER)
    response = _client(consumer).get(API + "/tasks")
    assert response.status_code == 404
    assert response.json()["code"] == "not_a_broker"
    assert response.json()["details"] == {"eligible": False}


def test_the_task_board_lists_running_tasks_with_money(frozen, api, broker, suv):
    task = make_task(model_code="nebula", city=broker.city, committed_fen=200_00)
    make_task(status="draft", title="草稿")
    body = api.get(API + "/tasks").json()
    assert [item["id"] for item in body["tasks"]] == [task.public_id]
    item = body["tasks"][0]
    assert item["amount"] == {"amount": 200_00, "currency": "CNY"}
    assert item["budget"] == {"amount": 1_000_00, "currency": "CNY"}
    assert item["remaining"] == {"amount": 800_00, "currency": "CNY"}
    assert (
        item["goal"],
        item["kind"],
        item["model"],
        item["city"],
        item["is_open"],
        item["accepted_at"],
    ) == (
        "test_drive",
        "cpl",
        "nebula",
        "shanghai",
        True,
        None,
    )


def test_a_broker_accepts_a_task_once(frozen, api, broker):
    task = make_task()
    first = api.post(f"{API}/tasks/{task.public_id}/accept")
    again = api.post(f"{API}/tasks/{task.public_id}/accept")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["task"]["accepted_at"] == NOV_10.isoformat()
    assert TaskAcceptance.objects.filter(task=task, broker=broker).count() == 1


def test_accepting_a_task_that_is_not_open_is_a_conflict(frozen, api):
    task = make_task(ends_at=NOV_10 - timedelta(minutes=1), starts_at=NOV_10 - timedelta(days=3))
    response = api.post(f"{API}/tasks/{task.public_id}/accept")
    assert response.status_code == 409
    assert response.json()["code"] == "task_not_open"
    assert not TaskAcceptance.objects.exists()


@pytest.mark.parametrize("task_id", ["tsk_unknown", "x" * 80, "draft"])
def test_an_unknown_or_draft_task_is_not_found(frozen, api, task_id):
    if task_id == "draft":
        task_id = make_task(status="draft").public_id
    assert api.get(f"{API}/tasks/{task_id}").status_code == 404
    response = api.post(f"{API}/tasks/{task_id}/accept")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not TaskAcceptance.objects.exists()


def test_a_task_shows_my_results(frozen, api, broker):
    task = make_task()
    TaskAcceptance.objects.create(task=task, broker=broker, accepted_at=NOV_10)
    make_commission(make_referral(broker), amount_fen=200_00, task=task, status=CommissionStatus.PENDING)
    body = api.get(f"{API}/tasks/{task.public_id}").json()["task"]
    assert body["mine"] == {"results": 1, "earned": {"amount": 200_00, "currency": "CNY"}}
    assert body["results"] == 1


def test_statements_list_and_detail_with_lines(broker, api, ops):
    referral = make_referral(broker)
    with clock.frozen_at(DEC_1 + timedelta(days=1)):
        commission = make_commission(referral, amount_fen=5_000_00, available_at=NOV_10)
        statement = statement_issue(broker=broker, month=date(2026, 11, 1))
        payout_record(statement=statement, reference="ICBC-77", actor=ops)
    listing = api.get(API + "/statements").json()["statements"]
    assert [(item["id"], item["month"], item["status"]) for item in listing] == [
        (statement.public_id, "2026-11", "paid")
    ]
    detail = api.get(f"{API}/statements/{statement.public_id}").json()["statement"]
    assert detail["gross"] == {"amount": 5_000_00, "currency": "CNY"}
    assert detail["tax_withheld"] == {"amount": 800_00, "currency": "CNY"}
    assert detail["net"] == {"amount": 4_200_00, "currency": "CNY"}
    assert detail["payout"]["reference"] == "ICBC-77"
    assert [(line["commission"], line["amount"]["amount"], line["clawback"]) for line in detail["lines"]] == [
        (commission.public_id, 5_000_00, False)
    ]


def test_another_brokers_statement_is_not_found(broker, other_broker):
    with clock.frozen_at(DEC_1 + timedelta(days=1)):
        statement = statement_issue(broker=other_broker, month=date(2026, 11, 1))
    response = _client(broker.user).get(f"{API}/statements/{statement.public_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_honours_show_level_and_badges(frozen, api, broker):
    for _index in range(3):
        make_referral(broker, stage=Stage.QUALIFIED, qualified_at=NOV_10)
    body = api.get(API + "/honours").json()
    assert body["level"]["code"] == "bronze"
    assert body["next_level"]["code"] == "silver"
    assert body["next_level"]["score_needed"] == 7
    assert body["score"] == 3
    assert body["results"] == {"referred": 3, "visits": 3, "sales": 0, "task_results": 0}
    assert [badge["code"] for badge in body["badges"]][:2] == ["first-referral", "first-visit"]


def test_the_leaderboard_masks_names_and_marks_me(frozen, api, broker, other_broker):
    make_referral(broker, stage=Stage.QUALIFIED, qualified_at=NOV_10)
    for _index in range(2):
        make_referral(other_broker, stage=Stage.QUALIFIED, qualified_at=NOV_10)
    body = api.get(API + "/leaderboard").json()
    assert (body["month"], body["city"]) == ("2026-11", "shanghai")
    assert [(row["rank"], row["name"], row["is_me"]) for row in body["rows"]] == [
        (1, "周*", False),
        (2, "林*", True),
    ]
    assert body["me"]["rank"] == 2


@pytest.mark.parametrize(
    ("params", "field"), [({"month": "2026-13"}, "month"), ({"city": "atlantis"}, "city")]
)
def test_a_bad_leaderboard_query_names_the_field(frozen, api, params, field):
    response = api.get(API + "/leaderboard", params)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == field


def test_a_malformed_city_is_refused_by_validation(frozen, api):
    response = api.get(API + "/leaderboard", {"city": "<script>"})
    assert response.status_code == 422
    assert json.loads(response.content)["details"][0]["field"] == "city"
